package sink

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// TestRunnerDeliversIdentityRecords follows the identity stream: each record arrives once, in
// order, as the inventory built it, with its org; the integration filter applies; an identity
// record goes to the alert destination unless one is named for it.
func TestRunnerDeliversIdentityRecords(t *testing.T) {
	st := openStore(t, t.TempDir())
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	body := func(class int) json.RawMessage {
		b, _ := json.Marshal(map[string]any{"class_uid": class})
		return b
	}
	recs := []store.IdentityRecord{
		{IntegrationID: 1, Kind: store.IdentityUser, UID: "00ua", At: t0, Body: body(5003)},
		{IntegrationID: 2, Kind: store.IdentityUser, UID: "00ub", At: t0, Body: body(5003)},
		{IntegrationID: 1, Kind: store.IdentityPosture, UID: "admin-weak-mfa", At: t0, Body: body(2008)},
	}
	if err := st.AppendIdentityRecords(ctx, recs); err != nil {
		t.Fatal(err)
	}
	fs := &funcSink{}
	cfg := testConfig("ids", &FileConfig{Path: "x"})
	cfg.Carry = []Kind{KindIdentity}
	startRunner(t, RunnerOptions{Store: st, Config: cfg, Sink: fs})
	waitFor(t, "the identity stream delivered", func() bool { return offsetOf(t, st, "sink/ids/identity") == 3 })
	var got []string
	for _, r := range fs.records() {
		if r.Kind != KindIdentity {
			t.Fatalf("record %+v", r)
		}
		got = append(got, r.ID+"="+string(r.Body))
	}
	want := []string{`user-1-00ua-1={"class_uid":5003}`, `user-2-00ub-2={"class_uid":5003}`, `posture-1-admin-weak-mfa-3={"class_uid":2008}`}
	if !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	if to := (Topics{Alert: "a"}).of(KindIdentity); to != "a" {
		t.Fatalf("identity destination %q, want the alert's", to)
	}
	if to := (Topics{Alert: "a", Identity: "i"}).of(KindIdentity); to != "i" {
		t.Fatalf("identity destination %q, want its own", to)
	}
	if err := st.AppendIdentityRecords(ctx, []store.IdentityRecord{{Kind: "bogus", Body: body(1)}}); err == nil {
		t.Fatal("an identity record of an unknown kind was stored")
	}
}

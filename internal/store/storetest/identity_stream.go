package storetest

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// identityStream: records get increasing seqs in order, read back exactly, paged, and trimming
// removes only old records every identity consumer has read.
func (su suite) identityStream(t *testing.T) {
	f := su.open(t)
	if last, err := f.s.LastIdentitySeq(f.ctx); err != nil || last != 0 {
		t.Fatalf("empty stream: last %d, %v", last, err)
	}
	rec := func(kind, uid string, at time.Time) store.IdentityRecord {
		b, _ := json.Marshal(map[string]string{"uid": uid})
		return store.IdentityRecord{IntegrationID: 3, Kind: kind, UID: uid, At: at, Body: b}
	}
	old, recent := epoch.Add(-48*time.Hour), epoch
	f.must(f.s.AppendIdentityRecords(f.ctx, []store.IdentityRecord{rec(store.IdentityUser, "u1", old), rec(store.IdentityPosture, "p1", old)}))
	f.must(f.s.AppendIdentityRecords(f.ctx, []store.IdentityRecord{rec(store.IdentityUser, "u2", recent)}))
	if err := f.s.AppendIdentityRecords(f.ctx, []store.IdentityRecord{{Kind: store.IdentityUser, UID: "x", Body: json.RawMessage("{")}}); err == nil {
		t.Fatal("a record whose body is not JSON was stored")
	}
	got, err := f.s.ReadIdentityStream(f.ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, r := range got {
		if r.Seq != int64(i+1) || r.IntegrationID != 3 || string(r.Body) != `{"uid":"`+r.UID+`"}` {
			t.Fatalf("record %d: %+v", i, r)
		}
		ids = append(ids, r.Kind+":"+r.UID)
	}
	if !slices.Equal(ids, []string{"user:u1", "posture:p1", "user:u2"}) || !got[2].At.Equal(recent) {
		t.Fatalf("stream %v", ids)
	}
	if page, err := f.s.ReadIdentityStream(f.ctx, 1, 1); err != nil || len(page) != 1 || page[0].Seq != 2 {
		t.Fatalf("page after 1: %+v %v", page, err)
	}
	if _, err := f.s.RegisterConsumer(f.ctx, "sink/x/identity", store.StreamIdentity, 1); err != nil {
		t.Fatal(err)
	}
	if n, err := f.s.TrimIdentityStream(f.ctx, epoch.Add(-time.Hour)); err != nil || n != 1 {
		t.Fatalf("trim with a consumer at 1: removed %d, %v (want 1)", n, err)
	}
	f.must(f.s.UnregisterConsumer(f.ctx, "sink/x/identity"))
	if n, err := f.s.TrimIdentityStream(f.ctx, epoch.Add(-time.Hour)); err != nil || n != 1 {
		t.Fatalf("trim without consumers: removed %d, %v (want the other old record)", n, err)
	}
	if last, _ := f.s.LastIdentitySeq(f.ctx); last != 3 {
		t.Fatalf("last seq %d after trimming, want 3 (seqs are never reused)", last)
	}
}

package storetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/idwatch/idwatch/internal/store"
)

func (su suite) apiKeys(t *testing.T) {
	f := su.open(t)
	h1, h2 := sha256.Sum256([]byte("key-one")), sha256.Sum256([]byte("key-two"))
	a, err := f.s.CreateAPIKey(f.ctx, store.APIKey{Name: "ops", Role: store.RoleAdmin, Hash: h1[:]})
	f.must(err)
	if a.ID == 0 || a.CreatedAt.IsZero() {
		t.Fatalf("created %+v", a)
	}
	if _, err := f.s.CreateAPIKey(f.ctx, store.APIKey{Name: "ops", Role: store.RoleViewer, Hash: h2[:]}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate name: %v, want ErrConflict", err)
	}
	if _, err := f.s.CreateAPIKey(f.ctx, store.APIKey{Name: "x", Role: "root", Hash: h2[:]}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("bad role: %v, want ErrInvalid", err)
	}
	got, err := f.s.APIKeyByHash(f.ctx, h1[:])
	f.must(err)
	if got.Name != "ops" || got.Role != store.RoleAdmin || !bytes.Equal(got.Hash, h1[:]) {
		t.Fatalf("by hash %+v", got)
	}
	if _, err := f.s.APIKeyByHash(f.ctx, h2[:]); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown hash: %v, want ErrNotFound", err)
	}
	f.must(f.s.TouchAPIKey(f.ctx, a.ID, epoch))
	if _, err := f.s.RevokeAPIKey(f.ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.RevokeAPIKey(f.ctx, "ops"); !errors.Is(err, store.ErrChanged) {
		t.Fatalf("second revoke: %v, want ErrChanged", err)
	}
	if _, err := f.s.RevokeAPIKey(f.ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoke unknown: %v, want ErrNotFound", err)
	}
	if _, err := f.s.APIKeyByHash(f.ctx, h1[:]); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoked key still authenticates: %v", err)
	}
	all, err := f.s.ListAPIKeys(f.ctx)
	f.must(err)
	if len(all) != 1 || all[0].Active() || !all[0].LastUsedAt.Equal(epoch) {
		t.Fatalf("list %+v", all)
	}
}

func (su suite) stats(t *testing.T) {
	f := su.open(t)
	a1, a2, a3 := sampleAlert("s1", epoch), sampleAlert("s2", epoch), sampleAlert("s3", epoch)
	a3.RuleID, a3.Severity = "other-rule", "low"
	if _, err := f.s.AppendAlerts(f.ctx, []store.Alert{a1, a2, a3}); err != nil {
		t.Fatal(err)
	}
	counts, err := f.s.CountAlerts(f.ctx)
	f.must(err)
	total := map[string]int64{}
	for _, c := range counts {
		total[c.Severity+"/"+c.RuleID] += c.Count
	}
	if total[a1.Severity+"/"+a1.RuleID] != 2 || total["low/other-rule"] != 1 || len(total) != 2 {
		t.Fatalf("alert counts %v", counts)
	}
	f.must(f.s.AddDeadLetter(f.ctx, store.DeadLetter{Sink: "siem", RecordID: "r1", Payload: []byte(`{}`), Error: "x", Attempts: 1, FirstFailure: epoch, LastFailure: epoch}))
	dl, err := f.s.CountDeadLetters(f.ctx)
	f.must(err)
	if dl["siem"] != 1 || len(dl) != 1 {
		t.Fatalf("dead letters %v", dl)
	}
}

package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

func (su suite) responses(t *testing.T) {
	f := su.open(t)
	a := store.ResponseAction{ID: "ra-1", Key: "k1", IntegrationID: 3, Action: "suspend", Options: map[string]string{"x": "1"},
		User: "jdoe@acme.com", RequestedBy: "rule:r1", Mode: "propose", RuleID: "r1", AlertID: "al1", Reason: "push fatigue",
		Status: store.ResponsePending}
	got, created, err := f.s.CreateResponseAction(f.ctx, a, store.ResponseRecord{By: "rule:r1", Kind: "requested", Text: "proposed"})
	f.must(err)
	if !created || got.Status != store.ResponsePending || got.Options["x"] != "1" || !got.CreatedAt.Equal(epoch) || got.AlertID != "al1" {
		t.Fatalf("created %v %+v", created, got)
	}
	// The same key again returns the stored action, whatever else differs.
	b := a
	b.ID, b.Action = "ra-2", "deactivate"
	again, created, err := f.s.CreateResponseAction(f.ctx, b, store.ResponseRecord{By: "cli:x", Kind: "requested"})
	f.must(err)
	if created || again.ID != "ra-1" || again.Action != "suspend" {
		t.Fatalf("same key: %v %+v", created, again)
	}
	// Transitions are conditional: only one approver wins.
	f.h.Clock.Advance(time.Minute)
	up, err := f.s.TransitionResponseAction(f.ctx, "ra-1", []string{store.ResponsePending}, "00u1", "approved by ana",
		store.ResponseRecord{By: "ana", Kind: "approved", Status: store.ResponseApproved})
	f.must(err)
	if up.Status != store.ResponseApproved || up.UserID != "00u1" || !up.UpdatedAt.Equal(epoch.Add(time.Minute)) {
		t.Fatalf("approved %+v", up)
	}
	if _, err := f.s.TransitionResponseAction(f.ctx, "ra-1", []string{store.ResponsePending}, "", "",
		store.ResponseRecord{By: "bob", Kind: "approved", Status: store.ResponseApproved}); !errors.Is(err, store.ErrChanged) {
		t.Fatalf("second approval: %v", err)
	}
	if _, err := f.s.TransitionResponseAction(f.ctx, "nope", []string{store.ResponsePending}, "", "",
		store.ResponseRecord{By: "bob", Kind: "approved", Status: store.ResponseApproved}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown action: %v", err)
	}
	f.must(f.s.AppendResponseRecord(f.ctx, store.ResponseRecord{ActionID: "ra-1", By: "idwatch", Kind: "call", Status: store.ResponseExecuting,
		Method: "POST", Path: "/api/v1/users/00u1/lifecycle/suspend", OktaStatus: 200, OktaRequestID: "req1"}))
	recs, err := f.s.ResponseRecords(f.ctx, "ra-1", 0, 10)
	f.must(err)
	if len(recs) != 3 || recs[0].Kind != "requested" || recs[0].Status != store.ResponsePending || recs[1].By != "ana" ||
		recs[2].Path != "/api/v1/users/00u1/lifecycle/suspend" || recs[2].OktaStatus != 200 || recs[2].Seq <= recs[1].Seq {
		t.Fatalf("records %+v", recs)
	}
	list, err := f.s.ListResponseActions(f.ctx, store.ResponseApproved, 10)
	f.must(err)
	if len(list) != 1 || list[0].ID != "ra-1" {
		t.Fatalf("list %+v", list)
	}
	if _, err := f.s.ListResponseActions(f.ctx, "bogus", 10); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("bad status: %v", err)
	}
	if _, _, err := f.s.CreateResponseAction(f.ctx, store.ResponseAction{ID: "x"}, store.ResponseRecord{}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("invalid action: %v", err)
	}
	// The trail survives a reopen.
	su.reopenStore(f)
	if recs, err := f.s.ResponseRecords(f.ctx, "", 0, 10); err != nil || len(recs) != 3 {
		t.Fatalf("after reopen: %d %v", len(recs), err)
	}
}

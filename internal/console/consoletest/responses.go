package consoletest

import (
	"context"
	"fmt"
	"slices"

	"github.com/idwatch/idwatch/internal/console"
)

// seedResponses adds a rule's proposal waiting for approval and an executed suspension.
func (b *Backend) seedResponses() {
	now := b.Now()
	b.responses = []console.ResponseDetail{
		{ResponseRow: console.ResponseRow{ID: "ra-pending1", Action: "clear_sessions", User: "dana.ruiz@acme.com", Integration: "acme-prod", Status: "pending",
			RequestedBy: "rule:okta_mfa_push_fatigue", Mode: "propose", Reason: "push fatigue accepted", AlertID: "al-7f3a", CreatedAt: now.Add(-20 * 60e9), UpdatedAt: now.Add(-20 * 60e9)},
			Trail: []console.ResponseStep{{At: now.Add(-20 * 60e9), By: "rule:okta_mfa_push_fatigue", Kind: "proposed", Status: "pending", Text: "proposed: push fatigue accepted"}}},
		{ResponseRow: console.ResponseRow{ID: "ra-done1", Action: "suspend", User: "lee.chen@acme.com", Integration: "acme-prod", Status: "executed",
			RequestedBy: "api:first-admin", Mode: "manual", Reason: "INC-118", Result: "verified: status SUSPENDED", CreatedAt: now.Add(-3 * 3600e9), UpdatedAt: now.Add(-3 * 3600e9)},
			Trail: []console.ResponseStep{
				{At: now.Add(-3 * 3600e9), By: "api:first-admin", Kind: "requested", Status: "approved", Text: "requested: INC-118"},
				{At: now.Add(-3 * 3600e9), By: "idwatch", Kind: "call", Status: "executing", Call: "POST /api/v1/users/00ulee/lifecycle/suspend → 200"},
				{At: now.Add(-3 * 3600e9), By: "idwatch", Kind: "verified", Status: "executed", Text: "status SUSPENDED"}}},
	}
}

// Responses implements console.Backend.
func (b *Backend) Responses(ctx context.Context, status string) ([]console.ResponseRow, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []console.ResponseRow
	for _, r := range b.responses {
		if status == "" || r.Status == status {
			out = append(out, r.ResponseRow)
		}
	}
	return out, nil
}

// Response implements console.Backend.
func (b *Backend) Response(ctx context.Context, id string) (console.ResponseDetail, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range b.responses {
		if r.ID == id {
			return r, nil
		}
	}
	return console.ResponseDetail{}, console.ErrNotFound
}

// RequestResponse implements console.Backend.
func (b *Backend) RequestResponse(ctx context.Context, by console.Principal, req console.ResponseRequest) (console.ResponseOutcome, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	call := fmt.Sprintf("POST /api/v1/users/%s/lifecycle/%s", req.User, req.Action)
	if req.Mode == console.ResponseDryRun {
		return console.ResponseOutcome{Calls: []string{call}, Checks: []string{"GET /api/v1/users/" + req.User}}, nil
	}
	status := "pending"
	if req.Mode == console.ResponseRun {
		status = "executed"
	}
	id := fmt.Sprintf("ra-%d", len(b.responses)+1)
	b.responses = slices.Insert(b.responses, 0, console.ResponseDetail{ResponseRow: console.ResponseRow{ID: id, Action: req.Action, User: req.User,
		Integration: req.Integration, Status: status, RequestedBy: "api:" + by.Name, Mode: req.Mode, Reason: req.Reason, AlertID: req.AlertID,
		CreatedAt: b.Now(), UpdatedAt: b.Now()}, Trail: []console.ResponseStep{{At: b.Now(), By: "api:" + by.Name, Kind: req.Mode, Status: status}}})
	b.record(by, "respond %s %s %s", req.Mode, req.Action, req.User)
	return console.ResponseOutcome{ID: id, Status: status, Calls: []string{call}}, nil
}

// DecideResponse implements console.Backend.
func (b *Backend) DecideResponse(ctx context.Context, by console.Principal, id string, approve, confirm bool, note string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range b.responses {
		r := &b.responses[i]
		if r.ID != id {
			continue
		}
		if r.Status != "pending" {
			return &console.Error{Message: "The action is " + r.Status + ", not pending", Fix: "Only a pending action can be approved or rejected."}
		}
		r.Status = "rejected"
		if approve {
			r.Status = "executed"
		}
		r.Trail = append(r.Trail, console.ResponseStep{At: b.Now(), By: "api:" + by.Name, Kind: r.Status, Status: r.Status, Text: note})
		b.record(by, "response %s %s", id, r.Status)
		return nil
	}
	return console.ErrNotFound
}

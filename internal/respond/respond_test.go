package respond

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/store"
)

func kinds(recs []store.ResponseRecord) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Kind)
	}
	return out
}

func TestEachActionChangesOktaLogsAndAudits(t *testing.T) {
	for _, tc := range []struct {
		action    Action
		before    func(o *org)
		opts      *Options
		eventType string
		changed   func(o *org) bool
	}{
		{action: Suspend, eventType: "user.lifecycle.suspend", changed: func(o *org) bool { return o.status(jdoe) == oktasim.StatusSuspended }},
		{action: Unsuspend, eventType: "user.lifecycle.unsuspend",
			before:  func(o *org) { o.exec(Request{Action: Suspend, User: jdoe}) },
			changed: func(o *org) bool { return o.status(jdoe) == oktasim.StatusActive }},
		{action: Deactivate, eventType: "user.lifecycle.deactivate", changed: func(o *org) bool { return o.status(jdoe) == oktasim.StatusDeprovisioned }},
		{action: ClearSessions, eventType: "user.session.clear", opts: &Options{OAuthTokens: true, ForgetDevices: false},
			changed: func(o *org) bool {
				c, ok := o.sim.SessionsCleared(jdoe)
				return ok && c.OAuthTokens && !c.ForgetDevices && c.At.Equal(t0)
			}},
		{action: ResetFactors, eventType: "user.mfa.factor.reset_all", changed: func(o *org) bool {
			for _, u := range o.sim.Users() {
				if u.ID == jdoe {
					return len(u.Factors) == 0
				}
			}
			return false
		}},
		{action: ExpirePassword, eventType: "user.account.expire_password", changed: func(o *org) bool { return o.status(jdoe) == oktasim.StatusPasswordExpired }},
	} {
		t.Run(string(tc.action), func(t *testing.T) {
			o := newOrg(t)
			if tc.before != nil {
				tc.before(o)
			}
			if tc.changed(o) {
				t.Fatal("the change is there before the action")
			}
			seq := o.lastSeq()
			out := o.exec(Request{Action: tc.action, User: "jdoe@acme.example", Options: tc.opts, Reason: "INC-7 containment", Confirm: true})
			a := out.Action
			if a.Status != store.ResponseExecuted || !strings.HasPrefix(a.Result, "verified: ") || a.UserID != jdoe {
				t.Fatalf("action %+v", a)
			}
			if !tc.changed(o) {
				t.Fatal("oktasim's state did not change")
			}
			evs := o.events(tc.eventType, jdoe)
			if len(evs) != 1 || evs[0]["actor"].(map[string]any)["id"] != o.admin.ID {
				t.Fatalf("%s events %v", tc.eventType, evs)
			}
			// Exactly one write reached Okta, and it is the one the outcome and the trail name.
			w := o.writes(seq)
			if len(w) != 1 || len(out.Calls) != 1 || w[0].Method != out.Calls[0].Method || w[0].Path != out.Calls[0].Path || w[0].Query != out.Calls[0].Query {
				t.Fatalf("writes %+v, calls %+v", w, out.Calls)
			}
			recs := o.trail(a.ID)
			k := kinds(recs)
			if k[0] != "requested" || k[1] != "claimed" || k[len(k)-1] != "verified" || !slices.Contains(k, "check") || !slices.Contains(k, "read-back") {
				t.Fatalf("trail kinds %v", k)
			}
			if recs[0].By != "cli:ana" || !strings.Contains(recs[0].Text, "INC-7 containment") {
				t.Fatalf("requested record %+v", recs[0])
			}
			i := slices.IndexFunc(recs, func(r store.ResponseRecord) bool { return r.Kind == "call" })
			call := recs[i]
			if call.Method != w[0].Method || call.Path != w[0].Path || call.Query != w[0].Query || call.OktaStatus != w[0].Status || call.OktaRequestID != w[0].RequestID || call.OktaRequestID == "" {
				t.Fatalf("call record %+v, request %+v", call, w[0])
			}
			for _, r := range recs {
				if strings.Contains(r.Text+r.Query+r.Path, o.token) {
					t.Fatal("the token reached the audit trail")
				}
			}
		})
	}
}

func TestIdempotencyKey(t *testing.T) {
	o := newOrg(t)
	first := o.exec(Request{Action: Suspend, User: jdoe, Key: "ticket-42"})
	seq := o.lastSeq()
	again := o.exec(Request{Action: Suspend, User: jdoe, Key: "ticket-42", By: "cli:bob"})
	if !again.Replayed || again.Action.ID != first.Action.ID || again.Action.Status != store.ResponseExecuted || again.Action.Result != first.Action.Result {
		t.Fatalf("replay %+v vs %+v", again, first)
	}
	if reqs := o.sim.RequestLog(seq); len(reqs) != 0 {
		t.Fatalf("the replay sent %d requests to Okta", len(reqs))
	}
	if evs := o.events("user.lifecycle.suspend", jdoe); len(evs) != 1 {
		t.Fatalf("%d suspend events", len(evs))
	}
	// Without a key, a second suspend is a new action that finds the user suspended and sends nothing.
	out := o.exec(Request{Action: Suspend, User: jdoe})
	if out.Replayed || out.Action.Status != store.ResponseExecuted || !strings.Contains(out.Action.Result, "already SUSPENDED") || len(o.writes(seq)) != 0 {
		t.Fatalf("second suspend %+v", out.Action)
	}
}

func TestDryRunShowsTheCallsAndChangesNothing(t *testing.T) {
	o := newOrg(t)
	seq := o.lastSeq()
	out := o.exec(Request{Action: ClearSessions, User: "jdoe@acme.example", DryRun: true, Options: &Options{OAuthTokens: true, ForgetDevices: true}})
	if out.Refusal != "" || out.UserID != jdoe || len(out.Calls) != 2 || len(o.writes(seq)) != 0 {
		t.Fatalf("dry run %+v, writes %v", out, o.writes(seq))
	}
	if got := out.Calls[0].String(); got != "DELETE /api/v1/users/"+jdoe+"/sessions?forgetDevices=true&oauthTokens=true" {
		t.Fatalf("write call %s", got)
	}
	if len(out.Checks) == 0 || out.Checks[0].Path != "/api/v1/users/jdoe@acme.example" {
		t.Fatalf("checks %+v", out.Checks)
	}
	if list, _ := o.r.List(o.ctx, "", 10); len(list) != 0 {
		t.Fatalf("a dry run stored %+v", list)
	}
	// The real run sends exactly the call the dry run showed.
	real := o.exec(Request{Action: ClearSessions, User: "jdoe@acme.example", Options: &Options{OAuthTokens: true, ForgetDevices: true}})
	w := o.writes(seq)
	if len(w) != 1 || w[0].Method+" "+w[0].Path+"?"+w[0].Query != out.Calls[0].String() || real.Action.Status != store.ResponseExecuted {
		t.Fatalf("real writes %+v", w)
	}
}

func TestGuardRailsRefuse(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    Config
		action Action
		user   func(o *org) string
		want   string
	}{
		{name: "own account", action: Suspend, user: func(o *org) string { return o.admin.ID }, want: "API token acts as"},
		{name: "own account by login", action: ClearSessions, user: func(o *org) string { return o.admin.Profile["login"].(string) }, want: "API token acts as"},
		{name: "last super admin", action: Suspend, user: func(*org) string { return root }, want: "last active super admin"},
		{name: "last super admin reset factors", action: ResetFactors, user: func(*org) string { return root }, want: "last active super admin"},
		{name: "protected user by login", cfg: Config{ProtectedUsers: []string{"JDOE@acme.example"}}, action: Suspend, user: func(*org) string { return jdoe }, want: "protected user"},
		{name: "protected group by name", cfg: Config{ProtectedGroups: []string{"executives"}}, action: Suspend, user: func(*org) string { return vip }, want: "protected group Executives"},
		{name: "protected group by id", cfg: Config{ProtectedGroups: []string{groupX}}, action: ExpirePassword, user: func(*org) string { return "ceo@acme.example" }, want: "protected group"},
		{name: "action not enabled", cfg: Config{Actions: []string{"clear_sessions"}}, action: Suspend, user: func(*org) string { return jdoe }, want: "not among respond.actions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrg(t, withConfig(tc.cfg))
			ref := tc.user(o)
			before := o.status(o.resolve(ref))
			seq := o.lastSeq()
			dry := o.exec(Request{Action: tc.action, User: ref, DryRun: true})
			if !strings.Contains(dry.Refusal, tc.want) || len(dry.Calls) != 0 {
				t.Fatalf("dry run %+v", dry)
			}
			out := o.exec(Request{Action: tc.action, User: ref, Reason: "test"})
			if out.Action.Status != store.ResponseRefused || !strings.Contains(out.Action.Result, tc.want) || !strings.Contains(out.Refusal, tc.want) {
				t.Fatalf("outcome %+v", out)
			}
			if w := o.writes(seq); len(w) != 0 || o.status(o.resolve(ref)) != before {
				t.Fatalf("a refused action wrote %+v", w)
			}
			if k := kinds(o.trail(out.Action.ID)); k[len(k)-1] != "refused" {
				t.Fatalf("trail %v", k)
			}
		})
	}
}

// resolve maps a login to its id.
func (o *org) resolve(ref string) string {
	for _, u := range o.sim.Users() {
		if u.ID == ref || strings.EqualFold(u.Profile["login"].(string), ref) {
			return u.ID
		}
	}
	o.t.Fatalf("no user %s", ref)
	return ""
}

func TestSuperAdminWithAnotherActiveSuperAdminCanBeSuspended(t *testing.T) {
	o := newOrg(t)
	r2 := user(root2, "root2@acme.example", oktasim.StatusActive)
	r2.AdminRoles = []oktasim.Role{oktasim.RoleSuperAdmin}
	users := o.sim.Users()
	if err := o.sim.SetUsers(append(users[:3:3], r2)); err != nil {
		t.Fatal(err)
	}
	out := o.exec(Request{Action: Suspend, User: root})
	if out.Action.Status != store.ResponseExecuted {
		t.Fatalf("suspend with a second super admin: %+v", out.Action)
	}
	// Now root2 is the last active one.
	out = o.exec(Request{Action: Suspend, User: root2})
	if out.Action.Status != store.ResponseRefused || !strings.Contains(out.Refusal, "last active super admin") {
		t.Fatalf("suspend of the last one: %+v", out.Action)
	}
}

func TestDeactivateNeedsConfirmation(t *testing.T) {
	o := newOrg(t)
	if _, err := o.r.Execute(o.ctx, Request{IntegrationID: o.inID, Action: Deactivate, User: jdoe, By: "cli:ana"}); !errors.Is(err, ErrConfirm) {
		t.Fatalf("unconfirmed deactivate: %v", err)
	}
	if o.status(jdoe) != oktasim.StatusActive {
		t.Fatal("deactivated without confirmation")
	}
}

func TestMissingPermissionIsNamed(t *testing.T) {
	// The token's admin can read but has no custom role: Okta answers 403 E0000006.
	o := newOrg(t, withPerms())
	for _, tc := range []struct {
		action Action
		want   string
	}{{Suspend, `"Edit user's lifecycle states"`}, {ResetFactors, `"Edit user's authenticator operations"`}, {ClearSessions, `"Clear user sessions"`}} {
		out := o.exec(Request{Action: tc.action, User: jdoe})
		a := out.Action
		if a.Status != store.ResponseFailed || !strings.Contains(a.Result, tc.want) || !strings.Contains(a.Result, "E0000006") || !strings.Contains(a.Result, "okta.users.manage") {
			t.Fatalf("%s: %+v", tc.action, a)
		}
		recs := o.trail(a.ID)
		i := slices.IndexFunc(recs, func(r store.ResponseRecord) bool { return r.Kind == "call" })
		if i < 0 || recs[i].OktaStatus != 403 || recs[i].OktaCode != "E0000006" {
			t.Fatalf("%s trail %+v", tc.action, recs)
		}
	}
	// A service app without the scope: Okta's 403 insufficient_scope names the scope to grant.
	msg := explain(ResetFactors, fmt.Errorf("wrapped: %w", &okta.APIError{Kind: okta.KindScope, Status: 403, OAuthError: "insufficient_scope",
		Method: "POST", Path: "/api/v1/users/00u1/lifecycle/reset_factors", ServiceApp: true}))
	if !strings.Contains(msg, "scope okta.users.manage") || !strings.Contains(msg, "insufficient_scope") || !strings.Contains(msg, "Okta API Scopes") {
		t.Fatalf("scope: %s", msg)
	}
}

func TestResponseFeatureRequired(t *testing.T) {
	o := newOrg(t, withFeatures("inventory"))
	out := o.exec(Request{Action: Suspend, User: jdoe})
	if out.Action.Status != store.ResponseFailed || !strings.Contains(out.Action.Result, "--features inventory,response") || o.status(jdoe) != oktasim.StatusActive {
		t.Fatalf("%+v", out.Action)
	}
}

func TestProposeWaitsForApproval(t *testing.T) {
	o := newOrg(t)
	seq := o.lastSeq()
	p, err := o.r.Propose(o.ctx, Request{IntegrationID: o.inID, Action: Suspend, User: jdoe, By: "rule:r1", Mode: ModePropose, RuleID: "r1", AlertID: "al1", Key: "al1/suspend"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Action.Status != store.ResponsePending || len(o.sim.RequestLog(seq)) != 0 || o.status(jdoe) != oktasim.StatusActive {
		t.Fatalf("proposal %+v", p.Action)
	}
	if list, _ := o.r.List(o.ctx, store.ResponsePending, 10); len(list) != 1 {
		t.Fatalf("pending %v", list)
	}
	out, err := o.r.Approve(o.ctx, p.Action.ID, "ana", false)
	if err != nil || out.Action.Status != store.ResponseExecuted || o.status(jdoe) != oktasim.StatusSuspended {
		t.Fatalf("approve: %+v %v", out.Action, err)
	}
	if _, err := o.r.Approve(o.ctx, p.Action.ID, "bob", false); !errors.Is(err, store.ErrChanged) {
		t.Fatalf("second approval: %v", err)
	}
	k := kinds(o.trail(p.Action.ID))
	if k[0] != "proposed" || k[1] != "approved" || k[len(k)-1] != "verified" {
		t.Fatalf("trail %v", k)
	}
	// A rejected proposal never reaches Okta.
	p2, _ := o.r.Propose(o.ctx, Request{IntegrationID: o.inID, Action: ExpirePassword, User: jdoe, By: "rule:r1", Mode: ModePropose, Key: "al2/x"})
	seq = o.lastSeq()
	if a, err := o.r.Reject(o.ctx, p2.Action.ID, "ana", "false positive"); err != nil || a.Status != store.ResponseRejected {
		t.Fatalf("reject %+v %v", a, err)
	}
	if _, err := o.r.Approve(o.ctx, p2.Action.ID, "ana", false); !errors.Is(err, store.ErrChanged) || len(o.sim.RequestLog(seq)) != 0 {
		t.Fatalf("approve after reject: %v", err)
	}
}

// Okta commits a System Log event seconds after the call; the read-back of a session clear waits
// for it (on the injected clock) rather than failing at once, and fails when it never comes.
func TestClearSessionsReadBackWaitsForTheEvent(t *testing.T) {
	for _, tc := range []struct {
		delay time.Duration
		want  string
	}{{8 * time.Second, store.ResponseExecuted}, {time.Hour, store.ResponseFailed}} {
		o := newOrg(t, withSim(oktasim.Config{LateShare: 1, LateDelay: tc.delay}))
		clk := o.clock.(*clock.Manual)
		done := make(chan Outcome, 1)
		go func() {
			out, _ := o.r.Execute(o.ctx, Request{IntegrationID: o.inID, Action: ClearSessions, User: jdoe, By: "cli:ana"})
			done <- out
		}()
		var out Outcome
	wait:
		for {
			select {
			case out = <-done:
				break wait
			default:
			}
			ctx, cancel := context.WithTimeout(o.ctx, 50*time.Millisecond)
			if clk.WaitForTimers(ctx, 1) == nil {
				clk.Advance(logReadBackWait)
			}
			cancel()
		}
		if out.Action.Status != tc.want {
			t.Fatalf("delay %s: %+v", tc.delay, out.Action)
		}
		if tc.want == store.ResponseFailed && !strings.Contains(out.Action.Result, "no user.session.clear event") {
			t.Fatalf("result %s", out.Action.Result)
		}
	}
}

package respond

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/oktasim/scenario"
	"github.com/idwatch/idwatch/internal/process"
	"github.com/idwatch/idwatch/internal/store"
)

// containRule closes a push-fatigue attack that ended in an accepted push: it correlates the
// built-in burst and success rules and contains the user at once.
const containRule = `title: Push fatigue accepted - contain the account
id: 5b0c7a0e-4f55-4a43-9b6e-2f0d7f3c9a11
correlation:
    type: temporal_ordered
    rules:
        - idwatch_push_bombing_burst
        - idwatch_user_mfa_success
    group-by:
        - actor.alternateId
    timespan: 20m
level: critical
response:
    mode: auto
    actions: [clear_sessions, suspend]
    oauth_tokens: true
`

// The push fatigue storyline, with a rule in auto mode, ends with the user's sessions cleared and
// the user suspended inside the one processing cycle that saw the accepted push.
func TestPushFatigueContainedInOneCycle(t *testing.T) {
	o := newOrg(t, withSystemClock())
	now := o.clock.Now()
	w, err := oktasim.NewScenarioWorld(scenario.Config{Seed: 3, Users: 40, OrgDomain: "acme.example", Start: now.Add(-2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	r1 := user(root, "root@acme.example", oktasim.StatusActive)
	r1.AdminRoles = []oktasim.Role{oktasim.RoleSuperAdmin}
	if err := o.sim.SetUsers(append(w.Users(), r1)); err != nil {
		t.Fatal(err)
	}
	story, err := w.Storyline("mfa_push_fatigue", now.Add(-30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	// The accepted push is the latest successful MFA. The attack is rebased so that it is
	// published now and the journal holds the attack up to it, as a collector would have it.
	var accepted *event.LogEvent
	for _, ev := range story.Events {
		if ev.EventType == "user.authentication.auth_via_mfa" && ev.Outcome != nil && ev.Outcome.Result == "SUCCESS" &&
			(accepted == nil || ev.Published.After(accepted.Published)) {
			accepted = ev
		}
	}
	if accepted == nil {
		t.Fatal("the storyline has no accepted push")
	}
	shift, cutoff := now.Sub(accepted.Published), accepted.Published
	var page []store.Event
	for _, ev := range story.Events {
		if ev.Published.After(cutoff) {
			continue
		}
		ev.Published = ev.Published.Add(shift)
		raw, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		page = append(page, store.Event{UUID: ev.UUID, Published: ev.Published, EventType: ev.EventType, Raw: raw})
	}
	victim := story.Events[0].Actor.AlternateID
	var victimID string
	for _, u := range o.sim.Users() {
		if u.Profile["login"] == victim {
			victimID = u.ID
		}
	}
	if victimID == "" || o.status(victimID) != oktasim.StatusActive {
		t.Fatalf("victim %s (%s) is not an active user of the org", victim, victimID)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "contain.yml"), []byte(containRule), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := process.New(o.ctx, process.Config{Store: o.st, RulesDir: dir, AlertConsumers: []process.AlertConsumer{o.r}})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.r.Register(o.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := o.st.AppendPage(o.ctx, o.inID, page, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := p.ProcessAvailable(o.ctx); err != nil { // one processing cycle
		t.Fatal(err)
	}
	if o.status(victimID) != oktasim.StatusSuspended {
		t.Fatalf("victim is %s after one cycle", o.status(victimID))
	}
	if c, ok := o.sim.SessionsCleared(victimID); !ok || !c.OAuthTokens {
		t.Fatalf("sessions not cleared: %+v", c)
	}
	acts, err := o.r.List(o.ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range acts {
		if a.Status != store.ResponseExecuted || a.Mode != ModeAuto || a.RuleID != "5b0c7a0e-4f55-4a43-9b6e-2f0d7f3c9a11" || a.AlertID == "" || a.UserID != victimID {
			t.Fatalf("action %+v", a)
		}
		got = append(got, a.Action)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"clear_sessions", "suspend"}) {
		t.Fatalf("actions %v", got)
	}
	susp := o.events("user.lifecycle.suspend", victimID)
	if len(susp) != 1 || len(o.events("user.session.clear", victimID)) != 1 {
		t.Fatalf("events: %d suspend", len(susp))
	}
	at, err := event.ParseTime(susp[0]["published"].(string))
	if err != nil {
		t.Fatal(err)
	}
	lat := at.Sub(accepted.Published)
	t.Logf("latency from the accepted push's published (%s) to the suspension's (%s): %s",
		accepted.Published.Format(time.RFC3339Nano), at.Format(time.RFC3339Nano), lat)
	if lat < 0 {
		t.Fatalf("suspended before the accepted push: %s", lat)
	}
	// A second cycle (or a restart re-reading the alert) acts no more.
	if _, err := p.ProcessAvailable(o.ctx); err != nil {
		t.Fatal(err)
	}
	if acts, _ := o.r.List(o.ctx, "", 10); len(acts) != 2 || len(o.events("user.lifecycle.suspend", victimID)) != 1 {
		t.Fatalf("second cycle: %d actions", len(acts))
	}
}

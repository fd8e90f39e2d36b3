package respond

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/detect/sigma"
	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/store"
)

// ruleAlert is a stored alert of rule id about login whose rule has resp.
func ruleAlert(id string, at time.Time, login string, resp *sigma.Response) store.Alert {
	body, _ := json.Marshal(map[string]any{"message": "test alert", "finding_info": map[string]any{"title": "t"},
		"unmapped": map[string]any{"group_by": []map[string]string{{"field": "actor.alternateId", "value": login}}, "response": resp}})
	return store.Alert{ID: id, RuleID: "rule-" + id, Severity: "high", Time: at, IntegrationID: 7, Body: body}
}

func TestRuleResponses(t *testing.T) {
	o := newOrg(t, withConfig(Config{MaxRuleMode: ModeAuto}))
	if err := o.r.Register(o.ctx); err != nil {
		t.Fatal(err)
	}
	old := ruleAlert("a0", t0, "jdoe@acme.example", &sigma.Response{Mode: "auto", Actions: []string{"suspend"}})
	if _, err := o.st.AppendAlerts(o.ctx, []store.Alert{old}); err != nil {
		t.Fatal(err)
	}
	// An alert stored before the consumer registered is history: never acted on.
	o2 := newOrg(t)
	if _, err := o2.st.AppendAlerts(o2.ctx, []store.Alert{old}); err != nil {
		t.Fatal(err)
	}
	if err := o2.r.ConsumeAlerts(o2.ctx); err != nil {
		t.Fatal(err)
	}
	if l, _ := o2.r.List(o2.ctx, "", 10); len(l) != 0 || o2.status(jdoe) != oktasim.StatusActive {
		t.Fatalf("acted on history: %+v", l)
	}

	alerts := []store.Alert{
		ruleAlert("a1", t0, "jdoe@acme.example", &sigma.Response{Mode: "propose", Actions: []string{"expire_password"}}),
		ruleAlert("a2", t0.Add(-3*time.Hour), "jdoe@acme.example", &sigma.Response{Mode: "auto", Actions: []string{"reset_factors"}}),
		ruleAlert("a3", t0, "ceo@acme.example", &sigma.Response{Actions: []string{"suspend"}}), // no mode: the default, off
		ruleAlert("a4", t0, "nobody@acme.example", nil),
	}
	if _, err := o.st.AppendAlerts(o.ctx, alerts); err != nil {
		t.Fatal(err)
	}
	if err := o.r.ConsumeAlerts(o.ctx); err != nil {
		t.Fatal(err)
	}
	// a0 was stored after registration: auto, executed.
	if o.status(jdoe) != oktasim.StatusSuspended {
		t.Fatalf("a0 not executed: %s", o.status(jdoe))
	}
	pending, err := o.r.List(o.ctx, store.ResponsePending, 10)
	if err != nil {
		t.Fatal(err)
	}
	byAlert := map[string]store.ResponseAction{}
	for _, a := range pending {
		byAlert[a.AlertID] = a
	}
	if a := byAlert["a1"]; a.Action != "expire_password" || a.Mode != ModePropose || a.RequestedBy != "rule:rule-a1" {
		t.Fatalf("a1 %+v", a)
	}
	if a := byAlert["a2"]; a.Action != "reset_factors" || a.Mode != ModePropose {
		t.Fatalf("a stale auto alert must be proposed: %+v", a)
	}
	if all, _ := o.r.List(o.ctx, "", 10); len(all) != 3 {
		t.Fatalf("actions %+v", all)
	}
	// Reading the stream again (a restart with the offset lost) acts no more.
	if err := o.st.ResetOffset(o.ctx, Consumer, 0); err != nil {
		t.Fatal(err)
	}
	if err := o.r.ConsumeAlerts(o.ctx); err != nil {
		t.Fatal(err)
	}
	if all, _ := o.r.List(o.ctx, "", 10); len(all) != 3 || len(o.events("user.lifecycle.suspend", jdoe)) != 1 {
		t.Fatalf("replay acted again: %d actions", len(all))
	}
	// The configuration's ceiling turns auto into propose.
	o3 := newOrg(t, withConfig(Config{MaxRuleMode: ModePropose}))
	if err := o3.r.Register(o3.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := o3.st.AppendAlerts(o3.ctx, []store.Alert{old}); err != nil {
		t.Fatal(err)
	}
	if err := o3.r.ConsumeAlerts(o3.ctx); err != nil {
		t.Fatal(err)
	}
	if l, _ := o3.r.List(o3.ctx, store.ResponsePending, 10); len(l) != 1 || o3.status(jdoe) != oktasim.StatusActive {
		t.Fatalf("ceiling: %+v", l)
	}
}

package server

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/store"
)

const customRule = `title: Okta Impersonation Session Granted
id: 3f0c2a7e-8d51-4b6a-9d1e-6a1b2c3d4e5f
status: experimental
description: An admin started an impersonation session.
author: acme soc
tags:
    - attack.privilege-escalation
    - attack.t1078.004
logsource:
    product: okta
    service: okta
detection:
    selection:
        eventType: user.session.impersonation.grant
    condition: selection
level: high
`

const customTests = `event:
    actor: {id: 00uadmin1, type: User, alternateId: it-admin@example.com}
tests:
    - name: impersonation granted
      expect: alert
      events: [{eventType: user.session.impersonation.grant}]
    - name: a normal sign-in
      expect: none
      events: [{eventType: user.session.start}]
`

// TestRuleRoutes lists the built-in rules, disables and enables one, uploads a custom rule (a
// broken one with its line, one whose test fails, then a good one), downloads and removes it.
func TestRuleRoutes(t *testing.T) {
	e := newEnv(t)
	viewer, admin := e.keys[store.RoleViewer], e.keys[store.RoleAdmin]
	list := func() []RuleView {
		t.Helper()
		code, body := e.do(call{method: "GET", path: "/api/v1/rules", key: viewer})
		var out struct{ Rules []RuleView }
		if err := json.Unmarshal(body, &out); code != http.StatusOK || err != nil {
			t.Fatalf("list: %d %.300s", code, body)
		}
		return out.Rules
	}
	rules := list()
	if len(rules) < 100 || rules[0].Source != RuleBuiltin || !rules[0].Enabled {
		t.Fatalf("%d rules, first %+v", len(rules), rules[0])
	}
	id := rules[0].ID
	if code, body := e.do(call{method: "GET", path: "/api/v1/rules/" + id, key: viewer}); code != http.StatusOK || !strings.Contains(string(body), "id: "+id) {
		t.Fatalf("download of a built-in rule: %d %.200s", code, body)
	}
	if code, body := e.do(call{method: "POST", path: "/api/v1/rules/" + id + "/disable", key: admin}); code != http.StatusOK {
		t.Fatalf("disable: %d %s", code, body)
	}
	v0, _ := e.st.RulebookVersion(t.Context())
	if r := list()[0]; r.ID != id || r.Enabled {
		t.Fatalf("after disabling: %+v", r)
	}
	if code, _ := e.do(call{method: "POST", path: "/api/v1/rules/" + id + "/enable", key: admin}); code != http.StatusOK || !list()[0].Enabled {
		t.Fatal("enable")
	}
	if v1, _ := e.st.RulebookVersion(t.Context()); v1 <= v0 {
		t.Fatalf("the rulebook version did not move: %d → %d", v0, v1)
	}

	upload := func(in RuleUploadInput, want int) RuleUploadResult {
		t.Helper()
		code, body := e.do(call{method: "POST", path: "/api/v1/rules", key: admin, body: in})
		var res RuleUploadResult
		if err := json.Unmarshal(body, &res); code != want || err != nil {
			t.Fatalf("upload %s: %d %s, want %d", in.Filename, code, body, want)
		}
		return res
	}
	// A typo on line 15: the problem names the line.
	broken := strings.Replace(customRule, "    condition: selection", "    condition: selectoin", 1)
	res := upload(RuleUploadInput{Filename: "impersonation.yml", Rule: broken, Tests: customTests}, http.StatusUnprocessableEntity)
	if res.Stored || len(res.Problems) == 0 || res.Problems[0].Line != 15 {
		t.Fatalf("broken rule: %+v", res)
	}
	// A test that fails keeps it out.
	res = upload(RuleUploadInput{Filename: "impersonation.yml", Rule: customRule, Tests: strings.Replace(customTests, "expect: none", "expect: alert", 1)}, http.StatusUnprocessableEntity)
	if res.Stored || len(res.Tests) == 0 || res.Tests[1].Passed {
		t.Fatalf("failing test: %+v", res)
	}
	// A built-in's id is taken.
	clash := strings.Replace(customRule, "3f0c2a7e-8d51-4b6a-9d1e-6a1b2c3d4e5f", id, 1)
	if res = upload(RuleUploadInput{Filename: "clash.yml", Rule: clash}, http.StatusUnprocessableEntity); res.Stored || len(res.Problems) == 0 {
		t.Fatalf("clash: %+v", res)
	}
	res = upload(RuleUploadInput{Filename: "impersonation.yml", Rule: customRule, Tests: customTests}, http.StatusCreated)
	if !res.Stored || len(res.RuleIDs) != 1 || len(res.Tests) != 2 || !res.Tests[0].Passed {
		t.Fatalf("good upload: %+v", res)
	}
	var mine *RuleView
	for _, r := range list() {
		if r.ID == "3f0c2a7e-8d51-4b6a-9d1e-6a1b2c3d4e5f" {
			mine = &r
		}
	}
	if mine == nil || mine.Source != RuleCustom || !mine.Enabled {
		t.Fatalf("the upload is not listed: %+v", mine)
	}
	code, body := e.do(call{method: "GET", path: "/api/v1/rules/" + mine.ID, key: viewer})
	if code != http.StatusOK || string(body) != customRule {
		t.Fatalf("download: %d %q", code, body)
	}
	for _, c := range []struct {
		call
		want  int
		field string
	}{
		{call{method: "POST", path: "/api/v1/rules", key: admin, body: map[string]any{"filename": "../x.yml", "rule": customRule}, invalid: true}, 400, "filename"},
		{call{method: "POST", path: "/api/v1/rules", key: admin, body: map[string]any{"filename": "x.tests.yml", "rule": customRule}}, 400, "filename"},
		{call{method: "POST", path: "/api/v1/rules", key: admin, body: map[string]any{"filename": "x.yml", "rule": " "}}, 400, "rule"},
		{call{method: "POST", path: "/api/v1/rules", key: e.keys[store.RoleAnalyst], body: map[string]any{"filename": "x.yml", "rule": customRule}}, 403, ""},
		{call{method: "POST", path: "/api/v1/rules/nope/disable", key: admin}, 404, "id"},
		{call{method: "DELETE", path: "/api/v1/rules/" + id, key: admin}, 409, "id"},
	} {
		code, body := e.do(c.call)
		if code != c.want {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, code, body, c.want)
			continue
		}
		if er := e.errorOf(body); er.Fix == "" || er.Field != c.field {
			t.Errorf("%s %s: error %+v", c.method, c.path, er)
		}
	}
	// A SigmaHQ rule, unchanged, goes in untested.
	sigmaHQ, err := os.ReadFile("../detect/testdata/sigmahq-okta/rules/identity/okta/okta_policy_rule_modified_or_deleted.yml")
	if err != nil {
		t.Fatal(err)
	}
	if res = upload(RuleUploadInput{Filename: "okta_policy_rule_modified_or_deleted.yml", Rule: string(sigmaHQ)}, http.StatusCreated); !res.Stored || !res.Untested {
		t.Fatalf("SigmaHQ rule: %+v", res)
	}
	if code, body := e.do(call{method: "DELETE", path: "/api/v1/rules/" + mine.ID, key: admin}); code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", code, body)
	}
	if cs, err := e.st.CustomRules(t.Context()); err != nil || len(cs) != 1 || cs[0].Filename != "okta_policy_rule_modified_or_deleted.yml" {
		t.Fatalf("custom rules after delete: %+v %v", cs, err)
	}
}

package detect

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/idwatch/idwatch/internal/event"
)

var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

func compile(t testing.TB, files ...string) *Ruleset {
	t.Helper()
	var rf []RuleFile
	for i, f := range files {
		rf = append(rf, RuleFile{Name: fmt.Sprintf("r%d.yml", i), Data: []byte(f)})
	}
	rs, err := Compile(rf)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return rs
}

func engine(t testing.TB, rs *Ruleset, cfg Config) *Engine {
	t.Helper()
	e, err := New(rs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// ev builds a raw event at t0+at with the given uuid and extra JSON fields.
func ev(t testing.TB, uuid string, at time.Duration, fields string) event.Doc {
	t.Helper()
	js := fmt.Sprintf(`{"uuid":%q,"published":%q%s}`, uuid, t0.Add(at).Format(time.RFC3339Nano), fields)
	d, err := event.ParseDoc([]byte(js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return d
}

func process(t testing.TB, e *Engine, docs ...event.Doc) []Alert {
	t.Helper()
	var out []Alert
	for _, d := range docs {
		as, err := e.Process(Input{Fields: d})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, as...)
	}
	return out
}

const pushRule = `title: Push fatigue
id: push-fatigue
correlation:
    type: event_count
    rules: [deny]
    group-by: [actor.alternateId]
    timespan: 10m
    condition: {gte: 3}
level: high
---
title: deny
name: deny
logsource: {product: okta}
detection:
    s:
        eventType: user.mfa.okta_verify.deny_push
    condition: s
`

const deny = `,"eventType":"user.mfa.okta_verify.deny_push","actor":{"alternateId":"alice@example.com"}`

func TestEventCountInOrderAndOutOfOrder(t *testing.T) {
	rs := compile(t, pushRule)
	e := engine(t, rs, Config{})
	as := process(t, e, ev(t, "a", 0, deny), ev(t, "b", time.Minute, deny), ev(t, "c", 2*time.Minute, deny))
	if len(as) != 1 || as[0].RuleID != "push-fatigue" || as[0].EventCount != 3 {
		t.Fatalf("in order: %+v", as)
	}
	if got := strings.Join(as[0].Events, ","); got != "a,b,c" {
		t.Fatalf("evidence %s", got)
	}
	// The same events arriving out of order (within the lateness) give the same alert id.
	e2 := engine(t, rs, Config{})
	as2 := process(t, e2, ev(t, "c", 2*time.Minute, deny), ev(t, "a", 0, deny), ev(t, "b", time.Minute, deny))
	if len(as2) != 1 || as2[0].ID != as[0].ID {
		t.Fatalf("out of order: %+v want id %s", as2, as[0].ID)
	}
	// Events older than watermark - timespan are too late to correlate.
	e3 := engine(t, rs, Config{Lateness: time.Minute})
	process(t, e3, ev(t, "x", time.Hour, deny))
	if as := process(t, e3, ev(t, "a", 0, deny), ev(t, "b", time.Second, deny), ev(t, "c", 2*time.Second, deny)); len(as) != 0 {
		t.Fatalf("late events correlated: %+v", as)
	}
	if e3.Stats().Late != 3 {
		t.Fatalf("late count %d", e3.Stats().Late)
	}
}

func TestReplayAfterRestartRaisesNothingTwice(t *testing.T) {
	rs := compile(t, pushRule)
	var docs []event.Doc
	for i := 0; i < 7; i++ {
		docs = append(docs, ev(t, fmt.Sprint("u", i), time.Duration(i)*time.Minute, deny))
	}
	// Uninterrupted run.
	full := process(t, engine(t, rs, Config{}), docs...)
	if len(full) != 2 {
		t.Fatalf("want 2 alerts (two full sets of 3), got %d", len(full))
	}
	// Crash after 4 events: a new engine replays them, then processes the rest.
	before := process(t, engine(t, rs, Config{}), docs[:4]...)
	e := engine(t, rs, Config{})
	for _, d := range docs[:4] {
		if err := e.Replay(Input{Fields: d}); err != nil {
			t.Fatal(err)
		}
	}
	after := process(t, e, docs[4:]...)
	all := append(before, after...)
	if len(all) != len(full) {
		t.Fatalf("restart changed the alerts: %d vs %d", len(all), len(full))
	}
	for i := range all {
		if all[i].ID != full[i].ID {
			t.Fatalf("alert %d id %s, want %s", i, all[i].ID, full[i].ID)
		}
	}
	// Re-delivered events are dropped.
	if as := process(t, e, docs...); len(as) != 0 || e.Stats().Duplicates != 7 {
		t.Fatalf("re-delivery: %d alerts, %d duplicates", len(as), e.Stats().Duplicates)
	}
}

func TestIndexNarrowsCandidates(t *testing.T) {
	rs := compile(t, pushRule, `title: any event with a proxy
logsource: {product: okta}
detection:
    s:
        securityContext.isProxy: 'true'
    condition: s
`)
	if n := rs.Unindexed()[""]; n != 1 {
		t.Fatalf("unindexed %d", n)
	}
	// Rules without an eventType fall back to the other equality prefilters.
	legacy := compile(t, "title: l\nlogsource: {product: okta}\ndetection: {s: {legacyeventtype: core.user_auth.login_failed}, condition: s}\n",
		"title: m\nlogsource: {product: okta}\ndetection: {s: {displayMessage: Max sign in attempts exceeded}, condition: s}\n")
	if n := legacy.Unindexed()[""]; n != 0 {
		t.Fatalf("legacy rules unindexed: %d", n)
	}
	e := engine(t, rs, Config{})
	e.ev.Reset(ev(t, "a", 0, `,"eventType":"user.session.start"`))
	if c := e.candidates(""); len(c) != 1 {
		t.Fatalf("candidates for session.start: %d", len(c))
	}
	e.ev.Reset(ev(t, "a", 0, deny))
	if c := e.candidates(""); len(c) != 2 {
		t.Fatalf("candidates for deny_push: %d", len(c))
	}
}

func TestValueCountTemporalChainAndAliases(t *testing.T) {
	rs := compile(t, `title: spray then success
id: spray-success
correlation:
    type: temporal_ordered
    rules: [spray, success]
    group-by: [ip]
    aliases:
        ip:
            spray: client.ipAddress
            success: client.ipAddress
    timespan: 1h
level: critical
---
title: spray
name: spray
correlation:
    type: value_count
    rules: [fail]
    group-by: [client.ipAddress]
    timespan: 10m
    condition: {field: actor.alternateId, gte: 3}
---
title: fail
name: fail
logsource: {product: okta}
detection:
    s: {eventType: user.session.start, outcome.result: FAILURE}
    condition: s
---
title: success
name: success
logsource: {product: okta}
detection:
    s: {eventType: user.session.start, outcome.result: SUCCESS}
    condition: s
`)
	e := engine(t, rs, Config{})
	ip := `,"client":{"ipAddress":"203.0.113.5"}`
	var docs []event.Doc
	for i := 0; i < 3; i++ {
		docs = append(docs, ev(t, fmt.Sprint("f", i), time.Duration(i)*time.Minute,
			fmt.Sprintf(`,"eventType":"user.session.start","outcome":{"result":"FAILURE"},"actor":{"alternateId":"u%d"}`, i)+ip))
	}
	docs = append(docs, ev(t, "s", 20*time.Minute, `,"eventType":"user.session.start","outcome":{"result":"SUCCESS"},"actor":{"alternateId":"u1"}`+ip))
	as := process(t, e, docs...)
	if len(as) != 1 || as[0].RuleID != "spray-success" || as[0].Group[0].Value != "203.0.113.5" {
		t.Fatalf("%+v", as)
	}
	f := as[0].Finding()
	if f["severity_id"] != 5 || f["class_uid"] != 2004 {
		t.Fatalf("finding %v", f)
	}
}

func TestTemporalExpressionAndWindowCloseConditions(t *testing.T) {
	rs := compile(t, `title: a and not b
id: tmp
correlation:
    type: temporal
    rules: [ra, rb, rc]
    group-by: [actor.id]
    timespan: 5m
    condition: ra and (rb or rc)
---
title: ra
name: ra
logsource: {product: okta}
detection: {s: {eventType: a}, condition: s}
---
title: rb
name: rb
logsource: {product: okta}
detection: {s: {eventType: b}, condition: s}
---
title: rc
name: rc
logsource: {product: okta}
detection: {s: {eventType: c}, condition: s}
---
title: exactly two
id: eq2
correlation:
    type: event_count
    rules: [rd]
    group-by: [actor.id]
    timespan: 10m
    condition: {eq: 2}
---
title: rd
name: rd
logsource: {product: okta}
detection: {s: {eventType: d}, condition: s}
`)
	e := engine(t, rs, Config{Lateness: time.Minute})
	who := `,"actor":{"id":"x"}`
	as := process(t, e, ev(t, "1", 0, `,"eventType":"a"`+who), ev(t, "2", time.Minute, `,"eventType":"c"`+who))
	if len(as) != 1 || as[0].RuleID != "tmp" {
		t.Fatalf("temporal: %+v", as)
	}
	// eq: 2 is decided when the window closes.
	as = process(t, e, ev(t, "3", time.Hour, `,"eventType":"d"`+who), ev(t, "4", time.Hour+time.Minute, `,"eventType":"d"`+who))
	if len(as) != 0 {
		t.Fatalf("eq decided early: %+v", as)
	}
	as = e.Advance(t0.Add(2 * time.Hour))
	if len(as) != 1 || as[0].RuleID != "eq2" {
		t.Fatalf("eq at close: %+v", as)
	}
}

func TestStateIsBounded(t *testing.T) {
	rs := compile(t, pushRule)
	e := engine(t, rs, Config{MaxGroupsPerRule: 10, MaxEntriesPerGroup: 2})
	for i := 0; i < 100; i++ {
		process(t, e, ev(t, fmt.Sprint("u", i), time.Duration(i)*time.Second,
			fmt.Sprintf(`,"eventType":"user.mfa.okta_verify.deny_push","actor":{"alternateId":"user%d"}`, i)))
	}
	st := e.Stats()
	if st.Groups != 10 || st.Evicted != 90 {
		t.Fatalf("stats %+v", st)
	}
	// Watermark eviction empties the state.
	e.Advance(t0.Add(24 * time.Hour))
	if st := e.Stats(); st.Groups != 0 || st.Entries != 0 {
		t.Fatalf("after eviction %+v", st)
	}
}

func TestSigmaHQShapedRulesLoadUnchanged(t *testing.T) {
	// The two field styles SigmaHQ's Okta rules have used, with the string 'true' against a
	// JSON boolean and arrays of targets.
	rs := compile(t, `title: Okta New Admin Console Behaviours
id: 11111111-1111-4111-8111-111111111111
status: test
description: d
author: a
date: 2023-09-07
modified: 2026-04-27
tags:
    - attack.privilege-escalation
    - attack.t1078.004
logsource:
    product: okta
    service: okta
detection:
    selection_event:
        eventType: 'policy.evaluate_sign_on'
        target.displayName: 'Okta Admin Console'
    selection_positive:
        - debugContext.debugData.behaviors|contains: 'POSITIVE'
        - debugContext.debugData.logOnlySecurityData|contains: 'POSITIVE'
    condition: all of selection_*
falsepositives:
    - x
level: high
`, `title: Okta Password in AlternateID
id: 22222222-2222-4222-8222-222222222222
logsource:
    product: okta
    service: okta
detection:
    selection:
        legacyeventtype: 'core.user_auth.login_failed'
    filter_main:
        actor.alternateid|re: '(^0oa.*|[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,10})'
    condition: selection and not filter_main
level: high
`, `title: Okta Session Via Proxy
id: 33333333-3333-4333-8333-333333333333
logsource:
    product: okta
    service: okta
detection:
    selection:
        eventtype: user.session.start
        securitycontext.isproxy: 'true'
    condition: selection
level: high
`)
	e := engine(t, rs, Config{})
	as := process(t, e,
		ev(t, "1", 0, `,"eventType":"policy.evaluate_sign_on","target":[{"displayName":"App"},{"displayName":"Okta Admin Console"}],"debugContext":{"debugData":{"behaviors":"{New Device=POSITIVE}"}}`),
		ev(t, "2", time.Second, `,"eventType":"user.session.start","legacyEventType":"core.user_auth.login_failed","actor":{"alternateId":"Hunter2!"},"securityContext":{"isProxy":true}`),
		ev(t, "3", 2*time.Second, `,"eventType":"user.session.start","legacyEventType":"core.user_auth.login_failed","actor":{"alternateId":"bob@example.com"},"securityContext":{"isProxy":false}`),
	)
	var got []string
	for _, a := range as {
		got = append(got, a.RuleID[:8])
	}
	sort.Strings(got)
	if strings.Join(got, ",") != "11111111,22222222,33333333" {
		t.Fatalf("alerts %v", got)
	}
	b, err := json.Marshal(as[0].Finding())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"analytic":{"name":"Okta New Admin Console Behaviours","type":"Rule","type_id":1,"uid":"11111111-1111-4111-8111-111111111111"}`,
		`"technique":{"uid":"T1078"}`, `"sub_technique":{"uid":"T1078.004"}`, `"uid":"TA0004"`, `"related_events":[{"uid":"1"}]`, `"severity_id":4`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("finding lacks %s:\n%s", want, b)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"title: c\ncorrelation:\n    type: event_count\n    rules: [nope]\n    timespan: 1m\n    condition: {gte: 1}\n", `references unknown rule "nope"`},
		{"title: c\nname: c\ncorrelation:\n    type: event_count\n    rules: [c]\n    timespan: 1m\n    condition: {gte: 1}\n", `reference cycle`},
		{"title: a\nname: x\nlogsource: {product: okta}\ndetection: {s: {a: b}, condition: s}\n---\ntitle: b\nname: x\nlogsource: {product: okta}\ndetection: {s: {a: b}, condition: s}\n", `already used`},
		{"title: c\ncorrelation:\n    type: temporal\n    rules: [a, b]\n    group-by: [u]\n    timespan: 1m\n    condition: a and z\n---\ntitle: a\nname: a\nlogsource: {product: okta}\ndetection: {s: {a: b}, condition: s}\n---\ntitle: b\nname: b\nlogsource: {product: okta}\ndetection: {s: {a: b}, condition: s}\n", `"z", which is not in rules`},
	}
	for _, c := range cases {
		_, err := Compile([]RuleFile{{Name: "x.yml", Data: []byte(c.src)}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want %q, got %v", c.want, err)
		}
	}
}

func TestRuleTestsDetectFailures(t *testing.T) {
	fsys := fstest.MapFS{
		"a.yml":       {Data: []byte("title: a\nlogsource: {product: okta}\ndetection: {s: {eventType: x}, condition: s}\n")},
		"a.tests.yml": {Data: []byte("tests:\n  - {name: wrong, expect: alert, events: [{eventType: y}]}\n  - {name: right, expect: none, events: [{eventType: y}]}\n")},
		"b.yml":       {Data: []byte("title: b\nlogsource: {product: okta}\ndetection: {s: {eventType: x}, condition: s}\n")},
	}
	res, err := RunTests(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, r := range res {
		if !r.Pass {
			msgs = append(msgs, r.RuleFile+": "+r.Message)
		}
	}
	joined := strings.Join(msgs, "\n")
	for _, want := range []string{"a.yml: expected an alert, got none", "b.yml: no tests"} {
		if !strings.Contains(joined, want) {
			t.Errorf("missing %q in:\n%s", want, joined)
		}
	}
}

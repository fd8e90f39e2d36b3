package detect

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

const absenceRule = `title: mfa gone
id: mfa-gone
correlation:
    type: absence
    rules: [removed, enrolled]
    group-by: [target.id]
    timespan: 12h
---
title: removed
name: removed
logsource: {product: okta}
detection: {s: {eventType: user.mfa.factor.reset_all}, condition: s}
---
title: enrolled
name: enrolled
logsource: {product: okta}
detection: {s: {eventType: user.mfa.factor.activate}, condition: s}
`

func TestAbsence(t *testing.T) {
	rs := compile(t, absenceRule)
	tgt := `,"target":[{"id":"00ua"}]`
	reset := `,"eventType":"user.mfa.factor.reset_all"` + tgt
	act := `,"eventType":"user.mfa.factor.activate"` + tgt

	e := engine(t, rs, Config{Lateness: time.Minute})
	if as := process(t, e, ev(t, "r", 0, reset)); len(as) != 0 {
		t.Fatal("fired before the deadline")
	}
	if as := e.Advance(t0.Add(11 * time.Hour)); len(as) != 0 {
		t.Fatal("fired before the deadline")
	}
	as := e.Advance(t0.Add(12*time.Hour + 2*time.Minute))
	if len(as) != 1 || !as[0].Time.Equal(t0.Add(12*time.Hour)) || as[0].Events[0] != "r" {
		t.Fatalf("%+v", as)
	}
	// Firing is driven by event time as well as by Advance.
	e = engine(t, rs, Config{Lateness: time.Minute})
	process(t, e, ev(t, "r", 0, reset))
	if as := process(t, e, ev(t, "later", 13*time.Hour, `,"eventType":"other"`)); len(as) != 1 {
		t.Fatalf("watermark from events: %+v", as)
	}
	// A follow-up that arrives before its (late) trigger still counts.
	e = engine(t, rs, Config{Lateness: time.Hour})
	process(t, e, ev(t, "a", 30*time.Minute, act), ev(t, "r", 0, reset))
	if as := e.Advance(t0.Add(24 * time.Hour)); len(as) != 0 {
		t.Fatalf("out-of-order follow-up ignored: %+v", as)
	}
	// A follow-up before the trigger does not count.
	e = engine(t, rs, Config{Lateness: time.Minute})
	process(t, e, ev(t, "a", 0, act), ev(t, "r", time.Minute, reset))
	if as := e.Advance(t0.Add(24 * time.Hour)); len(as) != 1 {
		t.Fatalf("earlier follow-up counted: %+v", as)
	}
}

const firstSeenRule = `title: new country
id: new-country
correlation:
    type: first_seen
    rules: [admin]
    group-by: [actor.alternateId]
    field: client.geographicalContext.country
    timespan: 30d
    learning: 1d
---
title: admin
name: admin
logsource: {product: okta}
detection: {s: {eventType: user.session.access_admin_app}, condition: s}
`

func country(c string) string {
	return fmt.Sprintf(`,"eventType":"user.session.access_admin_app","actor":{"alternateId":"adm@example.com"},"client":{"geographicalContext":{"country":%q}}`, c)
}

func TestFirstSeenBaselineSurvivesRestart(t *testing.T) {
	rs := compile(t, firstSeenRule)
	base := NewMemoryBaseline(0)
	e := engine(t, rs, Config{Baseline: base})
	// During learning nothing alerts, even new values.
	if as := process(t, e, ev(t, "1", 0, country("France")), ev(t, "2", time.Hour, country("Spain"))); len(as) != 0 {
		t.Fatalf("alerted while learning: %+v", as)
	}
	as := process(t, e, ev(t, "3", 48*time.Hour, country("Brazil")))
	if len(as) != 1 || as[0].Group[0].Value != "adm@example.com" {
		t.Fatalf("%+v", as)
	}
	// A restarted engine with the persisted baseline knows Brazil, France and Spain.
	saved := base.Snapshot()
	restored := NewMemoryBaseline(0)
	restored.Restore(saved)
	e2 := engine(t, rs, Config{Baseline: restored})
	if as := process(t, e2, ev(t, "4", 50*time.Hour, country("Brazil")), ev(t, "5", 51*time.Hour, country("Spain"))); len(as) != 0 {
		t.Fatalf("baseline lost: %+v", as)
	}
	// Replaying the event that alerted gives the same id (so the store dedups it).
	e3 := engine(t, rs, Config{Baseline: restored})
	again := process(t, e3, ev(t, "3", 48*time.Hour, country("Brazil")))
	if len(again) != 1 || again[0].ID != as[0].ID {
		t.Fatalf("replayed first sighting: %+v want id %s", again, as[0].ID)
	}
	// A value unseen for longer than the timespan is new again.
	if as := process(t, e2, ev(t, "6", 60*24*time.Hour, country("France"))); len(as) != 1 {
		t.Fatalf("stale value: %+v", as)
	}
}

const geoRule = `title: travel
id: travel
correlation:
    type: geo_velocity
    rules: [signin]
    group-by: [actor.alternateId]
    timespan: 24h
    condition: {gt: 900}
    min-distance: 500
---
title: signin
name: signin
logsource: {product: okta}
detection: {s: {eventType: user.session.start}, condition: s}
`

func at(lat, lon float64) string {
	return fmt.Sprintf(`,"eventType":"user.session.start","actor":{"alternateId":"a"},"client":{"geographicalContext":{"geolocation":{"lat":%g,"lon":%g}}}`, lat, lon)
}

func TestGeoVelocity(t *testing.T) {
	rs := compile(t, geoRule)
	paris, nyc, tokyo := at(48.8566, 2.3522), at(40.7128, -74.006), at(35.68, 139.69)
	e := engine(t, rs, Config{Lateness: 2 * time.Hour})
	// Out of order: New York (1h) arrives before Paris (0).
	as := process(t, e, ev(t, "ny", time.Hour, nyc), ev(t, "pa", 0, paris))
	if len(as) != 1 || as[0].Events[0] != "pa" || as[0].Events[1] != "ny" {
		t.Fatalf("%+v", as)
	}
	// 12h later Tokyo from New York is ~900 km/h: 10,850 km / 12h = 904 km/h, just above.
	as = process(t, e, ev(t, "tk", 13*time.Hour, tokyo))
	if len(as) != 1 {
		t.Fatalf("tokyo: %+v", as)
	}
	if d := haversineKm(48.8566, 2.3522, 40.7128, -74.006); d < 5800 || d > 5900 {
		t.Fatalf("Paris-New York %f km", d)
	}
	// Missing or zero coordinates are ignored.
	e = engine(t, rs, Config{})
	if as := process(t, e, ev(t, "1", 0, paris), ev(t, "2", time.Minute, at(0, 0)), ev(t, "3", 2*time.Minute, `,"eventType":"user.session.start","actor":{"alternateId":"a"}`)); len(as) != 0 {
		t.Fatalf("%+v", as)
	}
}

func TestSuppressionPerGroup(t *testing.T) {
	rs := compile(t, `title: proxy
id: proxy
logsource: {product: okta}
detection: {s: {securityContext.isProxy: 'true'}, condition: s}
suppression:
    timespan: 1h
    group-by: [client.ipAddress]
`)
	e := engine(t, rs, Config{})
	p := func(ip string) string {
		return fmt.Sprintf(`,"securityContext":{"isProxy":true},"client":{"ipAddress":%q}`, ip)
	}
	as := process(t, e, ev(t, "1", 0, p("a")), ev(t, "2", time.Minute, p("a")), ev(t, "3", 2*time.Minute, p("b")), ev(t, "4", 2*time.Hour, p("a")))
	if len(as) != 3 {
		t.Fatalf("want alerts for a, b, then a again after an hour: %+v", as)
	}
}

func TestCustomTimeFieldAndNormalizedRecords(t *testing.T) {
	rs := compile(t, `title: n
id: n
logsource: {category: cloudaudit}
detection: {s: {metadata.event_code: system.api_token.create}, condition: s}
`)
	e := engine(t, rs, Config{TimeField: "debugContext.when"})
	d := ev(t, "x", 0, `,"eventType":"system.api_token.create","debugContext":{"when":"2025-01-01T00:00:00Z"}`)
	if as := process(t, e, d); len(as) != 0 {
		t.Fatal("a normalized rule ran on a raw event")
	}
	rec := ev(t, "r", 0, `,"time":1735689600000,"metadata":{"uid":"r1","event_code":"system.api_token.create"}`)
	as, err := e.Process(Input{Fields: rec, Schema: "cloudaudit"})
	if err != nil || len(as) != 1 || as[0].Time.UnixMilli() != 1735689600000 {
		t.Fatalf("%v %+v", err, as)
	}
	if _, err := e.Process(Input{Fields: rec, Schema: "nope"}); err == nil {
		t.Fatal("unknown schema accepted")
	}
	if _, err := e.Process(Input{Fields: ev(t, "y", 0, "")}); err != ErrNoTime {
		t.Fatalf("event without the configured time: %v", err)
	}
}

func TestEnginesShareARuleset(t *testing.T) {
	rs := compile(t, pushRule, absenceRule, geoRule)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := New(rs, Config{TimeField: "published"})
			if err != nil {
				t.Error(err)
				return
			}
			for i := 0; i < 50; i++ {
				if _, err := e.Process(Input{Fields: ev(t, fmt.Sprint(i), time.Duration(i)*time.Second, deny)}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{Lateness: -1}, {MaxGroups: -1}, {TimeField: "a..b"}} {
		if c.Validate() == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

func TestGenerateAndTemporalCount(t *testing.T) {
	rs := compile(t, `title: two of three
id: two
correlation:
    type: temporal
    rules: [ra, rb, rc]
    group-by: [actor.id]
    timespan: 5m
    condition: {gte: 2}
    generate: true
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
`)
	e := engine(t, rs, Config{})
	who := `,"actor":{"id":"x"}`
	as := process(t, e, ev(t, "1", 0, `,"eventType":"a"`+who), ev(t, "2", time.Minute, `,"eventType":"b"`+who))
	var titles []string
	for _, a := range as {
		titles = append(titles, a.Title)
	}
	// generate: true keeps the referenced rules alerting on their own.
	if fmt.Sprint(titles) != "[ra rb two of three]" {
		t.Fatalf("%v", titles)
	}
	if _, err := Compile([]RuleFile{{Name: "x.yml", Data: []byte("title: c\ncorrelation: {type: event_count, rules: [a], group-by: [u], timespan: 1m, condition: {gte: 2}}\nsuppression: {timespan: 1h, group-by: [u]}\n---\ntitle: a\nname: a\nlogsource: {product: okta}\ndetection: {s: {x: y}, condition: s}\n")}}); err == nil {
		t.Fatal("suppression.group-by on a correlation accepted")
	}
}

func TestMemoryBaselineIsBounded(t *testing.T) {
	b := NewMemoryBaseline(200)
	b.Put("r", "", "", Seen{First: t0, Last: t0})
	for i := 0; i < 1000; i++ {
		ts := t0.Add(time.Duration(i) * time.Minute)
		b.Put("r", "k", fmt.Sprint(i), Seen{First: ts, Last: ts})
	}
	if n := b.Len(); n > 200 {
		t.Fatalf("%d entries", n)
	}
	if _, ok := b.Get("r", "", ""); !ok {
		t.Fatal("rule start marker evicted")
	}
	if _, ok := b.Get("r", "k", "999"); !ok {
		t.Fatal("newest entry evicted")
	}
	if _, ok := b.Get("r", "k", "0"); ok {
		t.Fatal("oldest entry kept")
	}
}

// TestChainedAbsenceAfterTimeJump feeds absence hits to an outer count after the watermark
// jumped past the events that opened them by more than the outer window: each hit happened
// at its deadline and still counts.
func TestChainedAbsenceAfterTimeJump(t *testing.T) {
	rs := compile(t, absenceRule, `title: many users left without MFA
id: many-gone
correlation:
    type: event_count
    rules: [mfa-gone]
    group-by: [target.id]
    timespan: 1h
    condition: {gte: 2}
`)
	e := engine(t, rs, Config{Lateness: time.Minute})
	reset := `,"eventType":"user.mfa.factor.reset_all","target":[{"id":"00ua"}]`
	process(t, e, ev(t, "r1", 0, reset), ev(t, "r2", time.Minute, reset))
	// The next event comes 12.5 hours later, past both deadlines; the resets themselves are
	// older than the outer window (1h).
	as := process(t, e, ev(t, "later", 12*time.Hour+30*time.Minute, `,"eventType":"other"`))
	var outer []Alert
	for _, a := range as {
		if a.RuleID == "many-gone" {
			outer = append(outer, a)
		}
	}
	if len(outer) != 1 || !outer[0].Time.Equal(t0.Add(12*time.Hour+time.Minute)) {
		t.Fatalf("chained absence hits after a time jump: %+v", as)
	}
}

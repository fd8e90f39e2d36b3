package scenario

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/benchutil"
	"github.com/idwatch/idwatch/internal/event"
)

// testStart is a Thursday at UTC midnight.
var testStart = time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC)

func testConfig(users int) Config {
	return Config{Seed: 42, Users: users, OrgDomain: "acme.example", Start: testStart}
}

func newTestGenerator(t testing.TB, users int) *Generator {
	t.Helper()
	g, err := New(testConfig(users))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// collect advances g to to and returns the emitted events.
func collect(g *Generator, to time.Time) []*event.LogEvent {
	var out []*event.LogEvent
	g.Advance(to, func(ev *event.LogEvent) { out = append(out, ev) })
	return out
}

func encodeAll(t testing.TB, evs []*event.LogEvent) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, ev := range evs {
		if err := enc.Encode(ev); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestConfigValidate(t *testing.T) {
	ok := testConfig(10)
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config rejected: %v", err)
	}
	cases := []struct {
		name string
		mod  func(c *Config)
		want string
	}{
		{"no users", func(c *Config) { c.Users = 0 }, "Users"},
		{"too many users", func(c *Config) { c.Users = 1_000_000 }, "Users"},
		{"no domain", func(c *Config) { c.OrgDomain = "" }, "OrgDomain"},
		{"bad domain", func(c *Config) { c.OrgDomain = "acme" }, "OrgDomain"},
		{"bad domain char", func(c *Config) { c.OrgDomain = "ac me.example" }, "OrgDomain"},
		{"no start", func(c *Config) { c.Start = time.Time{} }, "Start"},
		{"bad hour", func(c *Config) { c.WorkdayStartHour = 24 }, "WorkdayStartHour"},
		{"bad share", func(c *Config) { c.ADShare = 1.5 }, "ADShare"},
		{"negative share", func(c *Config) { c.TravelShare = -0.1 }, "TravelShare"},
		{"noisy fat finger", func(c *Config) { c.FatFingerShare = 0.5 }, "FatFingerShare"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mod(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tc.want)
			}
			if _, err := New(c); err == nil {
				t.Fatal("New accepted an invalid config")
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	end := testStart.Add(30 * time.Hour)
	a := encodeAll(t, collect(newTestGenerator(t, 40), end))
	b := encodeAll(t, collect(newTestGenerator(t, 40), end))
	if !bytes.Equal(a, b) {
		t.Fatal("same seed produced different events")
	}
	if len(a) == 0 {
		t.Fatal("no events")
	}
	// Every event survives a JSON round trip unchanged.
	for _, line := range bytes.Split(bytes.TrimSpace(a), []byte("\n")) {
		var ev event.LogEvent
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatal(err)
		}
		back, _ := json.Marshal(&ev)
		if !bytes.Equal(back, line) {
			t.Fatalf("round trip changed\n%s\n%s", line, back)
		}
	}
	// Incremental advancing, in uneven steps, yields exactly the one-shot events.
	g := newTestGenerator(t, 40)
	r := rand.New(rand.NewPCG(1, 2))
	var inc []*event.LogEvent
	for now := testStart; now.Before(end); {
		now = now.Add(time.Duration(r.Int64N(int64(3 * time.Hour))))
		if now.After(end) {
			now = end
		}
		inc = append(inc, collect(g, now)...)
		inc = append(inc, collect(g, now.Add(-time.Minute))...) // going back emits nothing
	}
	if c := encodeAll(t, inc); !bytes.Equal(a, c) {
		t.Fatalf("incremental Advance differs from one-shot: %d vs %d bytes", len(c), len(a))
	}
	other := testConfig(40)
	other.Seed = 43
	g2, _ := New(other)
	if d := encodeAll(t, collect(g2, end)); bytes.Equal(a, d) {
		t.Fatal("different seeds produced the same events")
	}
}

var (
	uuidRe      = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	userIDRe    = regexp.MustCompile(`^00u[0-9A-Za-z]{17}$`)
	sessionIDRe = regexp.MustCompile(`^idx[0-9A-Za-z]{22}$`)
	guidRe      = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// checkEnvelope asserts the fields every System Log event carries and, if roundTrip, a lossless
// JSON round trip.
func checkEnvelope(t *testing.T, ev *event.LogEvent, roundTrip bool) {
	t.Helper()
	if !uuidRe.MatchString(ev.UUID) {
		t.Fatalf("%s: uuid %q is not a v4 UUID", ev.EventType, ev.UUID)
	}
	if ev.Published.IsZero() || ev.Published.Location() != time.UTC || ev.Published.Nanosecond()%int(time.Millisecond) != 0 {
		t.Fatalf("%s: published %v is not UTC with millisecond precision", ev.EventType, ev.Published)
	}
	if _, ok := catalog[ev.EventType]; !ok {
		t.Fatalf("event type %q is not in the catalogue", ev.EventType)
	}
	if ev.Version != "0" {
		t.Fatalf("%s: version %q", ev.EventType, ev.Version)
	}
	switch ev.Severity {
	case "DEBUG", "INFO", "WARN", "ERROR":
	default:
		t.Fatalf("%s: severity %q", ev.EventType, ev.Severity)
	}
	if ev.Actor == nil || ev.Actor.ID == "" || ev.Actor.Type == "" {
		t.Fatalf("%s: actor missing: %+v", ev.EventType, ev.Actor)
	}
	if ev.Outcome == nil || ev.Outcome.Result == "" {
		t.Fatalf("%s: outcome missing", ev.EventType)
	}
	if ev.Transaction == nil || ev.Transaction.ID == "" || ev.DebugContext.DebugData["requestId"] != ev.Transaction.ID {
		t.Fatalf("%s: transaction id and debugData.requestId disagree", ev.EventType)
	}
	if ev.Transaction.Type == "WEB" && ev.EventType != "inline_hook.response.processed" {
		if ev.Client == nil || ev.Client.Zone == "" || ev.Client.IPAddress == "" || ev.Client.GeographicalContext == nil {
			t.Fatalf("%s: web event without client ip, zone and geo", ev.EventType)
		}
		if ev.Request == nil || len(ev.Request.IPChain) == 0 || ev.Request.IPChain[0].IP != ev.Client.IPAddress {
			t.Fatalf("%s: request.ipChain does not start with the client ip", ev.EventType)
		}
		if ev.SecurityContext == nil || ev.SecurityContext.AsNumber == nil {
			t.Fatalf("%s: no securityContext", ev.EventType)
		}
	}
	if s := ev.AuthenticationContext.ExternalSessionID; s != "" && !sessionIDRe.MatchString(s) {
		t.Fatalf("%s: externalSessionId %q", ev.EventType, s)
	}
	if !roundTrip {
		return
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var back event.LogEvent
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("%s: round trip: %v", ev.EventType, err)
	}
	b2, _ := json.Marshal(&back)
	if !bytes.Equal(b, b2) {
		t.Fatalf("%s: JSON round trip changed the event:\n%s\n%s", ev.EventType, b, b2)
	}
}

func TestEventsWellFormedAndOrdered(t *testing.T) {
	g := newTestGenerator(t, 200)
	prev := testStart
	seen := map[string]bool{}
	perType := map[string]int{}
	var steps []time.Time
	for h := 1; h <= 80; h += 1 + h%3 { // uneven steps over three days, a weekend day included
		steps = append(steps, testStart.Add(time.Duration(h)*time.Hour+time.Duration(h)*time.Minute))
	}
	for _, to := range steps {
		g.Advance(to, func(ev *event.LogEvent) {
			perType[ev.EventType]++
			checkEnvelope(t, ev, perType[ev.EventType] <= 20) // JSON is costly under -race; sample it
			if ev.Published.Before(prev) || !ev.Published.After(testStart) || ev.Published.After(to) {
				t.Fatalf("event at %v out of order or outside (start, %v]", ev.Published, to)
			}
			if seen[ev.UUID] {
				t.Fatalf("duplicate uuid %s", ev.UUID)
			}
			seen[ev.UUID] = true
			prev = ev.Published
		})
	}
}

// schemaTypes is schemas.md §1: the event types the normalizer routes by its listed table.
var schemaTypes = []string{
	"app.oauth2.as.authorize.code", "app.oauth2.as.token.grant.access_token", "app.oauth2.as.token.grant.id_token",
	"app.oauth2.as.token.grant.refresh_token", "inline_hook.response.processed", "policy.evaluate_sign_on",
	"policy.lifecycle.activate", "policy.lifecycle.create", "policy.lifecycle.deactivate", "policy.lifecycle.update",
	"policy.rule.add", "policy.rule.deactivate", "policy.rule.update", "user.account.privilege.grant",
	"user.account.reset_password", "user.account.update_password", "user.account.update_profile",
	"user.authentication.auth_via_mfa", "user.authentication.sso", "user.authentication.verify",
	"user.mfa.factor.activate", "user.mfa.factor.deactivate", "user.mfa.factor.reset_all", "user.session.clear",
	"user.session.end", "user.session.start", "system.sms.send_phone_verification_message",
	"system.voice.send_phone_verification_call",
	"system.api_token.create", "system.api_token.revoke", "application.user_membership.add",
	"application.user_membership.change_password", "application.user_membership.remove",
	"user.session.access_admin_app", "user.lifecycle.activate", "user.lifecycle.create", "user.lifecycle.deactivate",
	"application.provision.user.sync", "group.user_membership.add", "group.user_membership.remove",
	"system.import.complete", "system.import.start", "user.account.report_suspicious_activity_by_enduser",
	"user.authentication.authenticate", "user.credential.enroll", "user.lifecycle.delete.initiated",
	"user.lifecycle.reactivate", "user.lifecycle.suspend", "user.lifecycle.unsuspend",
	// "system.api_token.create.revoke" is listed too, but Okta has no such event type (the real one is
	// system.api_token.revoke, above), so the simulation does not invent it.
}

func TestDayCoversSchemaTypes(t *testing.T) {
	for _, seed := range []int64{42, 7} {
		cfg := testConfig(200)
		cfg.Seed = seed
		g, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		counts := map[string]int{}
		g.Advance(testStart.Add(24*time.Hour), func(ev *event.LogEvent) { counts[ev.EventType]++ })
		for _, typ := range schemaTypes {
			if counts[typ] == 0 {
				t.Errorf("seed %d: no %s in 24 h of traffic for 200 users", seed, typ)
			}
		}
	}
}

func TestPeople(t *testing.T) {
	g := newTestGenerator(t, 300)
	people := g.People()
	if len(people) != 300 {
		t.Fatalf("got %d people, want 300", len(people))
	}
	ids, logins, statuses := map[string]bool{}, map[string]bool{}, map[string]int{}
	admins, ad := 0, 0
	for _, p := range people {
		if !userIDRe.MatchString(p.ID) || ids[p.ID] {
			t.Fatalf("bad or duplicate id %q", p.ID)
		}
		ids[p.ID] = true
		if !strings.HasSuffix(p.Login, "@acme.example") || logins[p.Login] || p.Email != p.Login {
			t.Fatalf("bad or duplicate login %q", p.Login)
		}
		logins[p.Login] = true
		statuses[p.Status]++
		if p.Status == StatusStaged && !p.Activated.IsZero() || p.Status != StatusStaged && p.Activated.IsZero() {
			t.Fatalf("%s: status %s with activated %v", p.Login, p.Status, p.Activated)
		}
		if p.Created.After(testStart) || p.LastLogin.After(testStart) {
			t.Fatalf("%s: timestamps after Start", p.Login)
		}
		if p.IsAdmin() {
			admins++
			if p.Status != StatusActive {
				t.Fatalf("admin %s is %s", p.Login, p.Status)
			}
		}
		prof := p.Profile()
		if prof["login"] != p.Login || prof["countryCode"] == "" || (prof["ObjectSid"] != nil) != p.ADSourced {
			t.Fatalf("%s: profile %v", p.Login, prof)
		}
		if typ, name := p.Provider(); p.ADSourced && (typ != "ACTIVE_DIRECTORY" || name != "corp.acme.example") || !p.ADSourced && typ != "OKTA" {
			t.Fatalf("%s: provider %s %s", p.Login, typ, name)
		}
		if p.ADSourced {
			ad++
			if !strings.HasPrefix(p.ObjectSid, "S-1-5-21-") || !guidRe.MatchString(p.ObjectGuid) ||
				!strings.HasPrefix(p.DistinguishedName, "CN="+p.FirstName+" "+p.LastName+",OU=") || !strings.HasSuffix(p.DistinguishedName, ",DC=acme,DC=example") {
				t.Fatalf("%s: AD attributes %q %q %q", p.Login, p.ObjectSid, p.ObjectGuid, p.DistinguishedName)
			}
		} else if p.ObjectSid != "" {
			t.Fatalf("%s: not AD-sourced but has a SID", p.Login)
		}
		if p.ManagerID != "" && !ids[p.ManagerID] {
			if _, ok := findPerson(people, p.ManagerID); !ok {
				t.Fatalf("%s: unknown manager %s", p.Login, p.ManagerID)
			}
		}
		if len(p.Devices) == 0 || p.Devices[0].DTHash == "" || len(p.Factors) == 0 || len(p.Apps) == 0 || p.HomeIP == "" || p.ASN == 0 {
			t.Fatalf("%s: incomplete person %+v", p.Login, p)
		}
	}
	if statuses[StatusActive] < 240 || len(statuses) < 5 {
		t.Fatalf("status mix %v", statuses)
	}
	if admins < 2 || ad < 120 || ad > 240 {
		t.Fatalf("admins %d, AD-sourced %d", admins, ad)
	}
	if !reflect.DeepEqual(people, newTestGenerator(t, 300).People()) {
		t.Fatal("same seed produced different people")
	}
}

func findPerson(people []Person, id string) (Person, bool) {
	for _, p := range people {
		if p.ID == id {
			return p, true
		}
	}
	return Person{}, false
}

// People follows the lifecycle events as they are emitted, not as they are planned.
func TestPeopleFollowEmittedEvents(t *testing.T) {
	g := newTestGenerator(t, 200)
	want := map[string]string{} // user id -> expected status; "" = deleted
	var created string
	var createdAt time.Time
	kinds := map[string]int{}
	for now := testStart; now.Before(testStart.Add(48 * time.Hour)); now = now.Add(20 * time.Minute) {
		g.Advance(now, func(ev *event.LogEvent) {
			var status string
			switch ev.EventType {
			case "user.lifecycle.create":
				status = StatusProvisioned
				if created == "" {
					created, createdAt = ev.Target[0].ID, ev.Published
				}
			case "user.lifecycle.activate", "user.lifecycle.unsuspend", "user.account.unlock":
				status = StatusActive
			case "user.lifecycle.deactivate":
				status = StatusDeprovisioned
			case "user.lifecycle.suspend":
				status = StatusSuspended
			case "user.lifecycle.reactivate":
				status = StatusProvisioned
			case "user.lifecycle.delete.initiated":
			default:
				return
			}
			kinds[ev.EventType]++
			want[ev.Target[0].ID] = status
		})
		people := g.People()
		for id, st := range want {
			p, ok := findPerson(people, id)
			if st == "" && ok || st != "" && (!ok || p.Status != st) {
				t.Fatalf("at %v user %s: present %v status %q, want %q", now, id, ok, p.Status, st)
			}
		}
	}
	if len(kinds) < 7 {
		t.Fatalf("too few lifecycle kinds seen: %v", kinds)
	}
	// A fresh generator advanced to just before the create does not know the new hire yet.
	g2 := newTestGenerator(t, 200)
	g2.Advance(createdAt.Add(-time.Millisecond), func(*event.LogEvent) {})
	if _, ok := findPerson(g2.People(), created); ok {
		t.Fatal("new hire visible before its user.lifecycle.create was emitted")
	}
}

// BenchmarkAdvance measures workforce generation for 1,000 users, an hour per op. events/cpu-s
// divides by the process's CPU time, which stays meaningful on a shared, busy machine.
func BenchmarkAdvance(b *testing.B) {
	g := newTestGenerator(b, 1000)
	n := 0
	now := testStart
	b.ReportAllocs()
	cpu0 := benchutil.CPUTime()
	for b.Loop() {
		now = now.Add(time.Hour)
		g.Advance(now, func(*event.LogEvent) { n++ })
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	if cpu := benchutil.CPUTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds(), "events/cpu-s")
	}
}

// One Advance over a month holds no more than a couple of days of events at any time.
func TestLongAdvanceKeepsLittlePending(t *testing.T) {
	g := newTestGenerator(t, 30)
	total, most := 0, 0
	g.Advance(testStart.Add(30*24*time.Hour), func(*event.LogEvent) {
		total++
		most = max(most, len(g.pending))
	})
	if perDay := total / 30; total == 0 || most > 3*perDay {
		t.Fatalf("%d events over 30 days, but up to %d pending at once", total, most)
	}
}

package incident

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func al(id, rule, level string, at time.Duration, group string, tactics ...string) Alert {
	return Alert{ID: id, RuleID: rule, Severity: level, Time: t0.Add(at), GroupKey: group, Tactics: tactics}
}

// groups renders incidents as "a,b|c" (alert ids per incident, in output order).
func groups(incs []Incident) string {
	var parts []string
	for _, in := range incs {
		parts = append(parts, strings.Join(in.Alerts, ","))
	}
	return strings.Join(parts, "|")
}

func TestGroup(t *testing.T) {
	alice := "actor.alternateId=alice@example.com"
	bob := "actor.alternateId=bob@example.com"
	cases := []struct {
		name   string
		cfg    Config
		alerts []Alert
		want   string
	}{
		{"one user one incident", Config{}, []Alert{
			al("a1", "mfa-fail", "low", 0, alice),
			al("a2", "push-fatigue", "high", time.Hour, alice),
		}, "a1,a2"},
		{"case of the login does not split", Config{}, []Alert{
			al("a1", "r", "low", 0, "actor.alternateId=Alice@Example.com"),
			al("a2", "r", "low", time.Hour, alice),
		}, "a1,a2"},
		{"two users two incidents", Config{}, []Alert{
			al("a1", "r", "low", 0, alice),
			al("b1", "r", "low", time.Minute, bob),
		}, "a1|b1"},
		{"window measured from the last alert", Config{}, []Alert{
			al("a1", "r", "low", 0, alice),
			al("a2", "r", "low", 20*time.Hour, alice),
			al("a3", "r", "low", 40*time.Hour, alice),
		}, "a1,a2,a3"},
		{"past the window a new incident", Config{}, []Alert{
			al("a1", "r", "low", 0, alice),
			al("a2", "r", "low", 25*time.Hour, alice),
		}, "a1|a2"},
		{"configured window", Config{Window: time.Hour}, []Alert{
			al("a1", "r", "low", 0, alice),
			al("a2", "r", "low", 2*time.Hour, alice),
		}, "a1|a2"},
		{"spray from one source is about the source", Config{}, []Alert{
			al("s1", "spray", "high", 0, "client.ipAddress=203.0.113.9"),
			al("s2", "stuffing", "high", time.Hour, "client.ipAddress=203.0.113.9"),
		}, "s1,s2"},
		{"an alert linking two users merges their incidents", Config{}, []Alert{
			al("a1", "r", "low", 0, alice),
			al("b1", "r", "low", time.Minute, bob),
			al("x1", "admin-grant", "high", time.Hour, "actor.alternateId=alice@example.com, target.id=bob@example.com"),
			al("b2", "r", "low", 2*time.Hour, bob),
		}, "a1,b1,x1,b2"},
		{"source linked to a user by a success from it", Config{}, []Alert{
			al("s1", "spray", "high", 0, "client.ipAddress=203.0.113.9"),
			al("a1", "spray-success", "high", time.Hour, "actor.alternateId=alice@example.com, client.ipAddress=203.0.113.9"),
			al("a2", "r", "low", 2*time.Hour, alice),
		}, "s1,a1,a2"},
		{"empty group value names nothing", Config{}, []Alert{
			al("a1", "r", "low", 0, "actor.alternateId=alice@example.com, client.ipAddress="),
			al("b1", "r", "low", time.Minute, "actor.alternateId=bob@example.com, client.ipAddress="),
		}, "a1|b1"},
		{"ungrouped alerts group by rule", Config{}, []Alert{
			al("g1", "global", "medium", 0, ""),
			al("g2", "global", "medium", time.Hour, ""),
			al("h1", "other", "medium", time.Hour, ""),
		}, "g1,g2|h1"},
		{"two orgs never share an incident", Config{}, []Alert{
			{ID: "o1", RuleID: "r", Severity: "low", Time: t0, GroupKey: alice, Scope: "1"},
			{ID: "o2", RuleID: "r", Severity: "low", Time: t0.Add(time.Minute), GroupKey: alice, Scope: "2"},
		}, "o1|o2"},
		{"a repeated alert id counts once", Config{}, []Alert{
			al("a1", "r", "low", 0, alice),
			al("a1", "r", "low", 0, alice),
		}, "a1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Group(c.alerts, c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if g := groups(got); g != c.want {
				t.Errorf("incidents %q, want %q", g, c.want)
			}
		})
	}
}

func TestGroupMergeRecordsAndKeepsEarliestID(t *testing.T) {
	alerts := []Alert{
		al("a1", "r", "low", 0, "actor.alternateId=alice@example.com"),
		al("b1", "r", "low", time.Minute, "actor.alternateId=bob@example.com"),
		al("x1", "grant", "high", time.Hour, "actor.alternateId=alice@example.com, target.id=bob@example.com"),
	}
	got, err := Group(alerts, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d incidents, want 1", len(got))
	}
	in := got[0]
	if want := incidentID("", "a1", "user:alice@example.com"); in.ID != want {
		t.Errorf("id %s, want %s (the earliest alert's)", in.ID, want)
	}
	if want := []string{incidentID("", "b1", "user:bob@example.com")}; !slices.Equal(in.Merged, want) {
		t.Errorf("merged %v, want %v", in.Merged, want)
	}
	if in.Entity != "user:alice@example.com" || len(in.Entities) != 2 {
		t.Errorf("entity %s, entities %v", in.Entity, in.Entities)
	}
}

func TestScore(t *testing.T) {
	alice := "actor.alternateId=alice@example.com"
	cases := []struct {
		name     string
		alerts   []Alert
		points   []int
		risk     int
		severity string
		stage    string
	}{
		{"a single low alert", []Alert{al("a", "r1", "low", 0, alice)}, []int{2}, 2, "low", ""},
		{"severity never below the worst alert", []Alert{al("a", "r1", "critical", 0, alice)}, []int{15}, 15, "critical", ""},
		{"repeats add little", []Alert{
			al("a", "r1", "high", 0, alice), al("b", "r1", "high", time.Minute, alice), al("c", "r1", "high", 2*time.Minute, alice),
		}, []int{10, 1, 1}, 12, "high", ""},
		{"breadth: a new rule and a new entity", []Alert{
			al("a", "r1", "medium", 0, alice),
			al("b", "r2", "medium", time.Minute, "actor.alternateId=alice@example.com, client.ipAddress=198.51.100.7"),
		}, []int{5, 8}, 13, "medium", ""},
		{"the kill chain raises the risk stage by stage", []Alert{
			al("a", "r1", "medium", 0, alice, "attack.initial-access"),
			al("b", "r2", "medium", time.Minute, alice, "attack.credential-access"),
			al("c", "r3", "medium", 2*time.Minute, alice, "attack.persistence"),
			al("d", "r4", "high", 3*time.Minute, alice, "attack.privilege-escalation", "TA0005"),
		}, []int{13, 13, 13, 26}, 65, "high", "defense-evasion"},
		{"a stage already reached adds nothing", []Alert{
			al("a", "r1", "medium", 0, alice, "attack.persistence"),
			al("b", "r2", "medium", time.Minute, alice, "attack.initial_access"),
		}, []int{29, 5}, 34, "medium", "persistence"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Group(c.alerts, Config{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("%d incidents, want 1", len(got))
			}
			in := got[0]
			var pts []int
			sum := 0
			for _, c := range in.Contributions {
				pts = append(pts, c.Points)
				sum += c.Points
				if c.Points != c.Rule+c.Entities+c.Stage {
					t.Errorf("contribution %+v does not add up", c)
				}
			}
			if !slices.Equal(pts, c.points) || in.Risk != c.risk || in.Severity != c.severity || in.Stage != c.stage {
				t.Errorf("points %v risk %d severity %s stage %q; want %v %d %s %q", pts, in.Risk, in.Severity, in.Stage,
					c.points, c.risk, c.severity, c.stage)
			}
			if sum != in.Risk {
				t.Errorf("contributions sum to %d, risk %d", sum, in.Risk)
			}
		})
	}
}

func TestRiskIsCapped(t *testing.T) {
	var alerts []Alert
	for i := range 20 {
		alerts = append(alerts, al(fmt.Sprint("a", i), fmt.Sprint("r", i), "critical", time.Duration(i)*time.Minute,
			"actor.alternateId=alice@example.com", "attack.defense-evasion"))
	}
	got, _ := Group(alerts, Config{})
	if got[0].Risk != maxRisk || got[0].Severity != "critical" {
		t.Errorf("risk %d severity %s, want %d critical", got[0].Risk, got[0].Severity, maxRisk)
	}
}

func TestConfigValidate(t *testing.T) {
	if _, err := Group(nil, Config{Window: -time.Hour}); err == nil || !strings.Contains(err.Error(), "window") {
		t.Errorf("negative window: error %v, want one naming the window", err)
	}
}

func TestEntitiesFromGroup(t *testing.T) {
	got := EntitiesFromGroup("actor.alternateId=Alice@Example.com, client.ipAddress=203.0.113.9, " +
		"authenticationContext.externalSessionId=idx1, debugContext.debugData.dtHash=ab, outcome.reason=a, b, target.id=")
	want := []Entity{"user:alice@example.com", "ip:203.0.113.9", "session:idx1", "device:ab", "field:outcome.reason=a, b"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// TestShuffledInputGivesIdenticalIncidents feeds the same alerts in many orders and requires
// byte-identical output.
func TestShuffledInputGivesIdenticalIncidents(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	users := []string{"alice", "bob", "carol", "dave", "erin"}
	var alerts []Alert
	for i := range 300 {
		u := users[rng.IntN(len(users))]
		g := "actor.alternateId=" + u + "@example.com"
		switch rng.IntN(6) {
		case 0:
			g = "client.ipAddress=203.0.113." + fmt.Sprint(rng.IntN(3))
		case 1:
			g += ", target.id=" + users[rng.IntN(len(users))] + "@example.com"
		case 2:
			g += ", client.ipAddress=203.0.113." + fmt.Sprint(rng.IntN(3))
		}
		tac := stages[rng.IntN(len(stages))].name
		// Coarse times so that many alerts tie and the id decides.
		at := time.Duration(rng.IntN(2000)) * time.Hour
		id := fmt.Sprintf("%03d", rng.IntN(1000))
		if i%10 == 0 && i > 0 {
			id = alerts[i-1].ID // a repeated id, with different content
		}
		alerts = append(alerts, al(id, fmt.Sprint("r", rng.IntN(8)),
			[]string{"low", "medium", "high"}[rng.IntN(3)], at, g, "attack."+tac))
	}
	want := render(t, alerts)
	for range 50 {
		rng.Shuffle(len(alerts), func(i, j int) { alerts[i], alerts[j] = alerts[j], alerts[i] })
		if got := render(t, alerts); got != want {
			t.Fatalf("shuffled input gave different incidents:\n%s\nwant\n%s", got, want)
		}
	}
	// Every alert id lands in exactly one incident.
	var incs []Incident
	if err := json.Unmarshal([]byte(want), &incs); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, in := range incs {
		for _, a := range in.Alerts {
			seen[a]++
		}
	}
	for _, a := range alerts {
		if seen[a.ID] != 1 {
			t.Errorf("alert %s in %d incidents", a.ID, seen[a.ID])
		}
	}
	if len(incs) < 3 {
		t.Errorf("only %d incidents: the test input does not exercise windows", len(incs))
	}
}

func render(t *testing.T, alerts []Alert) string {
	t.Helper()
	incs, err := Group(alerts, Config{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(incs)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCampaignLinksManyAccountAttacks: spraying and stuffing alerts of one org, each keyed by
// another address or device and naming other sampled users, form one incident; an unrelated
// alert from another address stays apart, and another org's spray is its own campaign.
func TestCampaignLinksManyAccountAttacks(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	spray := []string{"T1110.003"}
	alerts := []Alert{
		{ID: "s1", RuleID: "spray_one_ip", Severity: "high", Time: t0, Scope: "1", GroupKey: "client.ipAddress=203.0.113.1", Techniques: spray},
		{ID: "s2", RuleID: "spray_one_ip", Severity: "high", Time: t0.Add(5 * time.Minute), Scope: "1", GroupKey: "client.ipAddress=198.51.100.7", Techniques: spray},
		{ID: "d1", RuleID: "device_many_users", Severity: "high", Time: t0.Add(9 * time.Minute), Scope: "1",
			GroupKey: "debugContext.debugData.dtHash=abc", Techniques: []string{"T1110.004"}, Entities: []Entity{"user:mason@example.com"}},
		{ID: "x1", RuleID: "new_country", Severity: "medium", Time: t0.Add(7 * time.Minute), Scope: "1", GroupKey: "client.ipAddress=192.0.2.9",
			Techniques: []string{"T1078"}},
		{ID: "o1", RuleID: "spray_one_ip", Severity: "high", Time: t0, Scope: "2", GroupKey: "client.ipAddress=203.0.113.1", Techniques: spray},
	}
	incs, err := Group(alerts, Config{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range incs {
		got = append(got, in.Scope+":"+strings.Join(in.Alerts, ","))
	}
	slices.Sort(got)
	want := []string{"1:s1,s2,d1", "1:x1", "2:o1"}
	if !slices.Equal(got, want) {
		t.Fatalf("incidents %v, want %v", got, want)
	}
}

package rules

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/detect"
	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/oktasim/scenario"
)

// labelTag prefixes the tag that says a rule detects one of oktasim's storyline labels:
// idwatch.label.okta_mfa_push_fatigue maps the rule to the label okta_mfa_push_fatigue.
const labelTag = "idwatch.label."

// simStart is the simulated org's clock origin: a Monday, so the first days are working days.
var simStart = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// pack is the compiled built-in pack with the label mapping its tags declare.
type pack struct {
	rs     *detect.Ruleset
	labels map[string][]string // rule key -> labels
}

func loadPack(t testing.TB) pack {
	t.Helper()
	files, err := detect.LoadFS(FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := detect.Compile(files)
	if err != nil {
		t.Fatal(err)
	}
	p := pack{rs: rs, labels: map[string][]string{}}
	for _, r := range rs.Rules() {
		for _, tag := range r.Tags {
			if l, ok := strings.CutPrefix(tag, labelTag); ok {
				p.labels[r.Key()] = append(p.labels[r.Key()], l)
			}
		}
	}
	return p
}

// run feeds events, in order, through a fresh engine as production does (marshalled, then
// decoded into the typed model) and returns every alert. Absence windows still open at the
// last event stay open: their deadline has not come.
func (p pack) run(t testing.TB, evs []*event.LogEvent) []detect.Alert {
	t.Helper()
	e, err := detect.New(p.rs, detect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var out []detect.Alert
	var buf []byte
	for _, ev := range evs {
		buf, err = ev.AppendJSON(buf[:0])
		if err != nil {
			t.Fatal(err)
		}
		dec, err := event.Decode(buf)
		if err != nil {
			t.Fatalf("decode %s: %v", ev.UUID, err)
		}
		as, err := e.Process(detect.Input{Fields: dec})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, as...)
	}
	return out
}

// benign returns a generator of users people and its first days of workforce traffic.
func benign(t testing.TB, seed int64, users, days int) (*scenario.Generator, []*event.LogEvent) {
	t.Helper()
	g, err := scenario.New(scenario.Config{Seed: seed, Users: users, OrgDomain: "acme.example", Start: simStart})
	if err != nil {
		t.Fatal(err)
	}
	var evs []*event.LogEvent
	g.Advance(simStart.Add(time.Duration(days)*24*time.Hour), func(ev *event.LogEvent) { evs = append(evs, ev) })
	return g, evs
}

// TestStorylinesRaiseTheirLabels injects every oktasim storyline into workforce traffic
// after three working days of benign history (so baselines such as an admin's usual networks exist) and
// requires, for each label of the storyline, an alert of a rule tagged with that label whose
// evidence includes the storyline's own events.
func TestStorylinesRaiseTheirLabels(t *testing.T) {
	p := loadPack(t)
	mapped := map[string]bool{}
	for _, ls := range p.labels {
		for _, l := range ls {
			mapped[l] = true
		}
	}
	for _, l := range scenario.DetectionLabels() {
		if !mapped[l.Name] {
			t.Errorf("no built-in rule carries the tag %s%s", labelTag, l.Name)
		}
	}
	known := map[string]bool{}
	for _, l := range scenario.DetectionLabels() {
		known[l.Name] = true
	}
	for l := range mapped {
		if !known[l] {
			t.Errorf("tag %s%s names no oktasim label", labelTag, l)
		}
	}

	const historyDays = 3
	g, evs := benign(t, 11, 300, historyDays)
	at := simStart.Add(historyDays * 24 * time.Hour)
	var stories []scenario.Story
	for _, sl := range scenario.Storylines() {
		// Midday, 90 minutes apart, so windows of one story do not reach the next.
		at = at.Add(90 * time.Minute)
		g.Advance(at, func(ev *event.LogEvent) { evs = append(evs, ev) })
		st, err := g.Storyline(sl.Name, at)
		if err != nil {
			t.Fatal(err)
		}
		g.Apply(st)
		stories = append(stories, st)
		evs = append(evs, st.Events...)
	}
	g.Advance(at.Add(13*time.Hour), func(ev *event.LogEvent) { evs = append(evs, ev) })
	slices.SortStableFunc(evs, func(a, b *event.LogEvent) int { return a.Published.Compare(b.Published) })

	alerts := p.run(t, evs)
	for _, st := range stories {
		mine := map[string]bool{}
		for _, ev := range st.Events {
			mine[ev.UUID] = true
		}
		raised := map[string][]string{} // label -> rules
		var other []string
		for _, a := range alerts {
			if !slices.ContainsFunc(a.Events, func(u string) bool { return mine[u] }) {
				continue
			}
			ls := p.labels[a.RuleID]
			if len(ls) == 0 {
				other = append(other, a.Title)
			}
			for _, l := range ls {
				raised[l] = append(raised[l], a.Title)
			}
		}
		for _, l := range st.Detections {
			if len(raised[l]) == 0 {
				t.Errorf("storyline %s: label %s not raised (alerts on its events: %v; unlabelled: %v)", st.Name, l, raised, other)
			}
		}
	}
}

// TestBenignWorkforceIsQuiet runs benign oktasim workforce traffic through the whole pack and
// holds it to the budget of 10 alerts per million events. The normal run uses 100,000 events
// (20,000 with -short or -race) and allows one alert; IDWATCH_BENIGN_EVENTS=1000000 runs the
// full million (IDWATCH_BENIGN_USERS sets the org's size).
func TestBenignWorkforceIsQuiet(t *testing.T) {
	want := 100_000
	if s := os.Getenv("IDWATCH_BENIGN_EVENTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("IDWATCH_BENIGN_EVENTS=%q: want a positive number of events", s)
		}
		want = n
	} else if testing.Short() || raceEnabled {
		want = 20_000
	}
	// A mid-size org over enough days to reach want; baselines learn as they would in
	// production, so the first days count too.
	users := 2_000
	if want >= 500_000 {
		users = 5_000
	}
	if s := os.Getenv("IDWATCH_BENIGN_USERS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > scenario.MaxUsers {
			t.Fatalf("IDWATCH_BENIGN_USERS=%q: want 1..%d", s, scenario.MaxUsers)
		}
		users = n
	}
	g, err := scenario.New(scenario.Config{Seed: 7, Users: users, OrgDomain: "acme.example", Start: simStart})
	if err != nil {
		t.Fatal(err)
	}
	var evs []*event.LogEvent
	for day := 1; len(evs) < want; day++ {
		g.Advance(simStart.Add(time.Duration(day)*24*time.Hour), func(ev *event.LogEvent) {
			if len(evs) < want {
				evs = append(evs, ev)
			}
		})
	}
	p := loadPack(t)
	alerts := p.run(t, evs)
	budget := max(1, 10*len(evs)/1_000_000)
	per := map[string]int{}
	for _, a := range alerts {
		per[a.Title]++
	}
	type row struct {
		title string
		n     int
	}
	var rows []row
	for k, n := range per {
		rows = append(rows, row{k, n})
	}
	sort.Slice(rows, func(i, j int) bool {
		return cmp.Or(rows[j].n-rows[i].n, strings.Compare(rows[i].title, rows[j].title)) < 0
	})
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "\n  %5d %s", r.n, r.title)
	}
	t.Logf("%d benign events (%d users, %s..%s): %d alerts%s", len(evs), users,
		evs[0].Published.Format(time.DateOnly), evs[len(evs)-1].Published.Format(time.DateOnly), len(alerts), b.String())
	if len(alerts) > budget {
		t.Errorf("%d alerts on %d benign events; the budget is %d", len(alerts), len(evs), budget)
	}
}

package process

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/detect"
	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/normalize"
	"github.com/idwatch/idwatch/internal/store"
)

// sortedReference is what `replay` of the time-sorted export raises: fresh engines (one per org)
// fed every event of sharedCorpus in published order (ties by uuid), keyed by alert id.
var sortedReference = sync.OnceValue(func() map[string]detect.Alert {
	rs, _, err := LoadRules("", false)
	if err != nil {
		panic(err)
	}
	return timeSortedAlerts(&testing.B{}, sharedCorpus(), rs)
})

// timeSortedAlerts runs fresh engines over the corpus in published order.
func timeSortedAlerts(t testing.TB, c *corpus, rs *detect.Ruleset) map[string]detect.Alert {
	t.Helper()
	type item struct {
		org int64
		ev  store.Event
	}
	var all []item
	for _, p := range c.pages {
		for _, e := range p.events {
			all = append(all, item{p.integration, e})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i].ev, all[j].ev
		if !a.Published.Equal(b.Published) {
			return a.Published.Before(b.Published)
		}
		return a.UUID < b.UUID
	})
	engines := map[int64]*detect.Engine{}
	norm := normalize.New()
	out := map[string]detect.Alert{}
	for _, it := range all {
		eng := engines[it.org]
		if eng == nil {
			var err error
			if eng, err = detect.New(rs, detect.Config{}); err != nil {
				t.Fatal(err)
			}
			engines[it.org] = eng
		}
		ev, err := event.Decode(it.ev.Raw)
		if err != nil {
			t.Fatal(err)
		}
		inputs := []detect.Input{{Fields: ev}}
		for _, r := range norm.Normalize(ev, normalize.Meta{Raw: it.ev.Raw}) {
			inputs = append(inputs, detect.Input{Fields: r, Schema: string(r.Schema)})
		}
		for _, in := range inputs {
			as, err := eng.Process(in)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range as {
				a.Events = slices.Clone(a.Events)
				out[a.ID] = a
			}
		}
	}
	return out
}

// arrival is one way the journal can receive the corpus: the order of its pages, where the
// processor runs between them, and where it restarts.
type arrival struct {
	name string
	// order returns the corpus's page indexes in arrival order.
	order func(c *corpus) []int
	// every is how many pages arrive between processor steps; restartEvery restarts the
	// processor (a new one over the same store) after that many steps (0: never).
	every, restartEvery int
	// historyLast is set when some of an org's history arrives after later events were already
	// judged (live before backfill, pages in any order): alerts raised then are kept, so the
	// stored alerts are a superset of the replay's.
	historyLast bool
	// restartsMidCatchUp requires a restart to meet a catch-up half done.
	restartsMidCatchUp bool
}

// splitAt returns the page indexes whose first event is before and at or after t.
func splitAt(c *corpus, t time.Time) (before, after []int) {
	for i, p := range c.pages {
		if p.events[0].Published.Before(t) {
			before = append(before, i)
		} else {
			after = append(after, i)
		}
	}
	return before, after
}

// windows reorders page indexes (in time order) into backfill windows of span w, newest window
// first when descending is set (bounded backfills of any size, run in any order).
func windows(c *corpus, idx []int, w time.Duration, descending bool) []int {
	groups := map[int64][]int{}
	var keys []int64
	for _, i := range idx {
		k := c.pages[i].events[0].Published.Sub(start).Nanoseconds() / w.Nanoseconds()
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], i)
	}
	slices.Sort(keys)
	if descending {
		slices.Reverse(keys)
	}
	var out []int
	for _, k := range keys {
		out = append(out, groups[k]...)
	}
	return out
}

// interleave alternates a and b one page at a time (live polling while a backfill runs).
func interleave(a, b []int) []int {
	var out []int
	for len(a) > 0 || len(b) > 0 {
		if len(a) > 0 {
			out, a = append(out, a[0]), a[1:]
		}
		if len(b) > 0 {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return out
}

func arrivals() []arrival {
	lastHour := func(c *corpus) time.Time { return c.pages[len(c.pages)-1].events[0].Published.Add(-time.Hour) }
	all := func(c *corpus) []int {
		idx := make([]int, len(c.pages))
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	return []arrival{
		{name: "live", every: 3, order: all},
		{name: "backfill 3h windows, restarts", every: 1, restartEvery: 4, order: func(c *corpus) []int { return windows(c, all(c), 3*time.Hour, false) }},
		{name: "live last hour, then backfill before it", every: 2, historyLast: true, order: func(c *corpus) []int {
			before, after := splitAt(c, lastHour(c))
			return append(after, windows(c, before, 24*time.Hour, false)...)
		}},
		{name: "backfill in 1h windows, newest first", every: 1, historyLast: true, order: func(c *corpus) []int {
			return windows(c, all(c), time.Hour, true)
		}},
		{name: "backfill while live runs, restarts", every: 1, restartEvery: 5, historyLast: true, restartsMidCatchUp: true, order: func(c *corpus) []int {
			before, after := splitAt(c, lastHour(c).Add(-2*time.Hour))
			return interleave(after, windows(c, before, 2*time.Hour, false))
		}},
		{name: "shuffled pages, restarts", every: 1, restartEvery: 4, historyLast: true, order: func(c *corpus) []int {
			idx := all(c)
			rand.New(rand.NewPCG(11, 11)).Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
			return idx
		}},
	}
}

// runArrival feeds the corpus to a fresh store in the arrival's order, stepping the processor as
// Run does (a clock that moves 20s per step, so late entries settle during the run as well as at
// its end), and returns the stored alerts' ids.
func runArrival(t *testing.T, c *corpus, a arrival) ([]store.Alert, Stats) {
	t.Helper()
	ctx := context.Background()
	s := openStore(t, t.TempDir(), nil)
	now := start.Add(24 * time.Hour)
	clock := func() time.Time { return now }
	var total Stats
	newProc := func() *Processor {
		p, err := New(ctx, Config{Store: s, BatchSize: 64, Clock: clock, IdleDelay: -1, LateSettle: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := newProc()
	add := func(st Stats) {
		total.Late += st.Late
		total.CaughtUp += st.CaughtUp
		total.Replayed += st.Replayed
	}
	midCatchUp := 0
	order := a.order(c)
	steps := 0
	for i := 0; i < len(order); i += a.every {
		for _, pi := range order[i:min(i+a.every, len(order))] {
			pg := c.pages[pi]
			if _, err := s.AppendPage(ctx, pg.integration, pg.events, nil); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := p.processAvailable(ctx); err != nil {
			t.Fatal(err)
		}
		// Small catch-up steps, so that restarts and live entries meet catch-ups half done.
		if _, _, err := p.catchUp(ctx, false, 16); err != nil {
			t.Fatal(err)
		}
		now = now.Add(20 * time.Second)
		steps++
		if a.restartEvery > 0 && steps%a.restartEvery == 0 {
			for _, in := range p.integ {
				if in.late != nil && in.late.eng != nil {
					midCatchUp++
				}
			}
			add(p.Stats())
			p = newProc()
		}
	}
	drain(t, p)
	add(p.Stats())
	if a.restartEvery > 0 && total.Replayed == 0 {
		t.Error("no restart replayed anything")
	}
	if a.restartsMidCatchUp && midCatchUp == 0 {
		t.Error("no restart happened in the middle of a catch-up")
	}
	return allAlerts(t, s), total
}

// TestOrderIndependence proves that processing does not depend on the order in which the
// journal received the events. Whenever each org's history arrives before the events that follow
// it (live collection, backfills of any window size, restarts in between), the stored alerts are
// exactly those a replay of the time-sorted events raises. When history arrives after later events
// were judged (live collection before a backfill of the time before it, backfill while live runs,
// pages in any order), no replay alert is missing, and the only extra alerts are those raised on
// the partial history: each repeats a rule and group the replay alerts on (the replay suppressed
// it, or grouped the same events differently).
func TestOrderIndependence(t *testing.T) {
	c := sharedCorpus()
	ref := sortedReference()
	want := make([]string, 0, len(ref))
	ruleGroups := map[string]bool{}
	for id, a := range ref {
		want = append(want, id)
		ruleGroups[a.RuleID+"\x00"+groupKey(a.Group)] = true
	}
	slices.Sort(want)
	byStory := storyOf(c)
	counts := map[string][]int{}
	names := []string{"replay"}
	tally := func(col int, ids []string) {
		for _, id := range ids {
			story := "(no storyline)"
			if a, ok := ref[id]; ok {
				for _, u := range a.Events {
					if s, ok := byStory[u]; ok {
						story = s
						break
					}
				}
			} else {
				story = "(extra: raised on partial history)"
			}
			if counts[story] == nil {
				counts[story] = make([]int, len(arrivals())+1)
			}
			counts[story][col]++
		}
	}
	tally(0, want)
	for i, a := range arrivals() {
		names = append(names, a.name)
		t.Run(strings.ReplaceAll(a.name, " ", "_"), func(t *testing.T) {
			alerts, st := runArrival(t, c, a)
			got := alertIDs(t, alerts)
			tally(i+1, got)
			t.Logf("%s: %d alerts; %d entries arrived late, %d re-evaluated in published order, %d replayed after restarts",
				a.name, len(got), st.Late, st.CaughtUp, st.Replayed)
			missing, extra := diff(want, got), diff(got, want)
			if len(missing) > 0 {
				t.Errorf("%d alerts of the time-sorted replay are missing: %v", len(missing), describe(ref, missing))
			}
			if !a.historyLast && len(extra) > 0 {
				t.Errorf("%d alerts the time-sorted replay does not raise: %v", len(extra), extra)
			}
			for _, x := range alerts {
				if _, ok := ref[x.ID]; !ok && !ruleGroups[x.RuleID+"\x00"+x.GroupKey] {
					t.Errorf("extra alert %s (%s, %s at %s) repeats no rule and group of the replay", x.ID, x.RuleID, x.GroupKey, x.Time)
				}
			}
		})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "alerts per storyline (columns: %s)\n", strings.Join(names, " | "))
	var stories []string
	for s := range counts {
		stories = append(stories, s)
	}
	slices.Sort(stories)
	for _, s := range stories {
		fmt.Fprintf(&b, "  %-40s %v\n", s, counts[s])
	}
	t.Log(b.String())
}

// storyOf maps each storyline event's uuid to its storyline's name.
func storyOf(c *corpus) map[string]string {
	m := map[string]string{}
	for _, st := range c.stories {
		for _, ev := range st.Events {
			m[ev.UUID] = st.Name
		}
	}
	return m
}

// describe names the rule and evidence of each alert id, for failure messages.
func describe(ref map[string]detect.Alert, ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		a := ref[id]
		out[i] = fmt.Sprintf("%s (%s at %s, %d events)", id[:8], a.RuleID, a.Time.Format(time.RFC3339), a.EventCount)
	}
	return out
}

// TestFirstSeenInPublishedOrder judges "new address for this user" against the sightings before
// each event in published order, whatever order the sightings arrived in: the last days arrive
// first (live collection), the days before them later (a backfill), or one day alone at the end.
// Every alert the time-sorted replay raises is stored. An alert raised before the history that
// contradicts it arrived stays stored (sinks already have it): the extra column names those.
func TestFirstSeenInPublishedOrder(t *testing.T) {
	rules := writeRules(t, map[string]string{"marker.yml": markerRules})
	day := 24 * time.Hour
	evs := []store.Event{
		markerEvent(t, 1, start, "192.0.2.1"),                // alice's first address: her baseline
		markerEvent(t, 2, start.Add(day), "198.51.100.2"),    // new: alert
		markerEvent(t, 3, start.Add(2*day), "198.51.100.2"),  // seen the day before
		markerEvent(t, 4, start.Add(3*day), "203.0.113.4"),   // new: alert
		markerEvent(t, 5, start.Add(4*day), "192.0.2.1"),     // seen on the first day
		markerEvent(t, 6, start.Add(5*day), "198.51.100.66"), // new: alert
	}
	want := []string{"marker-2", "marker-4", "marker-6"}
	for _, c := range []struct {
		name  string
		pages [][]int
		extra []string
	}{
		{"in order", [][]int{{0, 1, 2, 3, 4, 5}}, nil},
		{"in order, one event at a time", [][]int{{0}, {1}, {2}, {3}, {4}, {5}}, nil},
		{"backfill of the first days last", [][]int{{4, 5}, {0, 1, 2, 3}}, nil},
		// Day 4's address was judged before day 0 (which has it) arrived.
		{"live days first, then backfill", [][]int{{2, 3, 4, 5}, {0, 1}}, []string{"marker-5"}},
		// Day 2's address was judged before day 1 (which has it) arrived.
		{"one day late", [][]int{{0, 2, 3, 4, 5}, {1}}, []string{"marker-3"}},
		{"newest first", [][]int{{5}, {4}, {3}, {2}, {1}, {0}}, []string{"marker-5"}},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			s := openStore(t, t.TempDir(), nil)
			p, err := New(t.Context(), Config{Store: s, RulesDir: rules, Clock: fixedClock})
			if err != nil {
				t.Fatal(err)
			}
			for _, pg := range c.pages {
				var page []store.Event
				for _, i := range pg {
					page = append(page, evs[i])
				}
				if _, err := s.AppendPage(t.Context(), 1, page, nil); err != nil {
					t.Fatal(err)
				}
				drain(t, p)
			}
			var got []string
			for _, a := range allAlerts(t, s) {
				var f struct {
					FindingInfo struct {
						RelatedEvents []struct{ UID string } `json:"related_events"`
					} `json:"finding_info"`
				}
				if err := json.Unmarshal(a.Body, &f); err != nil {
					t.Fatal(err)
				}
				for _, r := range f.FindingInfo.RelatedEvents {
					got = append(got, r.UID)
				}
			}
			slices.Sort(got)
			if w := slices.Sorted(slices.Values(append(slices.Clone(want), c.extra...))); !slices.Equal(got, w) {
				t.Fatalf("alerts on %v, want %v", got, w)
			}
		})
	}
}

// TestCatchUpFollowsBackfill runs the processor as Run does while a backfill of the hours before
// live collection arrives page by page: the alerts about the backfilled hours appear as the pages
// do, without waiting for the backfill to end, and the catch-up replaces the live engine only once
// late pages have stopped for LateSettle.
func TestCatchUpFollowsBackfill(t *testing.T) {
	c := sharedCorpus()
	ctx := context.Background()
	s := openStore(t, t.TempDir(), nil)
	now := start.Add(24 * time.Hour)
	p, err := New(ctx, Config{Store: s, BatchSize: 64, Clock: func() time.Time { return now }, IdleDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	step := func() {
		t.Helper()
		if _, err := p.processAvailable(ctx); err != nil {
			t.Fatal(err)
		}
		for {
			_, more, err := p.catchUp(ctx, false, 4*p.cfg.BatchSize)
			if err != nil {
				t.Fatal(err)
			}
			if !more {
				return
			}
		}
	}
	before, after := splitAt(c, c.pages[len(c.pages)-1].events[0].Published.Add(-time.Hour))
	c.appendPagesIdx(t, s, after)
	step()
	live := len(allAlerts(t, s))
	for _, i := range before {
		c.appendPagesIdx(t, s, []int{i})
		now = now.Add(10 * time.Second) // a page every 10s: late entries never settle
		step()
	}
	following := len(allAlerts(t, s))
	var pending bool
	for _, in := range p.integ {
		pending = pending || in.late != nil
	}
	if !pending || following <= live {
		t.Fatalf("while the backfill arrives: catch-up pending %v, alerts %d after live collection, %d after the backfill's pages", pending, live, following)
	}
	now = now.Add(p.cfg.LateSettle)
	step()
	for _, in := range p.integ {
		if in.late != nil {
			t.Fatalf("integration %d: the catch-up did not run on to the live engine after LateSettle", in.id)
		}
	}
	got := alertIDs(t, allAlerts(t, s))
	ref := sortedReference()
	for id := range ref {
		if _, ok := slices.BinarySearch(got, id); !ok {
			t.Errorf("alert %s of the time-sorted replay is missing", describe(ref, []string{id}))
		}
	}
	t.Logf("alerts: %d after live collection, %d while the backfill arrived, %d after it settled (replay: %d)", live, following, len(got), len(ref))
}

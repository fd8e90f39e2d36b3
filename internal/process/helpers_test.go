package process

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/detect"
	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/normalize"
	"github.com/idwatch/idwatch/internal/oktasim/scenario"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// start is the scenario's clock origin.
var start = time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)

// fixedClock is the processed time stamped on records in tests.
func fixedClock() time.Time { return time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC) }

// page is one journal page of an integration.
type page struct {
	integration int64
	events      []store.Event
}

// corpus is a journal's worth of oktasim traffic: workforce events of two orgs with attack
// storylines injected, in published order, split into pages.
type corpus struct {
	pages   []page
	stories []scenario.Story
	total   int
}

// buildCorpus generates hours of traffic per org and one instance of every storyline in org 1.
func buildCorpus(t testing.TB, hours int) *corpus {
	t.Helper()
	c := &corpus{}
	for org := int64(1); org <= 2; org++ {
		g, err := scenario.New(scenario.Config{Seed: org, Users: 60, OrgDomain: "org" + string(rune('0'+org)) + ".example", Start: start})
		if err != nil {
			t.Fatal(err)
		}
		var evs []*event.LogEvent
		end := start.Add(time.Duration(hours) * time.Hour)
		g.Advance(start.Add(8*time.Hour), func(ev *event.LogEvent) { evs = append(evs, ev) })
		if org == 1 {
			at := start.Add(8*time.Hour + 10*time.Minute)
			for _, info := range scenario.Storylines() {
				st, err := g.Storyline(info.Name, at)
				if err != nil {
					t.Fatalf("storyline %s: %v", info.Name, err)
				}
				g.Apply(st)
				c.stories = append(c.stories, st)
				evs = append(evs, st.Events...)
				at = at.Add(7 * time.Minute)
			}
		}
		g.Advance(end, func(ev *event.LogEvent) { evs = append(evs, ev) })
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].Published.Before(evs[j].Published) })
		for i := 0; i < len(evs); i += 50 {
			var p page
			p.integration = org
			for _, ev := range evs[i:min(i+50, len(evs))] {
				raw, err := json.Marshal(ev)
				if err != nil {
					t.Fatal(err)
				}
				p.events = append(p.events, store.Event{UUID: ev.UUID, Published: ev.Published, EventType: ev.EventType, Raw: raw})
			}
			c.pages = append(c.pages, p)
			c.total += len(p.events)
		}
	}
	// Interleave the orgs' pages by time, as two collectors would.
	sort.SliceStable(c.pages, func(i, j int) bool {
		return c.pages[i].events[0].Published.Before(c.pages[j].events[0].Published)
	})
	return c
}

// appendPages appends pages [from, to) of the corpus to s.
func (c *corpus) appendPages(t testing.TB, s store.Store, from, to int) {
	t.Helper()
	for _, p := range c.pages[from:to] {
		if _, err := s.AppendPage(context.Background(), p.integration, p.events, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// appendPagesIdx appends the corpus's pages at the given indexes to s, in that order.
func (c *corpus) appendPagesIdx(t testing.TB, s store.Store, idx []int) {
	t.Helper()
	for _, i := range idx {
		if _, err := s.AppendPage(context.Background(), c.pages[i].integration, c.pages[i].events, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// faults is a switchable fault hook for a store: once armed, the armed point passes skip more
// times and then fails every time.
type faults struct {
	armed atomic.Pointer[store.FaultPoint]
	skip  atomic.Int32
}

func (f *faults) hook(p store.FaultPoint) error {
	if a := f.armed.Load(); a != nil && *a == p && f.skip.Add(-1) < 0 {
		return errors.New("injected fault at " + string(p))
	}
	return nil
}

// openStore opens (or reopens) the SQLite store in dir.
func openStore(t testing.TB, dir string, f *faults) *sqlite.Store {
	t.Helper()
	keys, err := secret.NewKeyring(bytes.Repeat([]byte{3}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	o := sqlite.Options{Path: filepath.Join(dir, sqlite.FileName), Sealer: keys}
	if f != nil {
		o.Faults = f.hook
	}
	s, err := sqlite.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// newProcessor creates a processor over s with test settings.
func newProcessor(t testing.TB, s store.Store, batch int) *Processor {
	t.Helper()
	p, err := New(context.Background(), Config{Store: s, BatchSize: batch, Clock: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// drain processes everything available and fails the test on error.
func drain(t testing.TB, p *Processor) int {
	t.Helper()
	n, err := p.ProcessAvailable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// allAlerts reads the whole alert stream.
func allAlerts(t testing.TB, s store.Store) []store.Alert {
	t.Helper()
	var out []store.Alert
	for after := int64(0); ; {
		page, err := s.ReadAlerts(context.Background(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		after = page[len(page)-1].Seq
	}
}

// alertIDs returns the sorted ids of alerts, failing on a duplicate.
func alertIDs(t testing.TB, alerts []store.Alert) []string {
	t.Helper()
	ids := make([]string, len(alerts))
	for i, a := range alerts {
		ids[i] = a.ID
	}
	slices.Sort(ids)
	if d := slices.Compact(slices.Clone(ids)); len(d) != len(ids) {
		t.Fatalf("%d duplicate alert ids", len(ids)-len(d))
	}
	return ids
}

// referenceAlerts runs fresh engines (one per org) over the corpus in journal order, on the raw
// event and each normalized record, without any store: what an uninterrupted processor raises.
func referenceAlerts(t testing.TB, c *corpus, rs *detect.Ruleset) []string {
	t.Helper()
	engines := map[int64]*detect.Engine{}
	norm := normalize.New()
	var ids []string
	for _, p := range c.pages {
		eng := engines[p.integration]
		if eng == nil {
			var err error
			if eng, err = detect.New(rs, detect.Config{}); err != nil {
				t.Fatal(err)
			}
			engines[p.integration] = eng
		}
		for _, e := range p.events {
			ev, err := event.Decode(e.Raw)
			if err != nil {
				t.Fatal(err)
			}
			inputs := []detect.Input{{Fields: ev}}
			for _, r := range norm.Normalize(ev, normalize.Meta{Raw: e.Raw}) {
				inputs = append(inputs, detect.Input{Fields: r, Schema: string(r.Schema)})
			}
			for _, in := range inputs {
				as, err := eng.Process(in)
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range as {
					ids = append(ids, a.ID)
				}
			}
		}
	}
	slices.Sort(ids)
	return ids
}

package process

import (
	"context"
	"encoding/json"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/oktasim/scenario"
	"github.com/idwatch/idwatch/internal/store"
)

// BenchmarkDiskPerEvent builds a database the way collection and processing do (an oktasim org's
// history appended in pages of 1000, then processed with the built-in pack) and reports the bytes
// on disk per event, in all and per table with its indexes. IDWATCH_BENCH_USERS (default 200) and
// IDWATCH_BENCH_DAYS (default 1) size the org; the figure is 5000 users over 3 days.
func BenchmarkDiskPerEvent(b *testing.B) {
	users, days := envInt(b, "IDWATCH_BENCH_USERS", 200), envInt(b, "IDWATCH_BENCH_DAYS", 1)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := openStore(b, b.TempDir(), nil)
		n := appendHistory(b, s, users, days)
		p := newProcessor(b, s, 500)
		b.StartTimer()
		drain(b, p)
		b.StopTimer()
		// Checkpoint so that the file holds everything (the WAL is not counted as the database).
		if err := s.Checkpoint(context.Background()); err != nil {
			b.Fatal(err)
		}
		u, err := s.DiskUsage(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		var total int64
		for _, o := range u.Objects {
			total += o.Bytes
		}
		b.ReportMetric(float64(n), "events")
		b.ReportMetric(float64(total)/float64(n), "B/event")
		b.ReportMetric(float64(u.FileBytes)/float64(n), "file-B/event")
		for _, o := range u.Objects {
			b.Logf("%-32s %12d bytes %8.0f B/event (payload %8.0f B/event)", o.Name, o.Bytes, float64(o.Bytes)/float64(n), float64(o.Payload)/float64(n))
		}
		for _, o := range u.Objects {
			if o.Bytes*100 >= total { // objects of at least 1 % of the total
				b.ReportMetric(float64(o.Bytes)/float64(n), o.Name+"-B/event")
			}
		}
		b.StartTimer()
	}
}

// appendHistory appends days of an oktasim org of users (with three attack storylines) to s in
// pages of 1000 events in published order, and returns how many events it appended.
func appendHistory(t testing.TB, s store.Store, users, days int) int {
	t.Helper()
	g, err := scenario.New(scenario.Config{Seed: 1, Users: users, OrgDomain: "acme.example", Start: start})
	if err != nil {
		t.Fatal(err)
	}
	infos := scenario.Storylines()
	var evs []*event.LogEvent
	n := 0
	// flush appends full pages of the events published up to upto (all of them when all), in
	// published order; a storyline's later events wait for the traffic around them, so that the
	// journal has no late entries (their re-evaluation is not what this measures).
	flush := func(upto time.Time, all bool) {
		sort.SliceStable(evs, func(i, j int) bool { return evs[i].Published.Before(evs[j].Published) })
		ready := len(evs)
		if !all {
			ready = sort.Search(len(evs), func(i int) bool { return evs[i].Published.After(upto) })
		}
		for ready >= 1000 || (all && ready > 0) {
			k := min(1000, ready)
			page := make([]store.Event, 0, k)
			for _, ev := range evs[:k] {
				raw, err := json.Marshal(ev)
				if err != nil {
					t.Fatal(err)
				}
				page = append(page, store.Event{UUID: ev.UUID, Published: ev.Published, EventType: ev.EventType, Raw: raw})
			}
			if _, err := s.AppendPage(context.Background(), 1, page, nil); err != nil {
				t.Fatal(err)
			}
			n += k
			evs, ready = evs[k:], ready-k
		}
		evs = append([]*event.LogEvent(nil), evs...)
	}
	for d := range days * 24 {
		hour := start.Add(time.Duration(d+1) * time.Hour)
		g.Advance(hour, func(ev *event.LogEvent) { evs = append(evs, ev) })
		if d%24 == 9 && d/24 < 3 {
			st, err := g.Storyline(infos[(d/24*5)%len(infos)].Name, hour.Add(10*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			g.Apply(st)
			evs = append(evs, st.Events...)
		}
		flush(hour, false)
	}
	flush(time.Time{}, true)
	return n
}

// envInt reads a positive integer from the environment, or def.
func envInt(t testing.TB, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

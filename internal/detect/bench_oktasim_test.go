package detect

import (
	"runtime"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/benchutil"
	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/oktasim/scenario"
)

// oktasimDay returns a day of an oktasim org's workforce traffic as the processor sees it:
// marshalled and decoded into the typed model.
func oktasimDay(b *testing.B, users int) []*event.LogEvent {
	b.Helper()
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	g, err := scenario.New(scenario.Config{Seed: 3, Users: users, OrgDomain: "acme.example", Start: start})
	if err != nil {
		b.Fatal(err)
	}
	var out []*event.LogEvent
	var buf []byte
	g.Advance(start.Add(24*time.Hour), func(ev *event.LogEvent) {
		if buf, err = ev.AppendJSON(buf[:0]); err != nil {
			b.Fatal(err)
		}
		dec, err := event.Decode(buf)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, dec)
	})
	return out
}

// runTyped feeds typed events through engines of rs, a fresh engine for each pass over evs,
// and reports throughput, CPU time per event (the machine may be shared) and the correlation
// state held at the end of the last pass.
func runTyped(b *testing.B, rs *Ruleset, evs []*event.LogEvent) {
	e := engine(b, rs, Config{})
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := benchutil.CPUTime()
	for i := 0; i < b.N; i++ {
		if i > 0 && i%len(evs) == 0 {
			b.StopTimer()
			e = engine(b, rs, Config{})
			b.StartTimer()
		}
		if _, err := e.Process(Input{Fields: evs[i%len(evs)]}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if cpu := benchutil.CPUTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/event")
	}
	st := e.Stats()
	b.ReportMetric(float64(st.Groups), "groups")
	b.ReportMetric(float64(st.Entries), "entries")
}

// BenchmarkOktasimPack runs a day of a 2,000-person oktasim org (about 55,000 events) through
// the whole built-in pack, then through one rule: the event-type index keeps the full pack's
// cost far from 100 times the single rule's.
func BenchmarkOktasimPack(b *testing.B) {
	evs := oktasimDay(b, 2_000)
	full := builtinRuleset(b)
	b.Run("pack=full", func(b *testing.B) { runTyped(b, full, evs) })
	b.Run("pack=1rule", func(b *testing.B) {
		rs, err := Compile([]RuleFile{{Name: "proxy.yml", Data: []byte(`title: Sign-in through a proxy
logsource: {product: okta, service: okta}
detection:
    selection:
        eventType: user.session.start
        outcome.result: SUCCESS
        securityContext.isProxy: true
    condition: selection
`)}})
		if err != nil {
			b.Fatal(err)
		}
		runTyped(b, rs, evs)
	})
}

// BenchmarkOktasimState reports the heap held by one engine's correlation state after a day
// of a 10,000-person org through the whole pack (run with -benchtime=1x).
func BenchmarkOktasimState(b *testing.B) {
	evs := oktasimDay(b, 10_000)
	rs := builtinRuleset(b)
	b.ResetTimer()
	var e *Engine
	var before, after runtime.MemStats
	for i := 0; i < b.N; i++ {
		runtime.GC()
		runtime.ReadMemStats(&before)
		e = engine(b, rs, Config{})
		for _, ev := range evs {
			if _, err := e.Process(Input{Fields: ev}); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
	}
	st := e.Stats()
	b.ReportMetric(float64(len(evs)), "events")
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/1024/1024, "MiB")
	b.ReportMetric(float64(st.Groups), "groups")
	b.ReportMetric(float64(st.Entries), "entries")
	runtime.KeepAlive(e)
	runtime.KeepAlive(evs)
}

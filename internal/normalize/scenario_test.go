package normalize

import (
	"flag"
	"os"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/oktasim/scenario"
)

var benchMixOut = flag.String("bench-mix-out", "", "write the scenario mix as JSON lines to this file (scripts/bench-normalize.sh)")

// scenarioMix is realistic traffic from oktasim's scenario generator: a working day of an org of
// users people, then one instance of every attack storyline, as raw JSON lines.
func scenarioMix(tb testing.TB, users int) [][]byte {
	tb.Helper()
	start := time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC) // a Wednesday
	g, err := scenario.New(scenario.Config{Seed: 7, Users: users, OrgDomain: "acme.example", Start: start})
	if err != nil {
		tb.Fatal(err)
	}
	var mix [][]byte
	add := func(ev *event.LogEvent) {
		raw, err := ev.MarshalJSON()
		if err != nil {
			tb.Fatal(err)
		}
		mix = append(mix, raw)
	}
	g.Advance(start.Add(24*time.Hour), add)
	at := start.Add(25 * time.Hour)
	for _, s := range scenario.Storylines() {
		st, err := g.Storyline(s.Name, at)
		if err != nil {
			tb.Fatal(err)
		}
		for _, ev := range st.Events {
			add(ev)
		}
		at = at.Add(time.Hour)
	}
	return mix
}

// TestScenarioRecordsValid normalizes a day of simulated traffic plus every attack storyline and
// validates every record against its OCSF class schema.
func TestScenarioRecordsValid(t *testing.T) {
	mix := scenarioMix(t, 25)
	if *benchMixOut != "" {
		f, err := os.Create(*benchMixOut)
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range mix {
			f.Write(append(raw, '\n'))
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	n := New()
	v := newValidator(t)
	types := map[string]bool{}
	for _, raw := range mix {
		ev, err := event.Decode(raw)
		if err != nil {
			t.Fatalf("scenario event does not decode: %v\n%s", err, raw)
		}
		types[ev.EventType] = true
		if c := ev.Client; c != nil && c.GeographicalContext != nil && c.GeographicalContext.Country != "" {
			if n.countries.lookup(c.GeographicalContext.Country) == nil {
				t.Errorf("oktasim writes a country no table row knows: %q", c.GeographicalContext.Country)
			}
		}
		for _, r := range n.Normalize(ev, Meta{TenantUID: "sim", Raw: raw}) {
			b, err := r.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if err := v.validate(b); err != nil {
				t.Errorf("%s (%s) record is not valid OCSF: %v", ev.EventType, r.Schema, err)
			}
		}
	}
	t.Logf("%d events of %d types", len(mix), len(types))
}

// BenchmarkScenarioDecodeRouteMap is BenchmarkDecodeRouteMap over the scenario mix.
func BenchmarkScenarioDecodeRouteMap(b *testing.B) {
	benchmarkMix(b, scenarioMix(b, 200), false)
}

// BenchmarkScenarioDecodeRouteMapEncode is BenchmarkDecodeRouteMapEncode over the scenario mix.
func BenchmarkScenarioDecodeRouteMapEncode(b *testing.B) {
	benchmarkMix(b, scenarioMix(b, 200), true)
}

// BenchmarkScenarioEncode measures the JSON encoding of the scenario mix's records alone, each
// encoded in full (not copied from a sibling record's encoding).
func BenchmarkScenarioEncode(b *testing.B) {
	n := New()
	var recs []*Record
	for _, raw := range scenarioMix(b, 200) {
		ev, err := event.Decode(raw)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range n.Normalize(ev, Meta{TenantUID: "acme", Raw: raw}) {
			r.siblings = nil
			recs = append(recs, r)
		}
	}
	b.ReportAllocs()
	buf := make([]byte, 0, 64<<10)
	i := 0
	for b.Loop() {
		var err error
		if buf, err = recs[i%len(recs)].AppendJSON(buf[:0], EncodeOptions{}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

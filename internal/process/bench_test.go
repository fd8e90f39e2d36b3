package process

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/benchutil"
)

// benchCorpus is a day of two orgs' traffic with every storyline, generated once.
var benchCorpus = sync.OnceValue(func() *corpus { return buildCorpus(&testing.B{}, 24) })

// BenchmarkProcessor measures the whole stage from a filled journal: read, decode, normalize, the
// full built-in rule pack on the raw event and on each record, encode the records, and commit
// records, alerts, baselines and offset. The journal holds copies of the corpus under distinct
// integrations until it has b.N entries. Run with -cpu 1 for the one-core figure; the CPU time
// includes the garbage collector's and SQLite's work for the batch.
func BenchmarkProcessor(b *testing.B) {
	c := benchCorpus()
	s := openStore(b, b.TempDir(), nil)
	var n int
	for copyN := int64(0); n < b.N; copyN++ {
		for _, p := range c.pages {
			if n >= b.N {
				break
			}
			evs := p.events[:min(len(p.events), b.N-n)]
			if _, err := s.AppendPage(context.Background(), p.integration+2*copyN, evs, nil); err != nil {
				b.Fatal(err)
			}
			n += len(evs)
		}
	}
	p := newProcessor(b, s, 0) // the default batch size
	b.ResetTimer()
	cpu0 := benchutil.CPUTime()
	got, err := p.ProcessAvailable(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	cpu := benchutil.CPUTime() - cpu0
	b.StopTimer()
	if got != b.N {
		b.Fatalf("processed %d of %d", got, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if cpu > 0 {
		// On a shared machine the wall-clock rate includes waiting for a CPU; events per
		// CPU-second is the fair one-core figure.
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "events/cpu-s")
	}
	st := p.Stats()
	b.ReportMetric(float64(st.Records)/float64(b.N), "records/event")
}

// BenchmarkProcessorBackfillBehindLive measures what a backfill behind live collection costs: the
// journal receives the corpus's last hour first and processes it, then the day before it, whose
// entries are all late and are re-evaluated in published order. One op is the whole corpus;
// events/s counts its entries once.
func BenchmarkProcessorBackfillBehindLive(b *testing.B) {
	c := benchCorpus()
	before, after := splitAt(c, c.pages[len(c.pages)-1].events[0].Published.Add(-time.Hour))
	var caughtUp int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := openStore(b, b.TempDir(), nil)
		for _, pi := range after {
			if _, err := s.AppendPage(context.Background(), c.pages[pi].integration, c.pages[pi].events, nil); err != nil {
				b.Fatal(err)
			}
		}
		p := newProcessor(b, s, 500)
		b.StartTimer()
		drain(b, p)
		b.StopTimer()
		for _, pi := range before {
			if _, err := s.AppendPage(context.Background(), c.pages[pi].integration, c.pages[pi].events, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		drain(b, p)
		caughtUp += p.Stats().CaughtUp
	}
	b.ReportMetric(float64(c.total*b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(caughtUp)/float64(c.total*b.N), "re-evaluated/event")
}

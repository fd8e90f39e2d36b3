package sink

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/benchutil"
	"github.com/idwatch/idwatch/internal/sink/sinktest"
	"github.com/idwatch/idwatch/internal/store"
)

const benchEvents = 20_000

// fillBenchJournal appends benchEvents events of about 2.4 KB, the size of real System Log events.
func fillBenchJournal(b *testing.B) store.Store {
	st := openStore(b, b.TempDir())
	pad := strings.Repeat("x", 2200)
	for i := 0; i < benchEvents; i += 1000 {
		page := make([]store.Event, 0, 1000)
		for j := i; j < i+1000; j++ {
			e := testEvent(j)
			e.Raw = json.RawMessage(fmt.Sprintf(`%s,"debugContext":{"debugData":{"pad":%q}}}`, e.Raw[:len(e.Raw)-1], pad))
			page = append(page, e)
		}
		if _, err := st.AppendPage(context.Background(), 1, page, nil); err != nil {
			b.Fatal(err)
		}
	}
	return st
}

// benchSink moves the whole journal through a fresh runner per iteration and reports records/s.
func benchSink(b *testing.B, st store.Store, spec func(i int) Spec) {
	b.ResetTimer()
	start, cpu0 := time.Now(), benchutil.CPUTime()
	for i := 0; b.Loop(); i++ {
		cfg := Config{Name: fmt.Sprintf("bench%d", i), Type: "bench", Spec: spec(i), Batch: BatchConfig{MaxRecords: 1000, MaxWait: time.Millisecond}, Retry: fastRetry}
		r, err := NewRunner(RunnerOptions{Store: st, Config: cfg, PollInterval: time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { r.Run(ctx); close(done) }()
		for r.Status().Offsets[store.StreamJournal] < benchEvents {
			time.Sleep(100 * time.Microsecond)
		}
		cancel()
		<-done
	}
	b.ReportMetric(float64(benchEvents*b.N)/time.Since(start).Seconds(), "records/s")
	b.ReportMetric(float64(benchEvents*b.N)/(benchutil.CPUTime()-cpu0).Seconds(), "records/cpu-s")
}

func BenchmarkJournalToFile(b *testing.B) {
	st := fillBenchJournal(b)
	dir := b.TempDir()
	benchSink(b, st, func(i int) Spec { return &FileConfig{Path: filepath.Join(dir, fmt.Sprintf("out%d.jsonl", i))} })
}

func BenchmarkJournalToKafka(b *testing.B) {
	st := fillBenchJournal(b)
	brokers := sinktest.StartKafka(b)
	benchSink(b, st, func(int) Spec {
		spec := kafkaType().New().(*KafkaConfig)
		spec.Brokers = brokers
		return spec
	})
}

// BenchmarkFileSinkWrite measures the file sink alone (batches of 1000 ~2.4 KB records, fsync per
// batch), without reading the journal.
func BenchmarkFileSinkWrite(b *testing.B) {
	pad := strings.Repeat("x", 2200)
	batch := Batch{Stream: store.StreamJournal}
	for j := range 1000 {
		e := testEvent(j)
		raw := json.RawMessage(fmt.Sprintf(`%s,"debugContext":{"debugData":{"pad":%q}}}`, e.Raw[:len(e.Raw)-1], pad))
		batch.Records = append(batch.Records, Record{ID: e.UUID, Kind: KindEvent, Seq: int64(j + 1), Body: raw})
	}
	s, _ := (&FileConfig{Path: filepath.Join(b.TempDir(), "out.jsonl"), MaxBytes: 256 << 20}).Build(Env{})
	ctx := context.Background()
	if err := s.Connect(ctx); err != nil {
		b.Fatal(err)
	}
	defer s.Close(ctx)
	start, cpu0 := time.Now(), benchutil.CPUTime()
	for i := 0; b.Loop(); i++ {
		batch.AfterSeq, batch.LastSeq = int64(i*1000), int64((i+1)*1000)
		if err := s.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(1000*b.N)/time.Since(start).Seconds(), "records/s")
	b.ReportMetric(float64(1000*b.N)/(benchutil.CPUTime()-cpu0).Seconds(), "records/cpu-s")
}

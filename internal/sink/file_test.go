package sink

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/store"
)

func TestFileSinkWritesEveryEventOnce(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	appendEvents(t, st, 0, 300)
	path := filepath.Join(dir, "events.jsonl")
	cfg := testConfig("file", &FileConfig{Path: path})
	cfg.Type = "file"
	startRunner(t, RunnerOptions{Store: st, Config: cfg})
	waitFor(t, "offset 300", func() bool { return offsetOf(t, st, "sink/file") == 300 })
	checkExactlyOnce(t, readIDs(t, path), 300)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file mode: %v %v", fi, err)
	}
}

// A batch written but not committed before a crash is cut off on restart, so the redelivery does
// not duplicate it.
func TestFileSinkCutsUncommittedBatchOnResume(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "out.jsonl")
	spec := &FileConfig{Path: path, NoSync: true}
	batch := func(after, last int) Batch {
		b := Batch{Stream: store.StreamJournal, AfterSeq: int64(after), LastSeq: int64(last)}
		for i := after; i < last; i++ {
			e := testEvent(i)
			b.Records = append(b.Records, Record{ID: e.UUID, Kind: KindEvent, Seq: int64(i + 1), Body: e.Raw})
		}
		return b
	}
	s, _ := spec.Build(Env{})
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	for _, b := range []Batch{batch(0, 10), batch(10, 20)} {
		if err := s.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	// "Crash": the second batch was written, its offset (20) never committed.
	s2, _ := spec.Build(Env{})
	if err := s2.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s2.(Resumer).Resume(ctx, map[store.Stream]int64{store.StreamJournal: 10}); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, readIDs(t, path), 10)
	// Redelivery with other batch boundaries.
	for _, b := range []Batch{batch(10, 15), batch(15, 30)} {
		if err := s2.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	checkExactlyOnce(t, readIDs(t, path), 30)
	// Resume with the last batch committed keeps it.
	s3, _ := spec.Build(Env{})
	if err := s3.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s3.(Resumer).Resume(ctx, map[store.Stream]int64{store.StreamJournal: 30}); err != nil {
		t.Fatal(err)
	}
	// A retried batch (same AfterSeq) replaces its half-written first attempt.
	if err := s3.Write(ctx, batch(30, 40)); err != nil {
		t.Fatal(err)
	}
	if err := s3.Write(ctx, batch(30, 40)); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, readIDs(t, path), 40)
	for _, s := range []Sink{s, s2, s3} {
		s.Close(ctx)
	}
}

func TestFileSinkRotates(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(out, "events.jsonl")
	clk := clock.NewManual(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	cfg := testConfig("rot", &FileConfig{Path: path, MaxBytes: 2000, MaxAge: time.Hour, NoSync: true})
	cfg.Batch = BatchConfig{MaxRecords: 10, MaxWait: time.Millisecond}
	appendEvents(t, st, 0, 100)
	r, err := NewRunner(RunnerOptions{Store: st, Config: cfg, Clock: clk, PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	for offsetOf(t, st, "sink/rot") != 100 {
		waitFor(t, "runner waiting", func() bool { return clk.Timers() > 0 })
		clk.Advance(time.Millisecond)
	}
	// Age-based rotation: an hour later the next batch starts a new file.
	clk.Advance(time.Hour)
	appendEvents(t, st, 100, 5)
	for offsetOf(t, st, "sink/rot") != 105 {
		waitFor(t, "runner waiting", func() bool { return clk.Timers() > 0 })
		clk.Advance(time.Millisecond)
	}
	cancel()
	<-done
	names, _ := filepath.Glob(filepath.Join(out, "events-*.jsonl"))
	slices.Sort(names)
	if len(names) < 3 {
		t.Fatalf("rotated files %v, want several", names)
	}
	checkExactlyOnce(t, readIDs(t, append(names, path)...), 105)
	if ids := readIDs(t, path); len(ids) != 5 {
		t.Fatalf("current file after age rotation holds %d lines, want 5", len(ids))
	}
}

// Killed between renaming the full file aside and writing the next state: the state names an
// uncommitted batch in a file that is gone. Resume must not refuse to start.
func TestFileSinkResumeAfterKillInsideRotation(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "out.jsonl")
	if err := os.WriteFile(path+".state", []byte(`{"stream":"journal","afterSeq":10,"lastSeq":20,"size":5000}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := (&FileConfig{Path: path, NoSync: true}).Build(Env{})
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	if err := s.(Resumer).Resume(ctx, map[store.Stream]int64{store.StreamJournal: 10}); err != nil {
		t.Fatalf("resume after a kill inside rotation: %v", err)
	}
	// A file changed outside idwatch (shorter, not empty) is still refused.
	os.WriteFile(path, []byte("{}\n"), 0o600)
	s2, _ := (&FileConfig{Path: path, NoSync: true}).Build(Env{})
	if err := s2.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer s2.Close(ctx)
	if err := s2.(Resumer).Resume(ctx, map[store.Stream]int64{store.StreamJournal: 10}); err == nil || !strings.Contains(err.Error(), "changed outside idwatch") {
		t.Fatalf("shorter file: %v", err)
	}
}

package sink

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/store"
)

// smallDisk is the real file system with a shared budget of free bytes: a write that would grow
// a file past it writes what fits and fails with ENOSPC, as a full disk does; shrinking a file
// frees its bytes.
type smallDisk struct {
	osFS
	mu       sync.Mutex
	free     int64
	failures int // writes refused for want of space
}

func (d *smallDisk) OpenFile(name string, flag int, perm fs.FileMode) (sinkFile, error) {
	f, err := d.osFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &smallFile{sinkFile: f, disk: d, name: name}, nil
}

func (d *smallDisk) setFree(n int64) {
	d.mu.Lock()
	d.free = n
	d.mu.Unlock()
}

func (d *smallDisk) refused() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.failures
}

type smallFile struct {
	sinkFile
	disk *smallDisk
	name string
}

func (f *smallFile) size() int64 {
	fi, err := f.Stat()
	if err != nil {
		panic(err)
	}
	return fi.Size()
}

func (f *smallFile) WriteAt(p []byte, off int64) (int, error) {
	d := f.disk
	d.mu.Lock()
	defer d.mu.Unlock()
	size := f.size()
	grow := max(off+int64(len(p))-size, 0)
	if grow <= d.free {
		d.free -= grow
		return f.sinkFile.WriteAt(p, off)
	}
	fits := max(size+d.free-off, 0)
	n, err := f.sinkFile.WriteAt(p[:fits], off)
	d.free -= max(off+int64(n)-size, 0)
	if err == nil {
		d.failures++
		err = &fs.PathError{Op: "write", Path: f.name, Err: syscall.ENOSPC}
	}
	return n, err
}

func (f *smallFile) Truncate(size int64) error {
	d := f.disk
	d.mu.Lock()
	defer d.mu.Unlock()
	before := f.size()
	if err := f.sinkFile.Truncate(size); err != nil {
		return err
	}
	d.free += before - size
	return nil
}

// TestFileSinkRidesOutFullDisk is the regression test for a full disk under a file sink: the
// sink retries for far longer than its retry budget, dead-letters nothing, keeps its offset and
// says why in its stored status; once space returns, every event arrives once and in order.
func TestFileSinkRidesOutFullDisk(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	appendEvents(t, st, 0, 300)
	path := filepath.Join(dir, "out.jsonl")
	// Room for the state file and two batches of 50 events, and part of a third.
	disk := &smallDisk{free: 1024 + 2*50*testEventSize + 3000}
	cfg := testConfig("archive", &FileConfig{Path: path})
	cfg.Type = "file"
	cfg.Batch.MaxRecords = 50
	r := startRunner(t, RunnerOptions{Store: st, Config: cfg, Sink: newFileSink(*cfg.Spec.(*FileConfig), clock.System{}, disk)})

	budget := cfg.Retry.MaxAttempts
	waitFor(t, "the disk to refuse a write", func() bool { return disk.refused() >= 2 })
	first := consumer(t, st, "sink/archive")
	waitFor(t, "writes refused well past the retry budget", func() bool {
		if s := r.Status(); s.DeadLettered > 0 {
			t.Fatalf("a full disk made %d dead letters", s.DeadLettered)
		}
		return disk.refused() >= 5*budget
	})

	if letters, err := st.ListDeadLetters(context.Background(), "archive", 1000); err != nil || len(letters) != 0 {
		t.Fatalf("a full disk made %d dead letters (%v)", len(letters), err)
	}
	c := consumer(t, st, "sink/archive")
	if c.Offset != 100 || c.Lag != 200 {
		t.Fatalf("offset %d lag %d while the disk is full, want 100 and 200", c.Offset, c.Lag)
	}
	if c.Status != string(StateRetrying) || !strings.Contains(c.StatusError, "no space left on device") || !strings.Contains(c.StatusError, path) {
		t.Fatalf("stored status %q %q, want retrying with the cause", c.Status, c.StatusError)
	}
	if c.StatusAt.IsZero() || !c.StatusAt.Equal(first.StatusAt) {
		t.Fatalf("stored status since %s, want since the first refusal (%s)", c.StatusAt, first.StatusAt)
	}
	if s := r.Status(); s.State != StateRetrying || s.DeadLettered != 0 || s.Since.IsZero() {
		t.Fatalf("runner status %+v", s)
	}

	disk.setFree(1 << 30)
	waitFor(t, "catching up", func() bool { return offsetOf(t, st, "sink/archive") == 300 })
	checkExactlyOnce(t, readIDs(t, path), 300)
	if c := consumer(t, st, "sink/archive"); c.Status != string(StateDelivering) || c.StatusError != "" {
		t.Fatalf("stored status after space returned: %q %q", c.Status, c.StatusError)
	}
}

// testEventSize is the size of a test event's line (events 10 to 49 of every 50).
var testEventSize = int64(len(testEvent(10).Raw) + 1)

func consumer(t *testing.T, st store.Store, name string) store.Consumer {
	t.Helper()
	c, ok := findConsumer(t, st, name)
	if !ok {
		t.Fatalf("no consumer %s", name)
	}
	return c
}

// findConsumer looks a consumer up; a runner registers its consumers once it runs, so conditions
// waited on must tolerate its absence.
func findConsumer(t *testing.T, st store.Store, name string) (store.Consumer, bool) {
	t.Helper()
	cs, err := st.Consumers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Name == name {
			return c, true
		}
	}
	return store.Consumer{}, false
}

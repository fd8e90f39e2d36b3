package sink

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

func openStore(t testing.TB, dir string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(dir, "idwatch.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// testEvent builds a small Okta-like event with a deterministic uuid.
func testEvent(i int) store.Event {
	uuid := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
	pub := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond)
	raw := fmt.Sprintf(`{"uuid":%q,"published":%q,"eventType":"user.session.start","actor":{"alternateId":"user%d@example.com"},"outcome":{"result":"SUCCESS"}}`,
		uuid, pub.Format("2006-01-02T15:04:05.000Z"), i%50)
	return store.Event{UUID: uuid, Published: pub, EventType: "user.session.start", Raw: json.RawMessage(raw)}
}

// appendEvents appends events from..from+n-1 in pages of 100.
func appendEvents(t testing.TB, st store.Store, from, n int) {
	t.Helper()
	for i := from; i < from+n; i += 100 {
		var page []store.Event
		for j := i; j < min(i+100, from+n); j++ {
			page = append(page, testEvent(j))
		}
		if _, err := st.AppendPage(context.Background(), 1, page, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func offsetOf(t testing.TB, st store.Store, name string) int64 {
	t.Helper()
	off, err := st.Offset(context.Background(), name)
	if err != nil {
		return -1
	}
	return off
}

// fastRetry makes tests retry quickly.
var fastRetry = RetryConfig{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond}

func testConfig(name string, spec Spec) Config {
	return Config{Name: name, Type: "test", Spec: spec, Batch: BatchConfig{MaxRecords: 100, MaxWait: 5 * time.Millisecond}, Retry: fastRetry}
}

// startRunner runs a runner until the test ends.
func startRunner(t testing.TB, o RunnerOptions) *Runner {
	t.Helper()
	if o.PollInterval == 0 {
		o.PollInterval = 2 * time.Millisecond
	}
	r, err := NewRunner(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := r.Run(ctx); err != nil {
			t.Errorf("runner: %v", err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	return r
}

// readIDs returns the uuids of the JSON lines in the files, in order.
func readIDs(t testing.TB, paths ...string) []string {
	t.Helper()
	var ids []string
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var v struct {
				UUID string `json:"uuid"`
			}
			if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
				t.Fatalf("%s: bad line %q: %v", p, sc.Text(), err)
			}
			ids = append(ids, v.UUID)
		}
		f.Close()
	}
	return ids
}

// checkExactlyOnce asserts ids are events 0..n-1 each once, in order.
func checkExactlyOnce(t testing.TB, ids []string, n int) {
	t.Helper()
	if len(ids) != n {
		t.Fatalf("got %d lines, want %d", len(ids), n)
	}
	for i, id := range ids {
		if want := testEvent(i).UUID; id != want {
			t.Fatalf("line %d is %s, want %s", i, id, want)
		}
	}
}

// funcSink is a sink whose Write a test controls.
type funcSink struct {
	mu      sync.Mutex
	write   func(b Batch) error
	got     []Record
	batches int
}

func (s *funcSink) Connect(context.Context) error { return nil }
func (s *funcSink) Close(context.Context) error   { return nil }
func (s *funcSink) Write(_ context.Context, b Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.write != nil {
		if err := s.write(b); err != nil {
			return err
		}
	}
	s.batches++
	s.got = append(s.got, b.Records...)
	return nil
}

func (s *funcSink) records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Record(nil), s.got...)
}

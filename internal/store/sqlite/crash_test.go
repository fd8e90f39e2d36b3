//go:build unix

package sqlite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// Environment of the crash test: the child's database path, and how many kills the parent does
// (3 by default; set hundreds for a long run).
const (
	crashChildEnv = "IDWATCH_STORE_CRASH_DB"
	crashKillsEnv = "IDWATCH_STORE_CRASH_KILLS"
)

// crashPageSize is the number of new events per page; each page also repeats the previous
// page's last crashOverlap events, as Okta polling after a restart may.
const crashPageSize, crashOverlap = 40, 3

// crashPage returns page p's events: crashOverlap repeats of page p-1, then its own.
func crashPage(p int) []store.Event {
	var evs []store.Event
	if p > 0 {
		prev := crashOwn(p - 1)
		evs = append(evs, prev[len(prev)-crashOverlap:]...)
	}
	return append(evs, crashOwn(p)...)
}

// crashOwn returns the events first seen on page p.
func crashOwn(p int) []store.Event {
	evs := make([]store.Event, crashPageSize)
	for i := range evs {
		evs[i] = realisticEvent(p, i)
		evs[i].UUID = fmt.Sprintf("p%d-e%d", p, i)
	}
	return evs
}

// crashCursor is the cursor stored with page p: where polling resumes.
func crashCursor(p int) *store.Cursor {
	return &store.Cursor{Next: fmt.Sprintf("page-%d", p+1), LastPublished: time.Unix(int64(p), 0)}
}

// nextPage reads the page the cursor points at (0 without a cursor).
func nextPage(ctx context.Context, s *Store) (int, error) {
	c, err := s.Cursor(ctx, 1)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimPrefix(c.Next, "page-"))
}

// crashConsumer is the journal consumer the child runs, so that offsets and retention are
// killed half-way too.
const crashConsumer = "crash-sink"

// TestCrashChild is the process the crash test kills: it resumes from the stored cursor and
// appends pages until killed, printing "committed N" after each commit. It also merges old pages
// again without a cursor, as a backfill would, and runs a consumer that reads, commits its offset
// and trims the journal behind itself.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		t.Skip("helper process of TestCrashConsistency")
	}
	ctx := context.Background()
	s, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	p, err := nextPage(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RegisterConsumer(ctx, crashConsumer, store.StreamJournal, 0); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewWriter(os.Stdout)
	for ; ; p++ {
		if p > 2 && p%5 == 0 {
			if _, err := s.AppendPage(ctx, 1, crashOwn(p-1), nil); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.AppendPage(ctx, 1, crashPage(p), crashCursor(p)); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(out, "committed %d\n", p)
		if err := out.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := consumeAndTrim(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
}

// consumeAndTrim reads a batch after the consumer's offset, commits it, and trims what every
// consumer has read, less a margin. The batch is smaller than a page, so the consumer lags.
func consumeAndTrim(ctx context.Context, s *Store) error {
	off, err := s.Offset(ctx, crashConsumer)
	if err != nil {
		return err
	}
	batch, err := s.ReadJournal(ctx, off, crashPageSize*3/4, store.ReadFilter{})
	if err != nil || len(batch) == 0 {
		return err
	}
	if err := s.CommitOffset(ctx, crashConsumer, batch[len(batch)-1].Seq); err != nil {
		return err
	}
	// Keep two pages behind the consumer: deduplication only sees retained events, and the
	// overlap and backfill merges reach back one page.
	_, err = s.TrimJournal(ctx, batch[len(batch)-1].Seq-2*crashPageSize)
	return err
}

// TestCrashConsistency SIGKILLs a process appending pages at random moments; after every
// restart the journal and the cursor must agree: every event of every page before the cursor is
// present exactly once, nothing after it, and seqs are contiguous.
func TestCrashConsistency(t *testing.T) {
	kills := 3
	if v := os.Getenv(crashKillsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", crashKillsEnv, v)
		}
		kills = n
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	lastNext, trimmedTo := 0, int64(0)
	for k := range kills {
		commits := killAfterCommits(t, path, 1+rng.IntN(12))
		next, first := verifyCrashState(t, path)
		trimmedTo = first - 1
		if next < lastNext {
			t.Fatalf("kill %d: cursor went back from page %d to %d", k, lastNext, next)
		}
		// The child printed commits up to some page; the cursor must cover at least those.
		if next <= commits {
			t.Fatalf("kill %d: child reported committing page %d but the cursor points at page %d", k, commits, next)
		}
		lastNext = next
	}
	if lastNext > 6 && trimmedTo == 0 {
		t.Fatalf("%d pages committed and nothing trimmed: the retention part of the test did not run", lastNext)
	}
	t.Logf("%d kills, %d pages committed, seqs up to %d trimmed", kills, lastNext, trimmedTo)
}

// killAfterCommits runs the child until it has reported n commits, SIGKILLs it while it is
// writing the next ones, and returns the last page it reported.
func killAfterCommits(t *testing.T, path string, n int) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	last, seen := -1, 0
	sc := bufio.NewScanner(stdout)
	for seen < n && sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
			if last, err = strconv.Atoi(p); err != nil {
				t.Fatalf("child said %q", sc.Text())
			}
			seen++
		}
	}
	if seen < n {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child stopped after %d commits (want %d): %v", seen, n, sc.Err())
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	return last
}

// verifyCrashState opens the killed child's database and checks that journal, cursor and offset
// agree; it returns the page the cursor points at and the journal's first seq. Inserts happen in
// a known order (each page's own events; overlaps and backfill merges are all duplicates), so seq
// n must hold event n-1 of that order: every page before the cursor is present exactly once, none
// after it, and retention removed only what the consumer had committed.
func verifyCrashState(t *testing.T, path string) (int, int64) {
	t.Helper()
	ctx := t.Context()
	s, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	next, err := nextPage(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Bounds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(next * crashPageSize); b.LastSeq != want {
		t.Fatalf("cursor at page-%d means %d events, but the journal's last seq is %d", next, want, b.LastSeq)
	}
	off, err := s.Offset(ctx, crashConsumer)
	if errors.Is(err, store.ErrNotFound) {
		off, err = 0, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	if off > b.LastSeq {
		t.Fatalf("consumer offset %d is beyond the journal's last seq %d", off, b.LastSeq)
	}
	first := b.FirstSeq
	if b.Count == 0 {
		first = b.LastSeq + 1
	}
	if first > off+1 {
		t.Fatalf("retention removed seqs up to %d but the consumer has only committed %d", first-1, off)
	}
	after := first - 1
	for {
		page, err := s.ReadJournal(ctx, after, 5000, store.ReadFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			if e.Seq != after+1 {
				t.Fatalf("seq %d follows %d: gap", e.Seq, after)
			}
			after = e.Seq
			if want := fmt.Sprintf("p%d-e%d", (e.Seq-1)/crashPageSize, (e.Seq-1)%crashPageSize); e.UUID != want {
				t.Fatalf("seq %d holds %s, want %s: an event is duplicated, missing or out of order", e.Seq, e.UUID, want)
			}
		}
	}
	if after != b.LastSeq {
		t.Fatalf("journal ends at seq %d, last seq is %d", after, b.LastSeq)
	}
	return next, first
}

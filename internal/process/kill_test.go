package process

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"
)

// childEnv names the data directory a child test process runs the processor on.
const childEnv = "IDWATCH_PROCESS_KILL_CHILD"

// TestKillChild is the child of TestSIGKILL: it runs the processor on the data directory until
// it is killed, printing each committed offset on stdout.
func TestKillChild(t *testing.T) {
	dir := os.Getenv(childEnv)
	if dir == "" {
		t.Skip("runs only as the child of TestSIGKILL")
	}
	s := openStore(t, dir, nil)
	out := bufio.NewWriter(os.Stdout)
	p, err := New(context.Background(), Config{Store: s, BatchSize: 13, Clock: fixedClock, PollInterval: time.Hour,
		Committed: func(off int64) {
			fmt.Fprintln(out, off)
			_ = out.Flush()
		}})
	if err != nil {
		t.Fatal(err)
	}
	_ = p.Run(context.Background())
}

// TestSIGKILL kills a processor process with SIGKILL several times while it works through
// storylines, then lets a fresh processor finish: the alerts equal an uninterrupted run's, with
// none lost and none doubled.
func TestSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	c := sharedCorpus()
	dir := t.TempDir()
	s := openStore(t, dir, nil)
	c.appendPages(t, s, 0, len(c.pages))
	last, err := s.LastSeq(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// IDWATCH_PROCESS_KILLS raises the number of kills for a longer run.
	wantKills := 4
	if v, err := strconv.Atoi(os.Getenv("IDWATCH_PROCESS_KILLS")); err == nil && v > 0 {
		wantKills = v
	}
	kills := 0
	var prev int64
	for kills < wantKills && prev < last {
		off := runAndKill(t, dir, min(prev+max(last/int64(wantKills+2), 1), last))
		if off <= prev {
			t.Fatalf("child made no progress past %d", prev)
		}
		prev = off
		kills++
	}
	if kills < min(wantKills, 3) {
		t.Fatalf("only %d kills before the journal was done", kills)
	}
	t.Logf("%d SIGKILLs, the last at offset %d of %d", kills, prev, last)
	p := newProcessor(t, s, 13)
	drain(t, p)
	if p.Stats().Replayed == 0 {
		t.Fatal("the final processor replayed nothing")
	}
	got := alertIDs(t, allAlerts(t, s))
	want := sharedReference()
	if !slices.Equal(got, want) {
		t.Fatalf("after %d SIGKILLs: %d alerts, uninterrupted: %d\nmissing: %v\nextra: %v", kills, len(got), len(want),
			diff(want, got), diff(got, want))
	}
}

// runAndKill starts the child and SIGKILLs it once it has committed an offset of at least
// target; it returns the offset the store holds afterwards.
func runAndKill(t *testing.T, dir string, target int64) int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan int64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if n, err := strconv.ParseInt(sc.Text(), 10, 64); err == nil {
				lines <- n
			}
		}
	}()
	deadline := time.After(60 * time.Second)
wait:
	for {
		select {
		case off, ok := <-lines:
			if !ok || off >= target {
				break wait
			}
		case <-deadline:
			break wait
		}
	}
	_ = cmd.Process.Kill()
	go func() {
		for range lines {
		}
	}()
	_ = cmd.Wait()
	s := openStore(t, dir, nil)
	off, err := s.Offset(t.Context(), DefaultConsumer)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return off
}

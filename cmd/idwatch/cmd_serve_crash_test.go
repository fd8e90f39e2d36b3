package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/sink/sinktest"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// Environment of the serve crash test's child process.
const (
	envServeCrashArgs  = "IDWATCH_SERVE_CRASH_ARGS"
	envServeCrashKills = "IDWATCH_SERVE_CRASH_KILLS"
)

// TestServeCrashChild is the `idwatch serve` process the crash test starts and kills; it does
// nothing in a normal run.
func TestServeCrashChild(t *testing.T) {
	args := os.Getenv(envServeCrashArgs)
	if args == "" {
		t.Skip("runs only as the serve crash test's child")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	io := stdio{in: strings.NewReader(""), out: os.Stdout, err: os.Stderr,
		log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if code := run(ctx, io, strings.Split(args, "\n")); code != 0 {
		t.Fatalf("serve exited %d", code)
	}
}

// TestServeCrash SIGKILLs `idwatch serve` (collecting from oktasim with live traffic and late
// events, delivering to file, Kafka and NATS sinks) at random moments, restarts it, and checks
// that the file holds every oktasim event exactly once and Kafka and NATS hold every id (NATS
// without duplicates).
func TestServeCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	kills := 20
	if s := os.Getenv(envServeCrashKills); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("%s: %v", envServeCrashKills, err)
		}
		kills = n
	}
	org := startSimOrg(t, oktasim.Config{})
	dir := t.TempDir()
	dd := org.addIntegration(t, dir)
	dataDir := strings.TrimPrefix(dd, "--data-dir=")
	brokers := sinktest.StartKafka(t)
	nats := sinktest.StartNATS(t)
	filePath := filepath.Join(dir, "out", "events.jsonl")
	if err := os.Mkdir(filepath.Dir(filePath), 0o700); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "idwatch.yml")
	config := fmt.Sprintf(`
server: {listen: 127.0.0.1:0}
collect: {poll_interval: 20ms, lookback: 1h}
process: {enabled: false}
sinks:
  - {name: file, type: file, path: %s, max_bytes: 50000, no_sync: true, batch: {max_records: 40, max_wait: 5ms}}
  - {name: kafka, type: kafka, brokers: ["%s"], timeout: 5s, batch: {max_records: 70, max_wait: 5ms}}
  - {name: nats, type: nats, url: %s, timeout: 5s, stream: {create: true}, batch: {max_records: 55, max_wait: 5ms}}
`, filePath, strings.Join(brokers, `", "`), nats.URL())
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(dataDir, "idwatch.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	offset := func(name string) int64 {
		off, err := st.Offset(context.Background(), name)
		if errors.Is(err, store.ErrNotFound) { // not registered yet
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		return off
	}
	progress := func() int64 {
		last, err := st.LastSeq(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return last + offset("sink/file") + offset("sink/kafka") + offset("sink/nats")
	}
	// start runs serve; the channel receives its exit status.
	start := func(extra ...string) (*exec.Cmd, chan error) {
		args := append([]string{"serve", dd, "--config", cfgPath}, extra...)
		cmd := exec.Command(os.Args[0], "-test.run=^TestServeCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), envServeCrashArgs+"="+strings.Join(args, "\n"))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		return cmd, exited
	}

	// Live traffic: each cycle appends its share while serve runs; every 7th event becomes
	// visible late, after events published later.
	const chunk = 60
	total := chunk * kills
	now := time.Now()
	late := func(i int) time.Duration {
		if i%7 == 3 {
			return 30 * time.Millisecond
		}
		return 0
	}
	for k := range kills {
		before := progress()
		cmd, exited := start()
		org.appendSimEvents(t, k*chunk, (k+1)*chunk, now, late)
		waitUntil(t, fmt.Sprintf("progress before kill %d", k), func() bool {
			select {
			case err := <-exited:
				t.Fatalf("serve exited by itself: %v", err)
			default:
			}
			return progress() > before
		})
		time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond) // a random moment to kill at
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-exited
	}

	// The last run catches up (late events included) and delivers everything, then exits.
	waitUntil(t, "late events visible", func() bool { _, pending := org.srv.EventCount(); return pending == 0 })
	t.Logf("before the last run: journal+offsets progress %d of %d", progress(), 4*total)
	_, exited := start("--once")
	if err := <-exited; err != nil {
		t.Fatalf("serve --once after the kills: %v", err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "out", "events-*.jsonl"))
	slices.Sort(files)
	checkEachOnce(t, "file", fileSinkIDs(t, append(files, filePath)...), total)
	checkHasAll(t, "kafka", sinktest.KafkaKeys(t, brokers, "okta.events", total), total, true)
	checkHasAll(t, "nats", sinktest.NATSIDs(t, nats.URL(), "IDWATCH"), total, false)
}

// checkHasAll asserts every event id 0..n-1 is present; duplicates are allowed only when dupsOK.
func checkHasAll(t testing.TB, what string, ids []string, n int, dupsOK bool) {
	t.Helper()
	count := map[string]int{}
	for _, id := range ids {
		count[id]++
	}
	for i := range n {
		c := count[simEventID(i)]
		if c == 0 {
			t.Fatalf("%s: event %d missing", what, i)
		}
		if c > 1 && !dupsOK {
			t.Fatalf("%s: event %d delivered %d times", what, i, c)
		}
	}
	t.Logf("%s: %d ids for %d events", what, len(ids), n)
}

// waitUntil polls cond until it holds, failing the test after 30s.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

package sink

import (
	"context"
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

	"github.com/idwatch/idwatch/internal/sink/sinktest"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// Environment of the crash test's child process.
const (
	envCrashDir    = "IDWATCH_SINK_CRASH_DIR"
	envCrashConfig = "IDWATCH_SINK_CRASH_CONFIG"
	envCrashKills  = "IDWATCH_SINK_CRASH_KILLS"
)

// RunSinksFromDataDir opens the store in dataDir and runs the sinks configured in configYAML until
// ctx ends: the piece of `idwatch serve` the crash test kills.
func runSinksFromDataDir(ctx context.Context, dataDir string, configYAML []byte) error {
	cfgs, err := ParseConfigs(configYAML)
	if err != nil {
		return err
	}
	st, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(dataDir, "idwatch.db")})
	if err != nil {
		return err
	}
	defer st.Close()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return RunGroup(ctx, GroupOptions{Store: st, Configs: cfgs, Logger: log, PollInterval: 5 * time.Millisecond})
}

// TestCrashChild is the process the crash test starts and kills; it does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(envCrashDir)
	if dir == "" {
		t.Skip("runs only as the crash test's child")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := runSinksFromDataDir(ctx, dir, []byte(os.Getenv(envCrashConfig))); err != nil {
		t.Fatal(err)
	}
}

// TestCrashExactlyOnce SIGKILLs a process running file, Kafka and NATS sinks while the journal
// grows, restarts it, and checks that the file holds every event exactly once and Kafka and NATS
// hold every id (NATS without duplicates).
func TestCrashExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	kills := 20
	if s := os.Getenv(envCrashKills); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("%s: %v", envCrashKills, err)
		}
		kills = n
	}
	dir := t.TempDir()
	st := openStore(t, dir)
	brokers := sinktest.StartKafka(t)
	srv := sinktest.StartNATS(t)
	filePath := filepath.Join(dir, "out", "events.jsonl")
	if err := os.Mkdir(filepath.Dir(filePath), 0o700); err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(`
sinks:
  - name: file
    type: file
    path: %s
    max_bytes: 50000
    no_sync: true
    batch: {max_records: 40, max_wait: 5ms}
  - name: kafka
    type: kafka
    brokers: [%s]
    timeout: 5s
    batch: {max_records: 70, max_wait: 5ms}
  - name: nats
    type: nats
    url: %s
    timeout: 5s
    stream: {create: true}
    batch: {max_records: 55, max_wait: 5ms}
`, filePath, strings.Join(brokers, ", "), srv.URL())
	if _, err := ParseConfigs([]byte(config)); err != nil {
		t.Fatal(err)
	}

	// The journal grows while the child runs: each cycle appends its share concurrently.
	total := 100 * kills
	chunk := total / kills
	appendChunk := func(k int) chan struct{} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := k * chunk; i < (k+1)*chunk; i += 25 {
				appendEvents(t, st, i, min(25, (k+1)*chunk-i))
			}
		}()
		return done
	}

	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), envCrashDir+"="+dir, envCrashConfig+"="+config)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	progress := func() int64 {
		return offsetOf(t, st, "sink/file") + offsetOf(t, st, "sink/kafka") + offsetOf(t, st, "sink/nats")
	}
	for k := range kills {
		before := progress()
		cmd := start()
		appended := appendChunk(k)
		// Kill once the child has committed something, at a random moment after that.
		waitFor(t, fmt.Sprintf("progress before kill %d", k), func() bool {
			return progress() > before || cmd.ProcessState != nil || allCaughtUp(t, st)
		})
		time.Sleep(time.Duration(rand.IntN(15)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		<-appended
	}

	// A last run drains everything.
	cmd := start()
	waitFor(t, "all sinks caught up", func() bool { return allCaughtUp(t, st) })
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		// A child still starting up when everything was already delivered dies of the signal
		// before it installs its handler; that is not a failure.
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
			t.Fatalf("child exited with %v", err)
		}
	}

	files, _ := filepath.Glob(filepath.Join(dir, "out", "events-*.jsonl"))
	slices.Sort(files)
	checkExactlyOnce(t, readIDs(t, append(files, filePath)...), total)
	checkAllIDs(t, "kafka", sinktest.KafkaKeys(t, brokers, "okta.events", total), total, true)
	checkAllIDs(t, "nats", sinktest.NATSIDs(t, srv.URL(), "IDWATCH"), total, false)
}

func allCaughtUp(t testing.TB, st *sqlite.Store) bool {
	last, err := st.LastSeq(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"sink/file", "sink/kafka", "sink/nats"} {
		if offsetOf(t, st, n) != last {
			return false
		}
	}
	return true
}

// checkAllIDs asserts that every event id is present; duplicates are allowed only when dupsOK.
func checkAllIDs(t testing.TB, what string, ids []string, n int, dupsOK bool) {
	t.Helper()
	count := map[string]int{}
	for _, id := range ids {
		count[id]++
	}
	for i := range n {
		c := count[testEvent(i).UUID]
		if c == 0 {
			t.Fatalf("%s: event %d missing", what, i)
		}
		if c > 1 && !dupsOK {
			t.Fatalf("%s: event %d delivered %d times", what, i, c)
		}
	}
	t.Logf("%s: %d ids for %d events", what, len(ids), n)
}

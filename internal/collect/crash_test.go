package collect

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// Environment of the crash test's child process.
const (
	envCrashChild = "IDWATCH_COLLECT_CRASH_CHILD" // db path; set only in the child
	envCrashOrg   = "IDWATCH_COLLECT_CRASH_ORG"
	envCrashToken = "IDWATCH_COLLECT_CRASH_TOKEN"
	envCrashFinal = "IDWATCH_COLLECT_CRASH_FINAL" // catch up once and exit 0
	envCrashKills = "IDWATCH_CRASH_KILLS"         // how many SIGKILLs (default 20)
)

func TestMain(m *testing.M) {
	if path := os.Getenv(envCrashChild); path != "" {
		os.Exit(crashChild(path))
	}
	os.Exit(m.Run())
}

// crashChild collects the org into the store at path until killed (or, final, until caught up).
func crashChild(path string) int {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Options{Path: path})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	govs, _ := okta.NewGovernorSet(okta.GovernorConfig{})
	c := &Clients{Governors: govs}
	client, err := c.Client(store.Integration{Name: "crash", OrgURL: os.Getenv(envCrashOrg), AuthKind: store.AuthAPIToken,
		Credentials: store.Credentials{APIToken: secret.New(os.Getenv(envCrashToken))}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	p, err := NewPoller(1, client, st, NewTracker(1, st, nil, nil), Config{PageLimit: 20, PollInterval: 5 * time.Millisecond, RetryBackoff: 10 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	if os.Getenv(envCrashFinal) != "" {
		if err := p.CatchUp(ctx, 10); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
	_ = p.Run(ctx)
	return 0
}

// TestCrashSIGKILL runs the collector as a subprocess on a live org with late events, kills it
// with SIGKILL at random moments, restarts it each time, and finally checks the journal equals
// the org's events with no duplicate.
func TestCrashSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test starts subprocesses")
	}
	kills := 20
	if v := os.Getenv(envCrashKills); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q is not a positive number", envCrashKills, v)
		}
		kills = n
	}
	s := newSim(t, simOptions{wall: true, noLimit: true})
	path := t.TempDir() + "/idwatch.db"
	child := func(final bool) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envCrashChild+"="+path, envCrashOrg+"="+s.ts.URL, envCrashToken+"="+s.token)
		if final {
			cmd.Env = append(cmd.Env, envCrashFinal+"=1")
		}
		cmd.Stderr = os.Stderr
		return cmd
	}

	rng := mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 7))
	s.add(t, 400, 0, 0, nil)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		feedRng := mrand.New(mrand.NewPCG(3, 4))
		tick := time.NewTicker(3 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				s.add(t, 1+feedRng.IntN(8), 0.2, 300*time.Millisecond, feedRng)
			}
		}
	})
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for i := range kills {
		seen := s.srv.RequestLog(0)
		mark := uint64(0)
		if len(seen) > 0 {
			mark = seen[len(seen)-1].Seq
		}
		cmd := child(false)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		// Kill at a random moment after the collector's first request, so every kill lands while
		// it collects rather than while the process starts.
		deadline := time.Now().Add(30 * time.Second)
		for len(s.srv.RequestLog(mark)) == 0 {
			if time.Now().After(deadline) {
				_ = cmd.Process.Signal(syscall.SIGKILL)
				t.Fatalf("collector %d made no request within 30s", i)
			}
			select {
			case err := <-exited:
				t.Fatalf("collector exited by itself before kill %d: %v", i, err)
			case <-tick.C:
			}
		}
		timer := time.NewTimer(time.Duration(rng.IntN(150)) * time.Millisecond)
		select {
		case err := <-exited:
			t.Fatalf("collector exited by itself before kill %d: %v", i, err)
		case <-timer.C:
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-exited
	}
	close(stop)
	wg.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for _, pending := s.srv.EventCount(); pending > 0; _, pending = s.srv.EventCount() {
		if time.Now().After(deadline) {
			t.Fatalf("%d late events never became visible", pending)
		}
		<-tick.C
	}
	if n := countJournal(t, path); n == 0 {
		t.Fatal("the killed collectors stored nothing; the kills did not land mid-collection")
	} else {
		t.Logf("%d events stored before the final catch-up", n)
	}
	if err := child(true).Run(); err != nil {
		t.Fatalf("final catch-up: %v", err)
	}
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	assertTruth(t, s, st)
	t.Logf("%d kills, %d events", kills, len(s.srv.VisibleUUIDs()))
}

func countJournal(t *testing.T, path string) int64 {
	t.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, err := st.CountJournal(context.Background(), store.ReadFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

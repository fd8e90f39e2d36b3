package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/idwatch/idwatch/internal/secret"
)

// envCLIChildArgs carries the arguments of an idwatch process started by these tests.
const envCLIChildArgs = "IDWATCH_TEST_CLI_ARGS"

// TestCLIChild is the idwatch process the data-directory tests start; it does nothing in a
// normal run. Its exit status is idwatch's.
func TestCLIChild(t *testing.T) {
	args := os.Getenv(envCLIChildArgs)
	if args == "" {
		t.Skip("runs only as a child of the data-directory tests")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	io := stdio{in: strings.NewReader(""), out: os.Stdout, err: os.Stderr,
		log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	code := run(ctx, io, strings.Split(args, "\n"))
	stop()
	os.Exit(code)
}

// cliProcess prepares idwatch args as a separate process, without a master key in its environment.
func cliProcess(args ...string) (*exec.Cmd, *bytes.Buffer) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCLIChild$", "-test.count=1")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, secret.EnvMasterKey+"=") && !strings.HasPrefix(kv, envCLIChildArgs+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, envCLIChildArgs+"="+strings.Join(args, "\n"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	return cmd, &out
}

// TestDataDirLockProcesses runs collect in one process and a second collect, and a masterkey
// rotate, in others: the second ones are refused with the holder's pid, while read-only commands
// keep working; once the first exits, the lock is free again.
func TestDataDirLockProcesses(t *testing.T) {
	t.Setenv(secret.EnvMasterKey, "")
	dir := filepath.Join(t.TempDir(), "data")
	dd := "--data-dir=" + dir
	first, firstOut := cliProcess("collect", dd, "--poll-interval=1h")
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var waitErr error
	go func() { waitErr = first.Wait(); close(done) }()
	defer func() {
		_ = first.Process.Kill()
		<-done
	}()
	want := fmt.Sprintf("in use by idwatch collect (pid %d", first.Process.Pid)
	waitUntil(t, "the first collect holds the lock", func() bool {
		select {
		case <-done:
			t.Fatalf("first collect exited: %v\n%s", waitErr, firstOut)
		default:
		}
		b, _ := os.ReadFile(filepath.Join(dir, lockFileName))
		return strings.HasPrefix(string(b), strconv.Itoa(first.Process.Pid)+" ")
	})
	for _, args := range [][]string{{"collect", dd, "--once"}, {"masterkey", "rotate", dd}} {
		second, out := cliProcess(args...)
		err := second.Run()
		if err == nil || !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "read-only commands") {
			t.Fatalf("%s beside collect: %v\n%s", args[0], err, out)
		}
	}
	mustCLI(t, "integrations", "list", dd)
	mustCLI(t, "events", "export", dd)
	mustCLI(t, "alerts", "list", dd)

	if err := first.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-done // its exit status is not the point: a signal during start-up fails the run
	mustCLI(t, "collect", dd, "--once")
}

// TestFirstStartRace starts pairs of commands at once on fresh data directories: one adds an
// integration (creating the master key and database), the other collects (creating them too).
// Every start must succeed, and both must end up with the same key.
func TestFirstStartRace(t *testing.T) {
	t.Setenv(secret.EnvMasterKey, "")
	const pairs = 20
	base := t.TempDir()
	// Four pairs at a time keep the test short on a small machine; each pair races on its own
	// directory.
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	errs := make(chan string, 2*pairs)
	for i := range pairs {
		dd := "--data-dir=" + filepath.Join(base, fmt.Sprint("data", i))
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			a, aOut := cliProcess("integrations", "add", dd, "--name", "acme", "--org-url", "https://acme.okta.com", "--api-token", "tok", "--no-verify")
			b, bOut := cliProcess("collect", dd, "--once")
			if err := a.Start(); err != nil {
				errs <- err.Error()
				return
			}
			if err := b.Start(); err != nil {
				errs <- err.Error()
				return
			}
			if err := a.Wait(); err != nil {
				errs <- fmt.Sprintf("pair %d: add: %v\n%s", i, err, aOut)
			}
			if err := b.Wait(); err != nil {
				errs <- fmt.Sprintf("pair %d: collect: %v\n%s", i, err, bOut)
			}
		})
	}
	wg.Wait()
	close(errs)
	failed := 0
	for e := range errs {
		failed++
		t.Error(e)
	}
	if failed > 0 {
		t.Fatalf("%d of %d starts failed", failed, 2*pairs)
	}
	for i := range pairs {
		dd := "--data-dir=" + filepath.Join(base, fmt.Sprint("data", i))
		if r := listed(t, dd)["acme"]; r.CredentialsError != "" {
			t.Fatalf("pair %d: the two processes used different keys: %s", i, r.CredentialsError)
		}
	}
}

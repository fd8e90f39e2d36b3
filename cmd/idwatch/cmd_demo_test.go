package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// signalWriter collects output and closes seen once it contains want.
type signalWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return n, err
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestDemoRaisesAlerts runs the README's first command in-process: the emulated org's service app
// is verified and collected from with DPoP, and the built-in detections raise alerts on the attack
// storylines of its history.
func TestDemoRaisesAlerts(t *testing.T) {
	out := &signalWriter{want: "ALERT ", seen: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	std := stdio{in: strings.NewReader(""), out: out, err: io.Discard, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	go func() {
		done <- run(ctx, std, []string{"demo", "--listen", "127.0.0.1:0", "--users", "60", "--data-dir", t.TempDir(), "--status-every", "0"})
	}()
	select {
	case <-out.seen:
	case code := <-done:
		t.Fatalf("demo exited with %d before raising an alert:\n%s", code, out)
	case <-time.After(2 * time.Minute):
		t.Fatalf("no alert within 2 minutes:\n%s", out)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("demo exited with %d after cancel:\n%s", code, out)
	}
	got := out.String()
	for _, want := range []string{"Credentials: client assertion accepted; DPoP proof accepted", "idwatch: collecting from http://127.0.0.1:"} {
		if !strings.Contains(got, want) {
			t.Errorf("demo output lacks %q:\n%s", want, got)
		}
	}
}

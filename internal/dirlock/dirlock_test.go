package dirlock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "idwatch.lock")
	l, err := TryExclusive(path, "serve")
	if err != nil {
		t.Fatal(err)
	}
	_, err = TryExclusive(path, "collect")
	var held *HeldError
	if !errors.As(err, &held) || !errors.Is(err, ErrHeld) {
		t.Fatalf("second exclusive lock: %v, want a HeldError", err)
	}
	if held.Holder.PID != os.Getpid() || held.Holder.Command != "serve" || time.Since(held.Holder.Since) > time.Hour {
		t.Fatalf("holder %+v, want this process running serve", held.Holder)
	}
	if !strings.Contains(err.Error(), "idwatch serve (pid ") {
		t.Fatalf("message does not name the holder: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := Shared(ctx, path); !errors.Is(err, ErrHeld) {
		t.Fatalf("shared lock beside an exclusive one: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Fatalf("second release: %v", err)
	}
	l2, err := TryExclusive(path, "collect")
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	l2.Release()
	if b, _ := os.ReadFile(path); len(b) != 0 {
		t.Fatalf("released lock still names a holder: %q", b)
	}
}

func TestShared(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.lock")
	a, err := Shared(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Shared(t.Context(), path)
	if err != nil {
		t.Fatalf("two shared holders: %v", err)
	}
	_, err = TryExclusive(path, "masterkey rotate")
	var held *HeldError
	if !errors.As(err, &held) || held.Holder.PID != 0 || held.Holder.String() != "another idwatch process" {
		t.Fatalf("exclusive beside shared: %v", err)
	}
	a.Release()
	b.Release()
	l, err := TryExclusive(path, "masterkey rotate")
	if err != nil {
		t.Fatalf("exclusive after the shared ones left: %v", err)
	}
	l.Release()
}

func TestHolderNote(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	for content, want := range map[string]Holder{
		"":                                 {},
		"garbage":                          {},
		"-4 x y":                           {},
		"123":                              {PID: 123},
		"123 2026-01-02T03:04:05Z collect": {PID: 123, Command: "collect", Since: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		"77 not-a-time backfill acme":      {PID: 77, Command: "backfill acme"},
	} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := readHolder(path); got != want {
			t.Errorf("note %q: holder %+v, want %+v", content, got, want)
		}
	}
}

// FuzzHolderNote: whatever a lock file holds, reading its note neither fails nor invents a pid.
func FuzzHolderNote(f *testing.F) {
	f.Add("123 2026-01-02T03:04:05Z collect")
	f.Add("")
	f.Add("9999999999999999999999 x")
	f.Add("12\n34 5")
	path := filepath.Join(f.TempDir(), "lock")
	f.Fuzz(func(t *testing.T, note string) {
		if err := os.WriteFile(path, []byte(note), 0o600); err != nil {
			t.Fatal(err)
		}
		h := readHolder(path)
		if h.PID < 0 || (h.PID == 0 && (h.Command != "" || !h.Since.IsZero())) {
			t.Fatalf("note %q read as %+v", note, h)
		}
		_ = h.String()
	})
}

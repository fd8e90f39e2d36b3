// Package dirlock keeps two idwatch processes from doing the same work on one data directory: an
// advisory file lock (flock) that the kernel releases when its holder exits, however it exits,
// and a note in the lock file naming the holder for the process that is refused.
package dirlock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// Lock is a held lock; Release gives it back.
type Lock struct {
	fl   *flock.Flock
	path string
}

// Holder describes the process holding a lock, as far as its note in the lock file tells.
type Holder struct {
	// PID is the holder's process id; 0 when unknown.
	PID int
	// Command is what the holder runs (serve, collect …); empty when unknown.
	Command string
	// Since is when it took the lock; zero when unknown.
	Since time.Time
}

// String names the holder for an error message.
func (h Holder) String() string {
	if h.PID == 0 {
		return "another idwatch process"
	}
	s := "idwatch " + h.Command + " (pid " + strconv.Itoa(h.PID)
	if !h.Since.IsZero() {
		s += ", since " + h.Since.UTC().Format(time.RFC3339)
	}
	return s + ")"
}

// HeldError is returned when another process holds the lock.
type HeldError struct {
	// Path is the lock file.
	Path string
	// Holder is who holds it.
	Holder Holder
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("%s is held by %s", e.Path, e.Holder)
}

// ErrHeld matches every *HeldError with errors.Is.
var ErrHeld = errors.New("lock held by another process")

// Is makes errors.Is(err, ErrHeld) true for a *HeldError.
func (e *HeldError) Is(target error) bool { return target == ErrHeld }

// TryExclusive takes the lock file at path without waiting, and writes a note naming this process
// (pid, command, time) into it for the next process that is refused. It returns a *HeldError
// when another process holds the lock, shared or exclusive.
func TryExclusive(path, command string) (*Lock, error) {
	fl, err := newFlock(path)
	if err != nil {
		return nil, err
	}
	ok, err := fl.TryLock()
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	if !ok {
		return nil, &HeldError{Path: path, Holder: readHolder(path)}
	}
	// The note is informative only: the flock is what excludes.
	note := fmt.Sprintf("%d %s %s\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339), strings.ReplaceAll(command, "\n", " "))
	_ = os.WriteFile(path, []byte(note), 0o600)
	return &Lock{fl: fl, path: path}, nil
}

// Shared waits until no process holds path exclusively, then takes a shared lock: any number of
// shared holders run together, and an exclusive holder waits for them all. It gives up when ctx
// ends, returning a *HeldError naming the exclusive holder.
func Shared(ctx context.Context, path string) (*Lock, error) {
	fl, err := newFlock(path)
	if err != nil {
		return nil, err
	}
	ok, err := fl.TryRLockContext(ctx, 50*time.Millisecond)
	if !ok {
		if ctx.Err() != nil {
			return nil, &HeldError{Path: path, Holder: readHolder(path)}
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return &Lock{fl: fl, path: path}, nil
}

// Release gives the lock back; calling it again does nothing. The file stays: removing it
// would let a waiting process lock a file that a third process can no longer see.
func (l *Lock) Release() error {
	if l == nil || l.fl == nil {
		return nil
	}
	if l.fl.Locked() {
		// Clear the note first, while still holding the lock, so it never names a gone process.
		_ = os.Truncate(l.path, 0)
	}
	err := l.fl.Close()
	l.fl = nil
	return err
}

// newFlock prepares a lock on path, creating its directory (0700) when missing.
func newFlock(path string) (*flock.Flock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating the directory of %s: %w", path, err)
	}
	return flock.New(path, flock.SetPermissions(0o600)), nil
}

// readHolder parses the note "pid time command"; what cannot be read stays unknown.
func readHolder(path string) Holder {
	b, err := os.ReadFile(path)
	if err != nil {
		return Holder{}
	}
	fields := strings.SplitN(strings.TrimSpace(string(b)), " ", 3)
	pid, err := strconv.Atoi(fields[0])
	if err != nil || pid <= 0 {
		return Holder{}
	}
	h := Holder{PID: pid}
	if len(fields) > 1 {
		h.Since, _ = time.Parse(time.RFC3339, fields[1])
	}
	if len(fields) > 2 {
		h.Command = fields[2]
	}
	return h
}

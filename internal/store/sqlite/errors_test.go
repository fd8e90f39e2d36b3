package sqlite

import (
	"bytes"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/store"
)

// assertUnavailable checks that err is a storage outage whose message keeps the database.
func assertUnavailable(t *testing.T, err error, path string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if !errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("not classified as unavailable: %v", err)
	}
	if strings.Contains(msg, "restore it") || strings.Contains(msg, "move it aside") || strings.Contains(msg, "is corrupt") {
		t.Fatalf("an outage advises throwing the database away: %v", err)
	}
	if !strings.Contains(msg, path) || !strings.Contains(msg, "intact") || !strings.Contains(msg, "SQLITE_") {
		t.Fatalf("outage error does not name the path, the code and that the data is intact: %v", err)
	}
}

// assertCorrupt checks that err says the file is damaged and how to recover.
func assertCorrupt(t *testing.T, err error, path string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if !errors.Is(err, store.ErrCorrupt) || errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("not classified as corrupt: %v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, path) || !strings.Contains(msg, "restore it from backup") || !strings.Contains(msg, "not a healthy idwatch database") {
		t.Fatalf("corrupt error does not name the path and the fix: %v", err)
	}
}

// TestReadFailureIsNotCorruption makes the kernel fail a read with EIO (reading /proc/self/mem at
// offset 0), which SQLite reports as SQLITE_CORRUPT: the store must call that an outage.
func TestReadFailureIsNotCorruption(t *testing.T) {
	const failing = "/proc/self/mem"
	if runtime.GOOS != "linux" {
		t.Skip("needs /proc/self/mem")
	}
	if _, err := os.ReadFile(failing); err == nil {
		t.Skip(failing + " reads without an error here")
	}
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "other.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	_, err = db.ExecContext(t.Context(), "ATTACH DATABASE '"+failing+"' AS m")
	if err == nil {
		err = db.QueryRowContext(t.Context(), "SELECT count(*) FROM m.sqlite_master").Scan(&n)
	}
	if err == nil {
		t.Skip("SQLite read " + failing + " without an error")
	}
	s := &Store{path: failing}
	assertUnavailable(t, s.wrap("read", err), failing)
}

func TestDatabaseReplacedByDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idwatch.db")
	s := openAt(t, path)
	// The file disappears under a running store (a volume unmounted, a path reused): the open
	// writer keeps working on the old file, new readers cannot open it.
	if err := os.Rename(path, path+".moved"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := s.LastSeq(t.Context())
	assertUnavailable(t, err, path)
	s2, err := Open(t.Context(), Options{Path: path})
	if err == nil {
		_ = s2.Close()
	}
	assertUnavailable(t, err, path)
}

func TestDiskFullIsUnavailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idwatch.db")
	s := openAt(t, path)
	if _, err := s.w.Exec("PRAGMA max_page_count = 1"); err != nil {
		t.Fatal(err)
	}
	_, err := s.AppendPage(t.Context(), 1, benchPages(1, 50)[0], nil)
	assertUnavailable(t, err, path)
	if !strings.Contains(err.Error(), "SQLITE_FULL") || !strings.Contains(err.Error(), "free space") {
		t.Fatalf("disk full error does not name the code and the fix: %v", err)
	}
}

func TestCorruptDatabase(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("not sqlite "), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(t.Context(), Options{Path: garbage})
	assertCorrupt(t, err, garbage)

	// A real database whose pages after the first were overwritten.
	path := filepath.Join(dir, "idwatch.db")
	s := openAt(t, path)
	if _, err := s.AppendPage(t.Context(), 1, benchPages(1, 200)[0], nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := pageSize; i < len(b); i++ {
		b[i] = 0xa5
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(t.Context(), Options{Path: path})
	if err == nil {
		defer s2.Close()
		_, err = s2.ReadJournal(t.Context(), 0, 10, store.ReadFilter{})
	}
	assertCorrupt(t, err, path)
}

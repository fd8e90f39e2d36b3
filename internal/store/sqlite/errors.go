package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/idwatch/idwatch/internal/store"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// wrap puts the operation and database path on err and, for the failures an operator can fix,
// says how. Store sentinel errors and context errors stay matchable with errors.Is; storage
// failures match store.ErrUnavailable or store.ErrCorrupt.
//
// The two classes call for opposite actions: an unavailable store (disk full, I/O error, wrong
// permissions, another process's lock) holds an intact database that works again once the cause
// is fixed, and replacing it would throw data away; only a corrupt file is to be restored or moved
// aside.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrInvalid) {
		return fmt.Errorf("%s: %w", op, err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, err)
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return fmt.Errorf("sqlite store %s: %s: %w", s.path, op, err)
	}
	code := se.Code()
	name := codeName(code)
	switch code & 0xff {
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		// SQLite reports a failed read (EIO) on some paths as SQLITE_CORRUPT: read the files back
		// before calling the database damaged.
		if rerr := s.readBack(); rerr != nil {
			return s.unavailable(op, name, fmt.Sprintf("the file system failed reading the database (%v): check the disk (kernel log, SMART) and that its volume is mounted", rerr), err)
		}
		what := "the database is corrupt"
		if code&0xff == sqlite3.SQLITE_NOTADB {
			what = "the file is not an SQLite database"
		}
		return fmt.Errorf("sqlite store %s: %s: %s (%s) and reads back without I/O errors, so it is not a healthy idwatch database: stop idwatch, keep a copy, then restore it from backup or move it aside to start afresh: %w (%w)",
			s.path, op, what, name, store.ErrCorrupt, err)
	case sqlite3.SQLITE_FULL:
		return s.unavailable(op, name, "the disk or the database is full: free space on the volume holding the data directory, or shorten retention (storage.journal_keep) so the journal is trimmed", err)
	case sqlite3.SQLITE_IOERR:
		return s.unavailable(op, name, "the file system failed reading or writing the database: check the disk (kernel log, SMART), free space and that its volume is mounted", err)
	case sqlite3.SQLITE_READONLY:
		return s.unavailable(op, name, "the database is read-only: make the file, its -wal and -shm files and the data directory writable by the idwatch user, with the volume mounted read-write, or choose another --data-dir", err)
	case sqlite3.SQLITE_CANTOPEN:
		return s.unavailable(op, name, "cannot open the database file or its -wal/-shm files: check that the data directory exists, is a directory, holds idwatch.db as a regular file and is writable by the idwatch user, or choose another --data-dir", err)
	case sqlite3.SQLITE_PERM:
		return s.unavailable(op, name, "access to the database was denied: check the permissions of the data directory and its files", err)
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_PROTOCOL:
		return s.unavailable(op, name, "another process holds the database lock for too long: run one idwatch per data directory", err)
	case sqlite3.SQLITE_INTERRUPT:
		return fmt.Errorf("sqlite store %s: %s: interrupted: %w", s.path, op, errors.Join(context.Canceled, err))
	}
	return fmt.Errorf("sqlite store %s: %s: %w", s.path, op, err)
}

// unavailable formats a storage outage: the cause and its fix, and that the data is intact.
func (s *Store) unavailable(op, name, fix string, err error) error {
	return fmt.Errorf("sqlite store %s: %s: %w (%s): %s; the database file is intact (do not restore or delete it) and idwatch works again once this is fixed: retry (%w)",
		s.path, op, store.ErrUnavailable, name, fix, err)
}

// readBackEvery bounds how often readBack reads the files again: every retry of a failing
// operation reports the same damage, and the database may be gigabytes.
const readBackEvery = time.Minute

// readBack returns readFiles' result for the database, read again at most every readBackEvery.
func (s *Store) readBack() error {
	now := time.Now
	if s.now != nil {
		now = s.now
	}
	s.readBackMu.Lock()
	defer s.readBackMu.Unlock()
	if t := now(); s.readBackAt.IsZero() || t.Sub(s.readBackAt) >= readBackEvery || t.Before(s.readBackAt) {
		s.readBackErr, s.readBackAt = readFiles(s.path), t
	}
	return s.readBackErr
}

// readFiles reads the database file and its WAL through to the end and returns the first error
// other than a missing WAL. It runs only when SQLite has reported damage, to tell a failing disk
// from a damaged file.
func readFiles(path string) error {
	buf := make([]byte, 1<<20)
	for i, p := range []string{path, path + "-wal"} {
		f, err := os.Open(p)
		if err != nil {
			if i > 0 && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return err
		}
		_, err = io.CopyBuffer(io.Discard, onlyReader{f}, buf)
		_ = f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// onlyReader hides *os.File's WriterTo so that io.CopyBuffer reads through buf.
type onlyReader struct{ io.Reader }

// codeNames spells the result codes an operator may search for; others print as numbers.
var codeNames = map[int]string{
	sqlite3.SQLITE_BUSY:                    "SQLITE_BUSY",
	sqlite3.SQLITE_BUSY_RECOVERY:           "SQLITE_BUSY_RECOVERY",
	sqlite3.SQLITE_BUSY_SNAPSHOT:           "SQLITE_BUSY_SNAPSHOT",
	sqlite3.SQLITE_BUSY_TIMEOUT:            "SQLITE_BUSY_TIMEOUT",
	sqlite3.SQLITE_LOCKED:                  "SQLITE_LOCKED",
	sqlite3.SQLITE_LOCKED_SHAREDCACHE:      "SQLITE_LOCKED_SHAREDCACHE",
	sqlite3.SQLITE_PROTOCOL:                "SQLITE_PROTOCOL",
	sqlite3.SQLITE_PERM:                    "SQLITE_PERM",
	sqlite3.SQLITE_FULL:                    "SQLITE_FULL",
	sqlite3.SQLITE_CORRUPT:                 "SQLITE_CORRUPT",
	sqlite3.SQLITE_CORRUPT_VTAB:            "SQLITE_CORRUPT_VTAB",
	sqlite3.SQLITE_CORRUPT_SEQUENCE:        "SQLITE_CORRUPT_SEQUENCE",
	sqlite3.SQLITE_CORRUPT_INDEX:           "SQLITE_CORRUPT_INDEX",
	sqlite3.SQLITE_NOTADB:                  "SQLITE_NOTADB",
	sqlite3.SQLITE_CANTOPEN:                "SQLITE_CANTOPEN",
	sqlite3.SQLITE_CANTOPEN_ISDIR:          "SQLITE_CANTOPEN_ISDIR",
	sqlite3.SQLITE_CANTOPEN_FULLPATH:       "SQLITE_CANTOPEN_FULLPATH",
	sqlite3.SQLITE_CANTOPEN_NOTEMPDIR:      "SQLITE_CANTOPEN_NOTEMPDIR",
	sqlite3.SQLITE_CANTOPEN_CONVPATH:       "SQLITE_CANTOPEN_CONVPATH",
	sqlite3.SQLITE_CANTOPEN_SYMLINK:        "SQLITE_CANTOPEN_SYMLINK",
	sqlite3.SQLITE_READONLY:                "SQLITE_READONLY",
	sqlite3.SQLITE_READONLY_RECOVERY:       "SQLITE_READONLY_RECOVERY",
	sqlite3.SQLITE_READONLY_CANTLOCK:       "SQLITE_READONLY_CANTLOCK",
	sqlite3.SQLITE_READONLY_ROLLBACK:       "SQLITE_READONLY_ROLLBACK",
	sqlite3.SQLITE_READONLY_DBMOVED:        "SQLITE_READONLY_DBMOVED",
	sqlite3.SQLITE_READONLY_CANTINIT:       "SQLITE_READONLY_CANTINIT",
	sqlite3.SQLITE_READONLY_DIRECTORY:      "SQLITE_READONLY_DIRECTORY",
	sqlite3.SQLITE_IOERR:                   "SQLITE_IOERR",
	sqlite3.SQLITE_IOERR_READ:              "SQLITE_IOERR_READ",
	sqlite3.SQLITE_IOERR_SHORT_READ:        "SQLITE_IOERR_SHORT_READ",
	sqlite3.SQLITE_IOERR_WRITE:             "SQLITE_IOERR_WRITE",
	sqlite3.SQLITE_IOERR_FSYNC:             "SQLITE_IOERR_FSYNC",
	sqlite3.SQLITE_IOERR_DIR_FSYNC:         "SQLITE_IOERR_DIR_FSYNC",
	sqlite3.SQLITE_IOERR_TRUNCATE:          "SQLITE_IOERR_TRUNCATE",
	sqlite3.SQLITE_IOERR_FSTAT:             "SQLITE_IOERR_FSTAT",
	sqlite3.SQLITE_IOERR_UNLOCK:            "SQLITE_IOERR_UNLOCK",
	sqlite3.SQLITE_IOERR_RDLOCK:            "SQLITE_IOERR_RDLOCK",
	sqlite3.SQLITE_IOERR_DELETE:            "SQLITE_IOERR_DELETE",
	sqlite3.SQLITE_IOERR_NOMEM:             "SQLITE_IOERR_NOMEM",
	sqlite3.SQLITE_IOERR_ACCESS:            "SQLITE_IOERR_ACCESS",
	sqlite3.SQLITE_IOERR_CHECKRESERVEDLOCK: "SQLITE_IOERR_CHECKRESERVEDLOCK",
	sqlite3.SQLITE_IOERR_LOCK:              "SQLITE_IOERR_LOCK",
	sqlite3.SQLITE_IOERR_CLOSE:             "SQLITE_IOERR_CLOSE",
	sqlite3.SQLITE_IOERR_SHMOPEN:           "SQLITE_IOERR_SHMOPEN",
	sqlite3.SQLITE_IOERR_SHMSIZE:           "SQLITE_IOERR_SHMSIZE",
	sqlite3.SQLITE_IOERR_SHMLOCK:           "SQLITE_IOERR_SHMLOCK",
	sqlite3.SQLITE_IOERR_SHMMAP:            "SQLITE_IOERR_SHMMAP",
	sqlite3.SQLITE_IOERR_SEEK:              "SQLITE_IOERR_SEEK",
	sqlite3.SQLITE_IOERR_DELETE_NOENT:      "SQLITE_IOERR_DELETE_NOENT",
	sqlite3.SQLITE_IOERR_MMAP:              "SQLITE_IOERR_MMAP",
	sqlite3.SQLITE_IOERR_GETTEMPPATH:       "SQLITE_IOERR_GETTEMPPATH",
	sqlite3.SQLITE_IOERR_BEGIN_ATOMIC:      "SQLITE_IOERR_BEGIN_ATOMIC",
	sqlite3.SQLITE_IOERR_COMMIT_ATOMIC:     "SQLITE_IOERR_COMMIT_ATOMIC",
	sqlite3.SQLITE_IOERR_ROLLBACK_ATOMIC:   "SQLITE_IOERR_ROLLBACK_ATOMIC",
	sqlite3.SQLITE_IOERR_DATA:              "SQLITE_IOERR_DATA",
	sqlite3.SQLITE_IOERR_CORRUPTFS:         "SQLITE_IOERR_CORRUPTFS",
}

// codeName returns the symbolic name of an SQLite (extended) result code.
func codeName(code int) string {
	if n, ok := codeNames[code]; ok {
		return n
	}
	if n, ok := codeNames[code&0xff]; ok {
		return fmt.Sprintf("%s, extended code %d", n, code)
	}
	return fmt.Sprintf("SQLite result code %d", code)
}

// isUnique reports whether err is a uniqueness violation.
func isUnique(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

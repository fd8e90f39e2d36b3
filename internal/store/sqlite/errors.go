package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/idwatch/idwatch/internal/store"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// wrap puts the operation and database path on err and, for the failures an operator can fix,
// says how. Store sentinel errors and context errors stay matchable with errors.Is.
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
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_FULL:
		return fmt.Errorf("sqlite store %s: %s: disk or database is full: free space on the volume holding the data directory, or lower retention so the journal is trimmed (%w)", s.path, op, err)
	case sqlite3.SQLITE_READONLY:
		return fmt.Errorf("sqlite store %s: %s: database is read-only: make the file and its directory writable by the idwatch user, or choose another --data-dir (%w)", s.path, op, err)
	case sqlite3.SQLITE_CANTOPEN:
		return fmt.Errorf("sqlite store %s: %s: cannot open the database file: check that the data directory exists and is writable by the idwatch user, or choose another --data-dir (%w)", s.path, op, err)
	case sqlite3.SQLITE_IOERR:
		return fmt.Errorf("sqlite store %s: %s: disk I/O error: check the disk and free space (%w)", s.path, op, err)
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return fmt.Errorf("sqlite store %s: %s: the file is not a healthy idwatch database: restore it from backup or move it aside (%w)", s.path, op, err)
	case sqlite3.SQLITE_BUSY:
		return fmt.Errorf("sqlite store %s: %s: another process holds the database lock for too long: run one idwatch per data directory (%w)", s.path, op, err)
	case sqlite3.SQLITE_INTERRUPT:
		return fmt.Errorf("sqlite store %s: %s: interrupted: %w", s.path, op, errors.Join(context.Canceled, err))
	}
	return fmt.Errorf("sqlite store %s: %s: %w", s.path, op, err)
}

// isUnique reports whether err is a uniqueness violation.
func isUnique(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

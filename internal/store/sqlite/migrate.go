package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

// migrations holds the schema as numbered SQL files (0001_name.sql, …), applied in order.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migration is one numbered schema step.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads and orders the embedded migration files.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		base := strings.TrimPrefix(n, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration file %s is not named NNNN_name.sql", base)
		}
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: versions must run 1, 2, 3 … without gaps or repeats", m.name)
		}
	}
	return ms, nil
}

// goStep is a migration step written in Go, for what SQL alone cannot do (compressing rows). A
// migration file names one on a line of its own, "-- go: name (what it does)"; the step runs
// there, in the migration's transaction, between the SQL before and after the line.
type goStep func(ctx context.Context, tx *sql.Tx) error

// goStepMarker starts the line that names a goStep in a migration file.
const goStepMarker = "-- go: "

// migrate applies every migration newer than the database's schema_version, each in its own
// transaction together with its version row, so a crash mid-migration leaves the previous version.
// upto > 0 stops after that version (tests build databases of an older schema with it).
func migrate(ctx context.Context, db *sql.DB, now func() time.Time, steps map[string]goStep, upto int) error {
	ms, err := loadMigrations(migrations)
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at BIGINT NOT NULL)`); err != nil {
		return err
	}
	if upto > 0 && upto < len(ms) {
		ms = ms[:upto]
	}
	// Each step re-reads the version inside its (immediate) transaction, so two processes opening
	// a new database at once cannot apply the same step twice.
	for {
		done, err := migrateStep(ctx, db, ms, now, steps)
		if err != nil || done {
			return err
		}
	}
}

// migrateStep applies the next pending migration and reports whether none was left.
func migrateStep(ctx context.Context, db *sql.DB, ms []migration, now func() time.Time, steps map[string]goStep) (bool, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer func() { _ = tx.Rollback() }()
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&current); err != nil {
		return false, err
	}
	if current > len(ms) && len(ms) == countMigrations() {
		return false, fmt.Errorf("database schema version %d is newer than this idwatch understands (%d): run a newer idwatch", current, len(ms))
	}
	if current >= len(ms) {
		return true, nil
	}
	m := ms[current]
	if err := runMigration(ctx, tx, m, steps); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)`,
		m.version, m.name, now().UnixNano()); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.name, err)
	}
	return false, nil
}

// SchemaVersion returns the applied schema version.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v)
	return v, s.wrap("schema version", err)
}

// runMigration executes a migration's SQL, and the Go steps it names where it names them.
func runMigration(ctx context.Context, tx *sql.Tx, m migration, steps map[string]goStep) error {
	rest := m.sql
	for {
		before, after, found := strings.Cut(rest, "\n"+goStepMarker)
		if strings.TrimSpace(before) != "" {
			if _, err := tx.ExecContext(ctx, before); err != nil {
				return err
			}
		}
		if !found {
			return nil
		}
		line, tail, _ := strings.Cut(after, "\n")
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		step := steps[name]
		if step == nil {
			return fmt.Errorf("names the Go step %q, which this idwatch does not have", name)
		}
		if err := step(ctx, tx); err != nil {
			return fmt.Errorf("step %s: %w", name, err)
		}
		rest = tail
	}
}

// countMigrations is the number of embedded migrations (0 if they cannot be read).
func countMigrations() int {
	ms, err := loadMigrations(migrations)
	if err != nil {
		return 0
	}
	return len(ms)
}

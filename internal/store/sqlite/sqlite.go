// Package sqlite is the embedded store.Store: one SQLite file in WAL mode through the pure-Go
// modernc.org/sqlite driver. All writes go through a single connection, so concurrent writers queue
// in Go instead of meeting SQLITE_BUSY; reads use a separate read-only pool that WAL lets run
// alongside the writer.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"

	sqlitedrv "modernc.org/sqlite" // registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"
)

// Options configures Open.
type Options struct {
	// Path is the database file; its directory is created (0700) when missing.
	Path string
	// Logger receives operational messages (never secrets); nil discards.
	Logger *slog.Logger
	// Clock stamps stored_at/updated_at; nil means time.Now.
	Clock func() time.Time
	// Sealer encrypts integration secrets; without one, storing or reading a secret fails.
	Sealer secret.Sealer
	// MaxJournalEntries caps the journal at the newest N seq numbers when TrimJournal runs, even if
	// a consumer has not read them; 0 means no cap.
	MaxJournalEntries int64
	// SyncFull makes every commit survive power loss (synchronous=FULL). The default, NORMAL, keeps
	// every commit across process crashes and may lose the last commits on power loss.
	SyncFull bool
	// BusyTimeout bounds waiting for another process holding the database lock; 0 means 10s.
	BusyTimeout time.Duration
	// ReadConns is the size of the read pool; 0 means 4. Each reader's page cache is
	// readerCachePages pages (320 KiB).
	ReadConns int
	// CacheBytes bounds the writer connection's page cache; 0 means 32 MiB. It holds a page of
	// events until it commits; below a page's size SQLite spills to the WAL before the commit.
	CacheBytes int64
	// MmapBytes lets each connection read up to this much of the file through a memory map
	// instead of copies in its page cache; 0 (the default) reads through the cache only. Mapped
	// pages count towards the process's RSS while they are resident, though the kernel can drop
	// them at any time.
	MmapBytes int64
	// Faults injects failures for tests; nil in production.
	Faults store.Faults
	// Keys says what OpenDataDir's caller needs the master key for (Open ignores it).
	Keys KeyUse
}

// Validate checks the options.
func (o Options) Validate() error {
	var errs []error
	if o.Path == "" {
		errs = append(errs, errors.New("no database path; pass --data-dir"))
	}
	if strings.ContainsAny(o.Path, "?#") {
		errs = append(errs, fmt.Errorf("database path %q contains ? or #, which SQLite would read as URI syntax; choose another --data-dir", o.Path))
	}
	if o.MaxJournalEntries < 0 {
		errs = append(errs, errors.New("MaxJournalEntries is negative"))
	}
	if o.BusyTimeout < 0 || o.ReadConns < 0 {
		errs = append(errs, errors.New("BusyTimeout and ReadConns must not be negative"))
	}
	if o.CacheBytes < 0 || (o.CacheBytes > 0 && o.CacheBytes < minCacheBytes) || o.MmapBytes < 0 {
		errs = append(errs, fmt.Errorf("CacheBytes must be 0 (default) or at least %d, and MmapBytes must not be negative", minCacheBytes))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite store: %w", err)
	}
	return nil
}

// Store is the SQLite implementation of store.Store.
type Store struct {
	path   string
	w      *sql.DB // exactly one connection: every write
	r      *sql.DB // read-only pool
	log    *slog.Logger
	now    func() time.Time
	sealer secret.Sealer
	cap    int64
	faults store.Faults
	// insertEvent is insertEventSQL prepared once on the writer connection.
	insertEvent *sql.Stmt
	// codec compresses and decompresses the journal's events.
	codec *rawCodec
	// trimBatch is trimBatch outside tests.
	trimBatch int64

	closeOnce sync.Once
	closeErr  error

	// readBackMu guards the last read-back of the files after SQLite reported damage (errors.go).
	readBackMu  sync.Mutex
	readBackAt  time.Time
	readBackErr error
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database at o.Path and applies pending migrations.
func Open(ctx context.Context, o Options) (*Store, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	s := &Store{path: o.Path, log: o.Logger, now: o.Clock, sealer: o.Sealer, cap: o.MaxJournalEntries, faults: o.Faults,
		trimBatch: trimBatch}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := prepareDir(o.Path); err != nil {
		return nil, err
	}
	busy := o.BusyTimeout
	if busy == 0 {
		busy = 10 * time.Second
	}
	syncMode := "NORMAL"
	if o.SyncFull {
		syncMode = "FULL"
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	// Checkpoint every ~64 MiB of WAL instead of every 4 MiB: fewer copies and fsyncs while
	// ingesting, at the cost of a larger -wal file between checkpoints.
	q.Add("_pragma", "wal_autocheckpoint(4096)")
	q.Add("_pragma", "synchronous("+syncMode+")")
	// 32 MiB of page cache keeps a whole page of events in memory until commit instead of
	// spilling it to the WAL half-way.
	cache := o.CacheBytes
	if cache == 0 {
		cache = defaultCacheBytes
	}
	q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", cache>>10))
	q.Add("_pragma", fmt.Sprintf("mmap_size(%d)", o.MmapBytes))
	q.Add("_txlock", "immediate")
	if err := createDatabase(ctx, o.Path, busy); err != nil {
		return nil, s.wrap("create", err)
	}
	var err error
	if s.w, err = sql.Open("sqlite", o.Path+"?"+q.Encode()); err != nil {
		return nil, s.wrap("open", err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetConnMaxIdleTime(0)
	if err := s.checkWAL(ctx); err != nil {
		_ = s.w.Close()
		return nil, err
	}
	if s.codec, err = newRawCodec(); err != nil {
		_ = s.w.Close()
		return nil, fmt.Errorf("sqlite store: %w", err)
	}
	if err := migrate(ctx, s.w, s.now, s.goSteps(), 0); err != nil {
		s.codec.close()
		_ = s.w.Close()
		return nil, s.wrap("migrate", err)
	}
	if err := s.backfillEventIndex(ctx); err != nil {
		_ = s.w.Close()
		return nil, err
	}
	if s.insertEvent, err = s.w.PrepareContext(ctx, insertEventSQL); err != nil {
		s.codec.close()
		_ = s.w.Close()
		return nil, s.wrap("prepare", err)
	}
	if err := s.openReaders(o.ReadConns, busy, o.MmapBytes); err != nil {
		s.codec.close()
		_ = s.insertEvent.Close()
		_ = s.w.Close()
		return nil, err
	}
	return s, nil
}

// defaultCacheBytes is the writer's page cache unless Options.CacheBytes says otherwise;
// minCacheBytes the least it may be set to (a few pages of the largest events).
const (
	defaultCacheBytes = 32 << 20
	minCacheBytes     = 1 << 20
)

// goSteps are the Go steps migrations name (migrate.go).
func (s *Store) goSteps() map[string]goStep {
	return map[string]goStep{"pack_journal": s.packJournal}
}

// readerCachePages is each reader's page cache size in pages (320 KiB of 16 KiB pages). Smaller
// values (8, 12) measured no faster.
const readerCachePages = 20

// openReaders opens the read-only pool of n connections (0: 4).
func (s *Store) openReaders(n int, busy time.Duration, mmap int64) error {
	rq := url.Values{}
	rq.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	// Every commit (a sink's offset, a collected page) changes the WAL, and each reader's next read
	// transaction then drops its whole page cache: a large cache buys nothing across reads, and
	// freeing it page by page (one madvise each in the pure-Go allocator) cost ~70 % of a sink's
	// CPU. A full cache recycles its least recently used page instead of allocating another, so a
	// small one bounds what each reset frees; a read is a sequential B-tree walk that needs only a
	// handful of pages at a time.
	rq.Add("_pragma", fmt.Sprintf("cache_size(%d)", readerCachePages))
	rq.Add("_pragma", fmt.Sprintf("mmap_size(%d)", mmap))
	rq.Add("_query_only", "1")
	var err error
	if s.r, err = sql.Open("sqlite", s.path+"?"+rq.Encode()); err != nil {
		return s.wrap("open", err)
	}
	if n == 0 {
		n = 4
	}
	s.r.SetMaxOpenConns(n)
	s.r.SetMaxIdleConns(n)
	return nil
}

// Close closes both connection pools (SQLite checkpoints the WAL on the last close); calling it
// again returns the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = errors.Join(s.insertEvent.Close(), s.r.Close(), s.w.Close())
		s.codec.close()
	})
	return s.closeErr
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// prepareDir creates the database's directory, or explains why it cannot.
func prepareDir(path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case err == nil && !st.IsDir():
		return fmt.Errorf("sqlite store: %s is not a directory; choose another --data-dir", dir)
	case err == nil:
		return nil
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("sqlite store: cannot create data directory %s: %w; create it or choose another --data-dir", dir, err)
		}
		return nil
	default:
		return fmt.Errorf("sqlite store: data directory %s: %w; fix its permissions or choose another --data-dir", dir, err)
	}
}

// pageSize is the page size of new databases: 16 KiB pages hold six ~2 KB events each, where 4 KiB
// pages hold one and waste 40 %.
const pageSize = 16384

// createDatabase creates a missing or empty database file (mode 0600) with pageSize pages. The page size is
// fixed when the first page is written, and the driver switches to WAL before it applies other
// pragmas, so this takes a connection of its own. It waits up to busy for a process creating the
// same database at the same moment.
func createDatabase(ctx context.Context, path string, busy time.Duration) error {
	if st, err := os.Stat(path); err == nil && st.Size() > 0 {
		return nil
	}
	// The journal holds users' names, addresses and IPs: create the file owner-only before SQLite
	// does (it would follow the umask), and SQLite gives the -wal and -shm files the same mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", fmt.Sprintf("page_size(%d)", pageSize))
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return err
	}
	defer db.Close()
	// Two processes creating the database at once both hold a shared lock when each asks for
	// the exclusive one that switching to WAL needs; SQLite then fails one at once instead of
	// calling its busy handler, so retry until busy has passed.
	deadline := time.Now().Add(busy)
	for {
		_, err = db.ExecContext(ctx, "PRAGMA journal_mode=WAL")
		var se *sqlitedrv.Error
		if !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		t := time.NewTimer(5 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// checkWAL confirms the database could switch to WAL, which concurrent reads and the crash
// guarantees depend on.
func (s *Store) checkWAL(ctx context.Context) error {
	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return s.wrap("open", err)
	}
	if mode != "wal" {
		return fmt.Errorf("sqlite store %s: journal mode is %q, not wal: the file system does not support WAL (network file systems often do not); put --data-dir on a local disk", s.path, mode)
	}
	return nil
}

// write runs fn in one write transaction and commits it, rolling back on any error.
func (s *Store) write(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(op, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return s.wrap(op, err)
	}
	if err := tx.Commit(); err != nil {
		return s.wrap(op, err)
	}
	return nil
}

// fault asks the injected fault hook whether to fail at p.
func (s *Store) fault(p store.FaultPoint) error {
	if s.faults == nil {
		return nil
	}
	return s.faults(p)
}

// nanos stores a time as Unix nanoseconds, NULL for the zero time.
func nanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// fromNanos reads what nanos stored.
func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

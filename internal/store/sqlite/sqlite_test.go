package sqlite

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/idwatch/idwatch/internal/secret"

	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/storetest"
)

// openTest opens a store for the conformance suite.
func openTest(t *testing.T, h storetest.Harness) store.Store {
	t.Helper()
	s, err := Open(t.Context(), Options{
		Path:              filepath.Join(h.Location, "idwatch.db"),
		Clock:             h.Clock.Now,
		Sealer:            h.Sealer,
		Faults:            h.Faults,
		MaxJournalEntries: h.MaxJournalEntries,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, openTest)
}

// openAt opens a store at path with a fixed test key, closing it at cleanup.
func openAt(t *testing.T, path string) *Store {
	t.Helper()
	keys, err := secret.NewKeyring(bytes.Repeat([]byte{1}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), Options{Path: path, Sealer: keys})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// dbFiles returns the database file and its WAL companions' contents.
func dbFiles(t *testing.T, path string) []byte {
	t.Helper()
	var all []byte
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		b, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

func TestSecretsNotOnDisk(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idwatch.db")
	s := openAt(t, path)
	in := store.Integration{Name: "acme", OrgURL: "https://acme.okta.com", AuthKind: store.AuthOAuth, ClientID: "0oa1",
		Credentials: store.Credentials{APIToken: secret.New(storetest.SampleToken), PrivateKeyPEM: secret.New(storetest.SamplePrivateKey)}}
	created, err := s.CreateIntegration(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		raw := dbFiles(t, path)
		if !bytes.Contains(raw, []byte("acme.okta.com")) {
			t.Fatalf("%s: the non-secret org URL is not in the files either; the check reads the wrong files", when)
		}
		for _, plain := range []string{storetest.SampleToken, "MIIEvSAMPLEprivateKEYmaterial"} {
			if bytes.Contains(raw, []byte(plain)) {
				t.Fatalf("%s: plaintext secret %q found in the database files", when, plain)
			}
		}
	}
	check("while open")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check("after close")
	s = openAt(t, path)
	got, err := s.Integration(t.Context(), created.ID)
	if err != nil || got.Credentials.APIToken.Reveal() != storetest.SampleToken {
		t.Fatalf("reading back: %v", err)
	}
	// A sealed secret moved to another row does not open: the ciphertext is bound to its place.
	other, err := s.CreateIntegration(t.Context(), store.Integration{Name: "globex", OrgURL: "https://globex.okta.com",
		AuthKind: store.AuthAPIToken, Credentials: store.Credentials{APIToken: secret.New("other-token")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(`UPDATE integrations SET api_token = (SELECT api_token FROM integrations WHERE id = $1) WHERE id = $2`,
		created.ID, other.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Integration(t.Context(), other.ID); !errors.Is(err, secret.ErrCorrupt) {
		t.Fatalf("swapped ciphertext: %v", err)
	}
}

func TestNoSealer(t *testing.T) {
	s, err := Open(t.Context(), Options{Path: filepath.Join(t.TempDir(), "idwatch.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.CreateIntegration(t.Context(), store.Integration{Name: "a", OrgURL: "https://a.okta.com", AuthKind: store.AuthAPIToken,
		Credentials: store.Credentials{APIToken: secret.New("t")}})
	if err == nil || !strings.Contains(err.Error(), secret.EnvMasterKey) {
		t.Fatalf("storing a secret without a key: %v", err)
	}
	// The journal works without a key.
	if _, err := s.AppendPage(t.Context(), 1, []store.Event{{UUID: "u", Raw: []byte(`{}`)}}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestDiskFull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idwatch.db")
	s := openAt(t, path)
	ctx := t.Context()
	var pages int64
	if err := s.w.QueryRow("PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	// Leave room for a few pages of events only, as a nearly full disk would.
	if _, err := s.w.Exec(fmt.Sprintf("PRAGMA max_page_count = %d", pages+40)); err != nil {
		t.Fatal(err)
	}
	var err error
	var last store.AppendResult
	for p := 0; p < 100 && err == nil; p++ {
		evs := benchPages(1, 50)[0]
		for i := range evs {
			evs[i].UUID = fmt.Sprintf("p%d-%d", p, i)
		}
		var r store.AppendResult
		r, err = s.AppendPage(ctx, 1, evs, &store.Cursor{Next: fmt.Sprint("after-", p)})
		if err == nil {
			last = r
		}
	}
	if err == nil {
		t.Fatal("the journal never filled up")
	}
	msg := err.Error()
	if !strings.Contains(msg, path) || !strings.Contains(msg, "full") || !strings.Contains(msg, "free space") {
		t.Fatalf("disk full error does not name the path and the fix: %v", err)
	}
	// The failed page left nothing behind: the journal ends at the last good page, whose cursor holds.
	if n, _ := s.LastSeq(ctx); n != last.LastSeq {
		t.Fatalf("last seq %d after failed append, want %d", n, last.LastSeq)
	}
	c, cerr := s.Cursor(ctx, 1)
	if cerr != nil || c.Next != fmt.Sprint("after-", last.LastSeq/50-1) {
		t.Fatalf("cursor after failed append: %+v %v", c, cerr)
	}
	// Freeing space (here: raising the limit) lets collection continue.
	if _, err := s.w.Exec("PRAGMA max_page_count = 1000000"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendPage(ctx, 1, []store.Event{{UUID: "after-full", Raw: []byte(`{}`)}}, nil); err != nil {
		t.Fatalf("append after space freed: %v", err)
	}
}

func TestUnusableLocation(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "not-a-dir")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(t.Context(), Options{Path: filepath.Join(file, "idwatch.db")})
	if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "--data-dir") {
		t.Fatalf("database under a file: %v", err)
	}
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("not sqlite "), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Open(t.Context(), Options{Path: garbage})
	if err == nil || !strings.Contains(err.Error(), garbage) || !strings.Contains(err.Error(), "not a healthy idwatch database") {
		t.Fatalf("garbage file: %v", err)
	}
	if _, err := Open(t.Context(), Options{}); err == nil || !strings.Contains(err.Error(), "--data-dir") {
		t.Fatalf("no path: %v", err)
	}
}

func TestReadOnlyDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	path := filepath.Join(dir, "idwatch.db")
	_, err := Open(t.Context(), Options{Path: path})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "writable") {
		t.Fatalf("read-only directory: %v", err)
	}
}

func TestSchemaNewerThanBinary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idwatch.db")
	s := openAt(t, path)
	v, err := s.SchemaVersion(t.Context())
	if err != nil || v < 2 {
		t.Fatalf("schema version %d %v", v, err)
	}
	if _, err := s.w.Exec(`INSERT INTO schema_version (version, name, applied_at) VALUES (99, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(t.Context(), Options{Path: path}); err == nil || !strings.Contains(err.Error(), "newer idwatch") {
		t.Fatalf("future schema: %v", err)
	}
}

func TestMigrationFiles(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"gap":     {"migrations/0001_a.sql": {}, "migrations/0003_c.sql": {}},
		"badname": {"migrations/first.sql": {}},
		"repeat":  {"migrations/0001_a.sql": {}, "migrations/0001_b.sql": {}},
	} {
		if _, err := loadMigrations(fsys); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	ms, err := loadMigrations(migrations)
	if err != nil || len(ms) == 0 {
		t.Fatalf("embedded migrations: %v", err)
	}
}

// TestTwoStoresOneFile models two processes on one data directory: the database lock with
// the busy timeout serializes them, and neither sees SQLITE_BUSY.
func TestTwoStoresOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idwatch.db")
	a, b := openAt(t, path), openAt(t, path)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for i, s := range []*Store{a, b} {
		wg.Go(func() {
			for p := range 20 {
				evs := []store.Event{{UUID: fmt.Sprintf("s%d-p%d", i, p), Raw: []byte(`{}`)}}
				if _, err := s.AppendPage(t.Context(), int64(i+1), evs, &store.Cursor{Next: fmt.Sprint(p)}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n, err := a.CountJournal(t.Context(), store.ReadFilter{}); err != nil || n != 40 {
		t.Fatalf("count %d %v", n, err)
	}
}

func TestFilesOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idwatch.db")
	s := openAt(t, path)
	if _, err := s.AppendPage(t.Context(), 1, []store.Event{{UUID: "u", Raw: []byte(`{"actor":"jane@example.com"}`)}}, nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(p), st.Mode().Perm())
		}
	}
}

// TestTrimInBatches runs trims that take several transactions and checks they add up to what
// one transaction would do.
func TestTrimInBatches(t *testing.T) {
	ctx := t.Context()
	s := openAt(t, filepath.Join(t.TempDir(), "idwatch.db"))
	s.trimBatch = 3
	evs := make([]store.Event, 30)
	for i := range evs {
		evs[i] = store.Event{UUID: fmt.Sprint("e", i), Raw: []byte(`{}`)}
	}
	if _, err := s.AppendPage(ctx, 1, evs, nil); err != nil {
		t.Fatal(err)
	}
	for name, off := range map[string]int64{"slow": 10, "dead": 2, "live": 30} {
		if _, err := s.RegisterConsumer(ctx, name, store.StreamJournal, off); err != nil {
			t.Fatal(err)
		}
	}
	r, err := s.TrimJournal(ctx, 100)
	if err != nil || r.Removed != 2 || r.FirstSeq != 3 || r.Forced {
		t.Fatalf("trim held by dead consumer: %+v %v", r, err)
	}
	if err := s.CommitOffset(ctx, "dead", 20); err != nil {
		t.Fatal(err)
	}
	r, err = s.TrimJournal(ctx, 100)
	if err != nil || r.Removed != 8 || r.FirstSeq != 11 || r.Forced {
		t.Fatalf("trim held by slow consumer: %+v %v", r, err)
	}
	s.cap = 4
	r, err = s.TrimJournal(ctx, 0)
	if err != nil || r.Removed != 16 || r.FirstSeq != 27 || !r.Forced || !slices.Equal(r.Overrun, []string{"dead", "slow"}) {
		t.Fatalf("capped trim in batches: %+v %v", r, err)
	}
}

func TestOpenDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	t.Setenv(secret.EnvMasterKey, "")
	s, err := OpenDataDir(t.Context(), dir, Options{Keys: KeyStore})
	if err != nil {
		t.Fatal(err)
	}
	in, err := s.CreateIntegration(t.Context(), store.Integration{Name: "a", OrgURL: "https://a.okta.com",
		AuthKind: store.AuthAPIToken, Credentials: store.Credentials{APIToken: secret.New("tok")}})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, name := range []string{FileName, secret.KeyFileName} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	s, err = OpenDataDir(t.Context(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Integration(t.Context(), in.ID)
	if err != nil || got.Credentials.APIToken.Reveal() != "tok" {
		t.Fatalf("secret after reopening the data dir: %v", err)
	}
	if _, err := OpenDataDir(t.Context(), "", Options{}); err == nil {
		t.Fatal("empty data dir accepted")
	}
}

func TestOptions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "idwatch.db")
	s, err := Open(t.Context(), Options{Path: path, SyncFull: true, ReadConns: 2, BusyTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for pragma, want := range map[string]string{"synchronous": "2", "journal_mode": "wal", "page_size": "16384", "busy_timeout": "1000"} {
		var got string
		if err := s.w.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil || got != want {
			t.Errorf("PRAGMA %s = %q (%v), want %q", pragma, got, err, want)
		}
	}
	if got := s.r.Stats().MaxOpenConnections; got != 2 {
		t.Errorf("read pool of %d, want 2", got)
	}
	// The read pool cannot write, even by mistake.
	_, err = s.r.Exec(`DELETE FROM journal`)
	if err == nil {
		t.Fatal("read pool accepted a write")
	}
	// A refused write explains itself the way a read-only file or directory would.
	if msg := s.wrap("append page", err).Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "writable") {
		t.Errorf("read-only error: %s", msg)
	}
	for name, o := range map[string]Options{
		"negative cap":  {Path: path, MaxJournalEntries: -1},
		"negative pool": {Path: path, ReadConns: -1},
		"uri path":      {Path: path + "?mode=ro"},
	} {
		if err := o.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestTrimAlertsAndDeadLettersInBatches(t *testing.T) {
	ctx := t.Context()
	s := openAt(t, filepath.Join(t.TempDir(), "idwatch.db"))
	s.trimBatch = 3
	var as []store.Alert
	for i := range 10 {
		as = append(as, store.Alert{ID: fmt.Sprint("a", i), RuleID: "r", Severity: "low", Time: time.Now(), IntegrationID: 1, Body: []byte(`{}`)})
		if err := s.AddDeadLetter(ctx, store.DeadLetter{Sink: "s", RecordID: fmt.Sprint("d", i), Payload: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AppendAlerts(ctx, as); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RegisterConsumer(ctx, "sink", store.StreamAlerts, 7); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour)
	if r, err := s.TrimAlerts(ctx, future); err != nil || r.Removed != 7 || r.Waiting != 3 {
		t.Fatalf("alerts trimmed in batches of 3: %+v %v; want 7 removed, 3 waiting", r, err)
	}
	if n, err := s.TrimDeadLetters(ctx, future); err != nil || n != 10 {
		t.Fatalf("dead letters trimmed in batches of 3: %d %v", n, err)
	}
}

// TestRetentionTrimsUseIndexes checks that the alert and dead-letter trims search their time
// index instead of scanning the table.
func TestRetentionTrimsUseIndexes(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "idwatch.db"))
	for q, index := range map[string]string{
		`SELECT seq FROM alerts WHERE stored_at < 5 AND seq <= 7 LIMIT 3`:                  "alerts_stored_at",
		`SELECT id FROM dead_letters WHERE last_failure < 5 AND leased_until <= 6 LIMIT 3`: "dead_letters_last_failure",
	} {
		rows, err := s.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notUsed int
			var detail string
			if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if !strings.Contains(strings.Join(plan, "; "), index) {
			t.Errorf("%s: plan %q does not use %s", q, plan, index)
		}
	}
}

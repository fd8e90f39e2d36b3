package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// simOrg is an oktasim org on 127.0.0.1 with a read-only API token for idwatch.
type simOrg struct {
	srv     *oktasim.Server
	url     string
	token   string
	tokenID string
}

func startSimOrg(t testing.TB, cfg oktasim.Config) *simOrg {
	t.Helper()
	limits := oktasim.DefaultRateLimits()
	limits.Disabled = true
	cfg.RateLimits = limits
	srv, err := oktasim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	info, tok := srv.Tokens().Add(oktasim.APIToken{Name: "idwatch", AdminID: "00uadmin", Roles: []oktasim.Role{oktasim.RoleReadOnlyAdmin}})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &simOrg{srv: srv, url: ts.URL, token: tok, tokenID: info.ID}
}

// simEventID is the uuid of the i-th test event.
func simEventID(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

// appendSimEvents adds events from..to-1, published in order within the last hour before now.
func (o *simOrg) appendSimEvents(t testing.TB, from, to int, now time.Time, delay func(i int) time.Duration) {
	t.Helper()
	for i := from; i < to; i++ {
		raw := fmt.Sprintf(`{"uuid":%q,"published":%q,"eventType":"user.session.start","version":"0","severity":"INFO"}`,
			simEventID(i), now.Add(-50*time.Minute+time.Duration(i)*time.Millisecond).UTC().Format(time.RFC3339Nano))
		var d time.Duration
		if delay != nil {
			d = delay(i)
		}
		if _, err := o.srv.AppendRaw([]byte(raw), d); err != nil {
			t.Fatal(err)
		}
	}
}

// logRequests counts the System Log requests oktasim served after request seq after.
func (o *simOrg) logRequests(after uint64) int {
	n := 0
	for _, r := range o.srv.RequestLog(after) {
		if strings.HasPrefix(r.Path, "/api/v1/logs") {
			n++
		}
	}
	return n
}

func (o *simOrg) lastRequest() uint64 {
	rs := o.srv.RequestLog(0)
	if len(rs) == 0 {
		return 0
	}
	return rs[len(rs)-1].Seq
}

// addIntegration registers the org in a new data directory and returns its --data-dir flag.
func (o *simOrg) addIntegration(t *testing.T, dir string) string {
	t.Helper()
	tokFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokFile, []byte(o.token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dd := "--data-dir=" + filepath.Join(dir, "data")
	code, out, errOut := runCLI(t, "", "integrations", "add", dd, "--name", "acme", "--org-url", o.url, "--api-token-file", tokFile)
	if code != 0 {
		t.Fatalf("integrations add: %d\n%s\n%s", code, out, errOut)
	}
	return dd
}

// fileSinkIDs returns the uuid of every line (a raw Okta event) in the file sink's output at path.
func fileSinkIDs(t testing.TB, paths ...string) []string {
	t.Helper()
	var ids []string
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var rec struct {
				UUID string `json:"uuid"`
			}
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				t.Fatalf("%s: %v: %s", p, err, sc.Bytes())
			}
			ids = append(ids, rec.UUID)
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// checkEachOnce asserts ids hold events 0..n-1 exactly once each.
func checkEachOnce(t testing.TB, what string, ids []string, n int) {
	t.Helper()
	count := map[string]int{}
	for _, id := range ids {
		count[id]++
	}
	for i := range n {
		if c := count[simEventID(i)]; c != 1 {
			t.Fatalf("%s: event %d delivered %d times", what, i, c)
		}
	}
	if len(ids) != n {
		t.Fatalf("%s: %d records for %d events", what, len(ids), n)
	}
}

// TestServeExtraSinkCostsNoRequests runs serve --once with two and then three file sinks against
// the same oktasim traffic (a first batch, then more events arriving) and checks that Okta saw the
// same number of System Log requests, while every sink received every event exactly once.
func TestServeExtraSinkCostsNoRequests(t *testing.T) {
	const first, events = 500, 1234
	now := time.Now()
	requests := map[int]int{}
	for _, sinks := range []int{2, 3} {
		org := startSimOrg(t, oktasim.Config{})
		org.appendSimEvents(t, 0, first, now, nil)
		dir := t.TempDir()
		dd := org.addIntegration(t, dir)
		var b strings.Builder
		b.WriteString("collect: {page_limit: 100}\nprocess: {enabled: false}\nsinks:\n")
		for s := range sinks {
			fmt.Fprintf(&b, "  - {name: f%d, type: file, path: %s, no_sync: true}\n", s, filepath.Join(dir, fmt.Sprintf("f%d.jsonl", s)))
		}
		cfgPath := filepath.Join(dir, "idwatch.yml")
		if err := os.WriteFile(cfgPath, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		before := org.lastRequest()
		for round, upTo := range []int{first, events} {
			org.appendSimEvents(t, min(first, upTo), upTo, now, nil)
			code, out, errOut := runCLI(t, "", "serve", dd, "--config", cfgPath, "--once")
			if code != 0 {
				t.Fatalf("serve --once with %d sinks, round %d: %d\n%s\n%s", sinks, round, code, out, errOut)
			}
		}
		requests[sinks] = org.logRequests(before)
		for s := range sinks {
			checkEachOnce(t, fmt.Sprintf("%d sinks, sink f%d", sinks, s), fileSinkIDs(t, filepath.Join(dir, fmt.Sprintf("f%d.jsonl", s))), events)
		}
	}
	if requests[2] < events/100 || requests[2] != requests[3] {
		t.Fatalf("System Log requests: %d with 2 sinks, %d with 3", requests[2], requests[3])
	}
	t.Logf("System Log requests for %d events in two rounds: %d with 2 sinks, %d with 3", events, requests[2], requests[3])
}

// TestServeStopsCleanly runs serve until its sinks hold every event, then cancels it as SIGTERM
// would, and expects a clean exit.
func TestServeStopsCleanly(t *testing.T) {
	org := startSimOrg(t, oktasim.Config{})
	org.appendSimEvents(t, 0, 300, time.Now(), nil)
	dir := t.TempDir()
	dd := org.addIntegration(t, dir)
	out := filepath.Join(dir, "events.jsonl")
	cfgPath := filepath.Join(dir, "idwatch.yml")
	cfg := fmt.Sprintf("server: {listen: 127.0.0.1:0}\ncollect: {poll_interval: 50ms}\nsinks:\n  - {name: f, type: file, path: %s, batch: {max_wait: 10ms}}\n", out)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var outb, errb bytes.Buffer
	io := stdio{in: strings.NewReader(""), out: &outb, err: &errb, log: slog.New(slog.NewTextHandler(&errb, nil))}
	exited := make(chan int, 1)
	go func() { exited <- run(ctx, io, []string{"serve", dd, "--config", cfgPath}) }()
	waitUntil(t, "every event in the file sink", func() bool {
		select {
		case code := <-exited:
			t.Fatalf("serve exited by itself with %d:\n%s", code, errb.String())
		default:
		}
		b, _ := os.ReadFile(out)
		return bytes.Count(b, []byte("\n")) == 300
	})
	cancel()
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("serve exited %d after cancel:\n%s", code, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop after cancel")
	}
	checkEachOnce(t, "file", fileSinkIDs(t, out), 300)
}

// TestServeAppliesRetention runs serve --once with a journal cap below what it collects: every
// event reaches the sink first, then the journal keeps only the newest entries the cap allows.
func TestServeAppliesRetention(t *testing.T) {
	org := startSimOrg(t, oktasim.Config{})
	org.appendSimEvents(t, 0, 300, time.Now(), nil)
	dir := t.TempDir()
	dd := org.addIntegration(t, dir)
	out := filepath.Join(dir, "events.jsonl")
	cfgPath := filepath.Join(dir, "idwatch.yml")
	cfg := fmt.Sprintf("storage: {journal_max_entries: 100}\nprocess: {enabled: false}\nsinks:\n  - {name: f, type: file, path: %s, no_sync: true}\n", out)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stdout, errOut := runCLI(t, "", "serve", dd, "--config", cfgPath, "--once"); code != 0 {
		t.Fatalf("serve --once: %d\n%s\n%s", code, stdout, errOut)
	}
	checkEachOnce(t, "file", fileSinkIDs(t, out), 300)
	st, err := sqlite.OpenDataDir(t.Context(), filepath.Join(dir, "data"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b, err := st.Bounds(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if b.Count != 100 || b.LastSeq != 300 {
		t.Fatalf("journal after retention: %+v; want the newest 100 of 300", b)
	}
}

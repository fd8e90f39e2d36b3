package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// TestEventsExportSort exports a journal that received its events out of order: by seq (as
// received) and by published time (ties by uuid), within --since/--until bounds.
func TestEventsExportSort(t *testing.T) {
	dir := t.TempDir()
	st, err := sqlite.OpenDataDir(context.Background(), dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 9, 8, 0, 0, 0, time.UTC)
	ev := func(uuid string, at time.Time) store.Event {
		raw := fmt.Sprintf(`{"uuid":%q,"eventType":"user.session.start"}`, uuid)
		if !at.IsZero() {
			raw = fmt.Sprintf(`{"uuid":%q,"published":%q,"eventType":"user.session.start"}`, uuid, at.Format(time.RFC3339Nano))
		}
		return store.Event{UUID: uuid, Published: at, EventType: "user.session.start", Raw: []byte(raw)}
	}
	for _, page := range [][]store.Event{
		{ev("c", t0.Add(2*time.Hour))},                     // live collection first
		{ev("b", t0), ev("a", t0)},                         // then a backfill of the hours before
		{ev("d", t0.Add(time.Hour)), ev("z", time.Time{})}, // z has no readable time
	} {
		if _, err := st.AppendPage(context.Background(), 1, page, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	dd := "--data-dir=" + dir
	uuids := func(out string) string {
		var ids []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var e struct{ UUID string }
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			ids = append(ids, e.UUID)
		}
		return strings.Join(ids, ",")
	}
	since, until := t0.Add(30*time.Minute).Format(time.RFC3339), t0.Add(2*time.Hour).Format(time.RFC3339)
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "c,b,a,d,z"},
		{[]string{"--sort", "published"}, "a,b,d,c,z"},
		{[]string{"--sort", "published", "--since", since}, "d,c"},
		{[]string{"--sort", "published", "--until", until}, "a,b,d"},
		{[]string{"--since", since, "--until", until}, "d"},
		{[]string{"--sort", "published", "--since", since, "--until", until}, "d"},
	} {
		code, out, errOut := runCLI(t, "", append([]string{"events", "export", dd}, c.args...)...)
		if code != 0 || uuids(out) != c.want {
			t.Errorf("export %v: code %d, events %s, want %s\n%s", c.args, code, uuids(out), c.want, errOut)
		}
	}
	for _, bad := range [][]string{{"--sort", "time"}, {"--since", until, "--until", since}} {
		if code, _, errOut := runCLI(t, "", append([]string{"events", "export", dd}, bad...)...); code != 2 || errOut == "" {
			t.Errorf("export %v: code %d, stderr %q", bad, code, errOut)
		}
	}
}

// TestEventsExportOCSFSkipsUndecodable: an entry that is not an Okta event is named on stderr
// with its seq and uuid and skipped; the entries after it are still exported, and the exit
// status is 1 with the number skipped.
func TestEventsExportOCSFSkipsUndecodable(t *testing.T) {
	dir := t.TempDir()
	st, err := sqlite.OpenDataDir(context.Background(), dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 9, 8, 0, 0, 0, time.UTC)
	ev := func(uuid, raw string, at time.Time) store.Event {
		return store.Event{UUID: uuid, Published: at, EventType: "user.session.start", Raw: []byte(raw)}
	}
	page := []store.Event{
		ev("a", `{"uuid":"a","published":"2026-03-09T08:00:00Z","eventType":"user.session.start"}`, t0),
		ev("bad", `{"note":"not an Okta event"}`, t0.Add(time.Minute)),
		ev("c", `{"uuid":"c","published":"2026-03-09T08:02:00Z","eventType":"user.session.start"}`, t0.Add(2*time.Minute)),
	}
	if _, err := st.AppendPage(context.Background(), 1, page, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	for _, sortBy := range []string{"seq", "published"} {
		code, out, errOut := runCLI(t, "", "events", "export", "--data-dir="+dir, "--format", "ocsf", "--sort", sortBy)
		var uids []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var r struct {
				Metadata struct{ UID string } `json:"metadata"`
			}
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("--sort %s: line %q: %v", sortBy, l, err)
			}
			uids = append(uids, r.Metadata.UID)
		}
		if code != 1 || strings.Join(uids, ",") != "a,c" {
			t.Errorf("--sort %s: exit %d, records of %v, want exit 1 and the records of a and c", sortBy, code, uids)
		}
		for _, want := range []string{`skipped journal entry seq 2 (event "bad"): it does not decode: not an Okta System Log event`,
			"1 of 3 journal entries were skipped"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("--sort %s: stderr lacks %q:\n%s", sortBy, want, errOut)
			}
		}
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// searchFixture stores a few events of two users in a fresh data directory and returns its
// --data-dir flag.
func searchFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.OpenDataDir(context.Background(), dir, sqlite.Options{Keys: sqlite.KeyStore})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.CreateIntegration(context.Background(), store.Integration{Name: "acme", OrgURL: "https://acme.okta.com", AuthKind: store.AuthAPIToken,
		Enabled: true, Credentials: store.Credentials{APIToken: secret.New("secret-token")}}); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 3, 12, 9, 0, 0, 0, time.UTC)
	mk := func(i int, typ, login, ip, result string) store.Event {
		uuid := fmt.Sprintf("ev-%d", i)
		at := base.Add(time.Duration(i) * time.Minute)
		raw := fmt.Sprintf(`{"uuid":%q,"published":%q,"eventType":%q,"version":"0","severity":"INFO","displayMessage":"Sign-in %d",`+
			`"actor":{"id":"00u%s","type":"User","alternateId":%q,"displayName":"X"},"client":{"ipAddress":%q},"outcome":{"result":%q},`+
			`"target":[{"id":"0oaapp","type":"AppInstance","alternateId":"Salesforce"}]}`,
			uuid, at.Format(time.RFC3339Nano), typ, i, login[:3], login, ip, result)
		return store.Event{UUID: uuid, Published: at, EventType: typ, Raw: []byte(raw)}
	}
	evs := []store.Event{
		mk(0, "user.session.start", "alice@acme.example", "192.0.2.1", "SUCCESS"),
		mk(1, "user.authentication.auth_via_mfa", "alice@acme.example", "192.0.2.1", "FAILURE"),
		mk(2, "user.session.start", "bob@acme.example", "198.51.100.7", "FAILURE"),
		mk(3, "system.api_token.create", "alice@acme.example", "192.0.2.1", "SUCCESS"),
		mk(4, "user.session.end", "alice@acme.example", "192.0.2.1", "SUCCESS"),
	}
	if _, err := st.AppendPage(context.Background(), 1, evs, nil); err != nil {
		t.Fatal(err)
	}
	return "--data-dir=" + dir
}

// uuidsOf reads the uuids of an events search --json page.
func uuidsOf(t *testing.T, out string) ([]string, string) {
	t.Helper()
	var page struct {
		Events []struct {
			UUID string `json:"uuid"`
		} `json:"events"`
		Next string `json:"next"`
	}
	if err := json.Unmarshal([]byte(out), &page); err != nil {
		t.Fatalf("not a page: %v\n%s", err, out)
	}
	var ids []string
	for _, e := range page.Events {
		ids = append(ids, e.UUID)
	}
	return ids, page.Next
}

func TestEventsSearch(t *testing.T) {
	dd := searchFixture(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "ev-4 ev-3 ev-2 ev-1 ev-0"},
		{[]string{"--order", "oldest"}, "ev-0 ev-1 ev-2 ev-3 ev-4"},
		{[]string{"--actor", "ALICE@acme.example", "--outcome", "failure"}, "ev-1"},
		{[]string{"--type", "user.session.*"}, "ev-4 ev-2 ev-0"},
		{[]string{"--type", "user.session.start,system.api_token.create"}, "ev-3 ev-2 ev-0"},
		{[]string{"--ip", "198.51.100.7"}, "ev-2"},
		{[]string{"--target", "Salesforce", "--since", "2026-03-12T09:03:00Z"}, "ev-4 ev-3"},
		{[]string{"--until", "2026-03-12T09:01:00Z"}, "ev-0"},
		{[]string{"--schema", "cloudaudit"}, "ev-3"},
		{[]string{"--schema", "auth", "--type", "user.session.*", "--actor", "alice@acme.example"}, "ev-4 ev-0"},
		{[]string{"--query", "sign-in 2"}, "ev-2"},
		{[]string{"--integration", "acme", "--actor", "nobody"}, ""},
	} {
		args := append([]string{"events", "search", dd, "--json"}, c.args...)
		code, out, errOut := runCLI(t, "", args...)
		if code != 0 {
			t.Fatalf("%v: code %d %s", c.args, code, errOut)
		}
		if ids, _ := uuidsOf(t, out); strings.Join(ids, " ") != c.want {
			t.Errorf("%v: got %v, want %s", c.args, ids, c.want)
		}
	}

	// Pages: the cursor continues the same query, two at a time, every event once.
	var all []string
	cursor := ""
	for i := 0; i < 5; i++ {
		args := []string{"events", "search", dd, "--json", "--limit", "2", "--order", "oldest"}
		if cursor != "" {
			args = append(args, "--cursor", cursor)
		}
		code, out, errOut := runCLI(t, "", args...)
		if code != 0 {
			t.Fatalf("page %d: %s", i, errOut)
		}
		ids, next := uuidsOf(t, out)
		all = append(all, ids...)
		if cursor = next; cursor == "" {
			break
		}
	}
	if strings.Join(all, " ") != "ev-0 ev-1 ev-2 ev-3 ev-4" {
		t.Fatalf("paged: %v", all)
	}

	// The table names what an analyst looks at, and says how to get the next page.
	code, out, errOut := runCLI(t, "", "events", "search", dd, "--actor", "bob@acme.example", "--limit", "1")
	if code != 0 || !strings.Contains(out, "user.session.start") || !strings.Contains(out, "FAILURE") || !strings.Contains(out, "198.51.100.7") ||
		!strings.Contains(out, "Salesforce") || !strings.Contains(out, "acme") || strings.Contains(errOut, "next page") {
		t.Fatalf("table: code %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = runCLI(t, "", "events", "search", dd, "--limit", "1")
	if code != 0 || !strings.Contains(errOut, "next page: --cursor ") {
		t.Fatalf("next page hint: %s", errOut)
	}
	// OCSF: the event's records, one per line.
	code, out, _ = runCLI(t, "", "events", "search", dd, "--format", "ocsf", "--type", "system.api_token.create")
	var rec map[string]any
	if code != 0 || json.Unmarshal([]byte(strings.Split(out, "\n")[0]), &rec) != nil || rec["class_uid"] == nil {
		t.Fatalf("ocsf: %q", out)
	}

	// Bad input: usage errors that name the fix.
	code, out, _ = runCLI(t, "", "events", "search", dd, "--json", "--limit", "1")
	_, next := uuidsOf(t, out)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--cursor", "garbage!"}, "cursor"},
		{[]string{"--cursor", next, "--actor", "alice@acme.example"}, "different query"},
		{[]string{"--order", "sideways"}, "--order"},
		{[]string{"--format", "csv"}, "--format"},
		{[]string{"--limit", "0"}, "--limit"},
		{[]string{"--type", "user.*.start"}, "trailing .*"},
		{[]string{"--schema", "audit"}, "auth, cloudaudit, generic"},
		{[]string{"--since", "2026-03-13T00:00:00Z", "--until", "2026-03-12T00:00:00Z"}, "not after"},
		{[]string{"--integration", "nope"}, "nope"},
	} {
		code, _, errOut := runCLI(t, "", append([]string{"events", "search", dd}, c.args...)...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: code %d, stderr %q (want %q)", c.args, code, errOut, c.want)
		}
	}
}

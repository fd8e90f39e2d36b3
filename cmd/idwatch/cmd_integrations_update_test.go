package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// keyTestOrg is an oktasim org on loopback with API tokens written to files.
type keyTestOrg struct {
	srv *oktasim.Server
	url string
	dir string
}

func newKeyTestOrg(t *testing.T) *keyTestOrg {
	t.Helper()
	t.Setenv(secret.EnvMasterKey, "")
	limits := oktasim.DefaultRateLimits()
	limits.Disabled = true
	srv, err := oktasim.New(oktasim.Config{RateLimits: limits})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &keyTestOrg{srv: srv, url: ts.URL, dir: t.TempDir()}
}

// tokenFile adds a read-only admin token to the org and returns the file holding it.
func (o *keyTestOrg) tokenFile(t *testing.T, name string) string {
	t.Helper()
	_, tok := o.srv.Tokens().Add(oktasim.APIToken{Name: name, AdminID: "00uadmin", Roles: []oktasim.Role{oktasim.RoleReadOnlyAdmin}})
	path := filepath.Join(o.dir, name)
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// events appends n session events published in the last hours, numbered from first.
func (o *keyTestOrg) events(t *testing.T, first, n int) {
	t.Helper()
	now := time.Now()
	for i := first; i < first+n; i++ {
		raw := fmt.Sprintf(`{"uuid":"00000000-0000-4000-8000-%012d","published":%q,"eventType":"user.session.start","version":"0","severity":"INFO"}`,
			i, now.Add(-time.Duration(200-i)*time.Minute).UTC().Format(time.RFC3339Nano))
		if _, err := o.srv.AppendRaw([]byte(raw), 0); err != nil {
			t.Fatal(err)
		}
	}
}

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := runCLI(t, "", args...)
	if code != 0 {
		t.Fatalf("idwatch %s: exit %d\n%s\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// listed returns integrations list --json by name.
func listed(t *testing.T, dd string) map[string]integrationRow {
	t.Helper()
	var rows []integrationRow
	if err := json.Unmarshal([]byte(mustCLI(t, "integrations", "list", dd, "--json")), &rows); err != nil {
		t.Fatal(err)
	}
	out := map[string]integrationRow{}
	for _, r := range rows {
		out[r.Name] = r
	}
	return out
}

// TestLostMasterKeyRecovery deletes master.key under two working integrations: collection
// refuses and names the fix instead of making a new key; listing, disabling and removing still
// work; integrations update gives one new credentials (refusing bad ones) and keeps its id and
// cursor, after which it collects while the other stays marked unreadable.
func TestLostMasterKeyRecovery(t *testing.T) {
	org := newKeyTestOrg(t)
	org.events(t, 0, 20)
	tok := org.tokenFile(t, "first")
	dataDir := filepath.Join(t.TempDir(), "data")
	dd := "--data-dir=" + dataDir
	mustCLI(t, "integrations", "add", dd, "--name", "acme", "--org-url", org.url, "--api-token-file", tok)
	mustCLI(t, "integrations", "add", dd, "--name", "globex", "--org-url", org.url, "--api-token-file", tok, "--allow-duplicate")
	mustCLI(t, "collect", dd, "--once")
	before := listed(t, dd)
	cursor := func() store.Cursor {
		st, err := sqlite.OpenDataDir(t.Context(), dataDir, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		c, err := st.Cursor(t.Context(), before["acme"].ID)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	cursorBefore := cursor()

	keyPath := filepath.Join(dataDir, secret.KeyFileName)
	if err := os.Remove(keyPath); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "", "collect", dd, "--once")
	if code != 1 || !strings.Contains(errOut, "integrations update NAME") || !strings.Contains(errOut, "Restore that key") {
		t.Fatalf("collect without the key: exit %d\n%s", code, errOut)
	}
	if _, err := os.Stat(keyPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("collect created a new master key while credentials sealed under the old one are stored")
	}
	code, out, errOut := runCLI(t, "", "integrations", "list", dd)
	if code != 0 || strings.Count(out, "credentials unreadable: sealed under master key") != 2 || !strings.Contains(out, "fix: restore the master key") {
		t.Fatalf("list without the key: exit %d\n%s\n%s", code, out, errOut)
	}

	// New credentials that do not work are refused and change nothing.
	bad := filepath.Join(org.dir, "bad")
	if err := os.WriteFile(bad, []byte("00notAToken"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCLI(t, "", "integrations", "update", "acme", dd, "--api-token-file", bad)
	if code != 1 || !strings.Contains(out, "credentials not changed") {
		t.Fatalf("update with a bad token: exit %d\n%s", code, out)
	}
	if listed(t, dd)["acme"].CredentialsError == "" {
		t.Fatal("a refused update changed the credentials")
	}
	if _, err := os.Stat(keyPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a refused update created a new master key")
	}

	out = mustCLI(t, "integrations", "update", "acme", dd, "--api-token-file", org.tokenFile(t, "second"))
	if !strings.Contains(out, "credentials replaced") {
		t.Fatalf("update: %s", out)
	}
	after := listed(t, dd)
	if after["acme"].ID != before["acme"].ID || after["acme"].CredentialsError != "" || !after["acme"].Enabled {
		t.Fatalf("acme after update: %+v", after["acme"])
	}
	if after["globex"].CredentialsError == "" {
		t.Fatal("globex became readable without its key")
	}
	if c := cursor(); c.Next != cursorBefore.Next || !c.LastPublished.Equal(cursorBefore.LastPublished) {
		t.Fatalf("update moved the cursor: %+v, was %+v", c, cursorBefore)
	}

	// acme collects new events; globex, still enabled, is reported and fails the run.
	org.events(t, 20, 5)
	code, out, errOut = runCLI(t, "", "collect", dd, "--once")
	if code != 1 || !strings.Contains(out, "globex") || !strings.Contains(out, "credentials unreadable") || !strings.Contains(errOut, "globex") {
		t.Fatalf("collect with globex unreadable: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := listed(t, dd)["acme"].Health; got == nil || got.EventsCollected != before["acme"].Health.EventsCollected+5 {
		t.Fatalf("acme did not collect the 5 new events: %+v (was %+v)", got, before["acme"].Health)
	}
	mustCLI(t, "integrations", "disable", "globex", dd)
	mustCLI(t, "collect", dd, "--once")
	code, _, errOut = runCLI(t, "", "integrations", "enable", "globex", dd)
	if code != 1 || !strings.Contains(errOut, "integrations update globex") {
		t.Fatalf("enable with unreadable credentials: exit %d\n%s", code, errOut)
	}
	mustCLI(t, "integrations", "enable", "globex", dd, "--no-verify")
	if r := listed(t, dd)["globex"]; !r.Enabled {
		t.Fatal("enable --no-verify did not enable globex")
	}
	mustCLI(t, "integrations", "remove", "globex", dd)
	if _, ok := listed(t, dd)["globex"]; ok {
		t.Fatal("globex not removed")
	}
}

// TestWrongEnvMasterKeyRefused: a wrong IDWATCH_MASTER_KEY stops collection with the fix, and
// listing still works.
func TestWrongEnvMasterKeyRefused(t *testing.T) {
	t.Setenv(secret.EnvMasterKey, "")
	dd := "--data-dir=" + filepath.Join(t.TempDir(), "data")
	mustCLI(t, "integrations", "add", dd, "--name", "acme", "--org-url", "https://acme.okta.com", "--api-token", "x", "--no-verify")
	t.Setenv(secret.EnvMasterKey, base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, secret.KeySize)))
	code, _, errOut := runCLI(t, "", "collect", dd, "--once")
	if code != 1 || !strings.Contains(errOut, "the master key from IDWATCH_MASTER_KEY") || !strings.Contains(errOut, "opens none of them") {
		t.Fatalf("collect with a wrong key: exit %d\n%s", code, errOut)
	}
	if r := listed(t, dd)["acme"]; !strings.Contains(r.CredentialsError, "which is not loaded") {
		t.Fatalf("list with a wrong key: %+v", r)
	}
}

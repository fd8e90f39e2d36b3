package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/hooks"
	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// TestHooksRegister: a read-only token gets the admin console steps and a stored secret; a
// token allowed to manage event hooks creates the hook in Okta, which verifies it against the
// running receiver; list shows it; remove deletes it in Okta and in idwatch.
func TestHooksRegister(t *testing.T) {
	org := newKeyTestOrg(t)
	data := filepath.Join(t.TempDir(), "data")
	dd := "--data-dir=" + data
	mustCLI(t, "integrations", "add", dd, "--name", "acme", "--org-url", org.url, "--api-token-file", org.tokenFile(t, "ro"))

	st, err := sqlite.OpenDataDir(context.Background(), data, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	recv, err := hooks.NewReceiver(hooks.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	rs := httptest.NewServer(recv)
	t.Cleanup(rs.Close)
	hookURL := rs.URL + hooks.PathPrefix + "acme"

	if code, _, errOut := runCLI(t, "", "hooks", "register", dd, "--integration", "acme", "--url", "http://example.com/hooks/okta/acme"); code != 2 || !strings.Contains(errOut, "must use https") {
		t.Fatalf("plain http to a public host: exit %d, %s", code, errOut)
	}
	out := mustCLI(t, "hooks", "register", dd, "--integration", "acme", "--url", hookURL)
	if !strings.Contains(out, "Workflow > Event Hooks") || !strings.Contains(out, "user.session.start") || strings.Contains(out, "policy.evaluate_sign_on") {
		t.Fatalf("manual steps:\n%s", out)
	}

	_, super := org.srv.Tokens().Add(oktasim.APIToken{Name: "super", AdminID: "00usuper", Roles: []oktasim.Role{oktasim.RoleSuperAdmin}})
	mustCLI(t, "integrations", "update", "acme", dd, "--api-token", super)
	out = mustCLI(t, "hooks", "register", dd, "--integration", "acme", "--url", hookURL)
	if !strings.Contains(out, "active verified") {
		t.Fatalf("register with manage rights:\n%s", out)
	}
	list := org.srv.EventHooks().List()
	if len(list) != 1 || list[0].VerificationStatus != "VERIFIED" || !strings.HasSuffix(list[0].Channel.Config.URI, "/hooks/okta/acme") {
		t.Fatalf("hooks in Okta: %+v", list)
	}
	var rows []hookHealth
	if err := json.Unmarshal([]byte(mustCLI(t, "hooks", "list", dd, "--json")), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].OktaHookID != list[0].ID || rows[0].Integration != "acme" || strings.Contains(mustCLI(t, "hooks", "list", dd, "--json"), "secret\":") {
		t.Fatalf("hooks list: %+v", rows)
	}
	if show := mustCLI(t, "integrations", "show", "acme", dd); !strings.Contains(show, "event hook:") || !strings.Contains(show, list[0].ID) {
		t.Fatalf("integrations show:\n%s", show)
	}
	mustCLI(t, "hooks", "remove", "acme", dd)
	if n := len(org.srv.EventHooks().List()); n != 0 {
		t.Fatalf("%d hooks left in Okta", n)
	}
	if out := mustCLI(t, "hooks", "list", dd); strings.Contains(out, "acme") {
		t.Fatalf("removed hook listed:\n%s", out)
	}
}

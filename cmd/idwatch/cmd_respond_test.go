package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/oktasim"
)

// TestRespondCommands drives respond's dry run, an action, list, show, and the refusals against
// an oktasim org on 127.0.0.1.
func TestRespondCommands(t *testing.T) {
	limits := oktasim.DefaultRateLimits()
	limits.Disabled = true
	srv, err := oktasim.New(oktasim.Config{RateLimits: limits})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := srv.SetUsers([]oktasim.User{{ID: "00ujdoe0000000000001", Status: oktasim.StatusActive, Created: now.Add(-time.Hour), ProviderType: "OKTA",
		Profile: map[string]any{"login": "jdoe@acme.example", "email": "jdoe@acme.example", "firstName": "J", "lastName": "Doe"}}}); err != nil {
		t.Fatal(err)
	}
	_, _, tok, err := srv.AddAdmin(oktasim.User{AdminRoles: []oktasim.Role{oktasim.RoleReadOnlyAdmin},
		Permissions: []oktasim.Permission{oktasim.PermUsersManage, oktasim.PermSessionsManage}}, "idwatch")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokFile, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dd := "--data-dir=" + filepath.Join(dir, "data")
	if code, out, errOut := runCLI(t, "", "integrations", "add", dd, "--name", "acme", "--org-url", ts.URL, "--api-token-file", tokFile, "--features", "response"); code != 0 {
		t.Fatalf("add: %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut := runCLI(t, "", "respond", "suspend", dd, "--integration", "acme", "--user", "jdoe@acme.example", "--dry-run")
	if code != 0 || !strings.Contains(out, "would    POST /api/v1/users/00ujdoe0000000000001/lifecycle/suspend") || !strings.Contains(out, "checked  GET /api/v1/users/jdoe@acme.example") {
		t.Fatalf("dry run: %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "", "respond", "suspend", dd, "--integration", "acme", "--user", "jdoe@acme.example", "--reason", "INC-1")
	if code != 0 || !strings.Contains(out, "executed") || !strings.Contains(out, "verified: user 00ujdoe0000000000001 is SUSPENDED") {
		t.Fatalf("suspend: %d\n%s\n%s", code, out, errOut)
	}
	id := regexp.MustCompile(`ra[0-9a-f]{18}`).FindString(out)
	code, out, _ = runCLI(t, "", "respond", "list", dd)
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "suspend") {
		t.Fatalf("list: %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "", "respond", "show", id, dd)
	if code != 0 || !strings.Contains(out, "POST /api/v1/users/00ujdoe0000000000001/lifecycle/suspend") || !strings.Contains(out, "200") || !strings.Contains(out, "INC-1") || strings.Contains(out, tok) {
		t.Fatalf("show: %d\n%s", code, out)
	}
	// The connector's own account is refused: exit 1 naming the guard rail.
	code, out, errOut = runCLI(t, "", "respond", "clear-sessions", dd, "--integration", "acme", "--user", srv.Users()[1].ID)
	if code != 1 || !strings.Contains(out, "refused") || !strings.Contains(errOut, "refused") {
		t.Fatalf("own account: %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut = runCLI(t, "", "respond", "deactivate", dd, "--integration", "acme", "--user", "jdoe@acme.example"); code != 2 || !strings.Contains(errOut, "--confirm") {
		t.Fatalf("unconfirmed deactivate: %d %s", code, errOut)
	}
	if code, _, errOut = runCLI(t, "", "respond", "approve", id, dd); code != 1 || !strings.Contains(errOut, "only pending actions") {
		t.Fatalf("approve of an executed action: %d %s", code, errOut)
	}
}

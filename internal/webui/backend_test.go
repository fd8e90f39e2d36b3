package webui

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/console"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/server"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// backend is the console's backend over a real store, server and verifier, with an emulated org
// and its API token.
func backend(t *testing.T) (*Backend, store.Store, string, string) {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	st, err := sqlite.OpenDataDir(ctx, t.TempDir(), sqlite.Options{Logger: log, Keys: sqlite.KeyStore})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	limits := oktasim.DefaultRateLimits()
	limits.Disabled = true
	org, err := oktasim.New(oktasim.Config{RateLimits: limits})
	if err != nil {
		t.Fatal(err)
	}
	_, token := org.Tokens().Add(oktasim.APIToken{Name: "idwatch", AdminID: "00uadmin", Roles: []oktasim.Role{oktasim.RoleReadOnlyAdmin}})
	ts := httptest.NewServer(org)
	t.Cleanup(ts.Close)
	govs, err := okta.NewGovernorSet(okta.GovernorConfig{Share: 0.5, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	verifier := &collect.Verifier{Logger: log, Governors: govs}
	srv, err := server.New(server.Options{Store: st, Logger: log, Verifier: verifier, Clients: &collect.Clients{Governors: govs, Logger: log}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Options{Server: srv, Store: st, Verifier: verifier, Logger: log, BudgetShare: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	return b, st, ts.URL, token
}

// TestBackendIntegrations: verify checks one by one, add through the API's create, the row,
// disable, a refused rotation with its fix, and no secret in anything the console gets back.
func TestBackendIntegrations(t *testing.T) {
	b, st, orgURL, token := backend(t)
	ctx := context.Background()
	key, _, err := server.CreateKey(ctx, st, "ops", store.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	p, err := b.Authenticate(ctx, key)
	if err != nil || p != (console.Principal{Name: "ops", Role: console.RoleAdmin}) {
		t.Fatalf("authenticate: %+v %v", p, err)
	}
	if _, err := b.Authenticate(ctx, key+"x"); !errors.Is(err, console.ErrUnauthenticated) {
		t.Errorf("wrong key: %v", err)
	}

	in := console.NewIntegration{Name: "lab", OrgURL: orgURL, Credentials: console.Credentials{APIToken: "SSWS " + token}}
	var checks []console.VerifyCheck
	if err := b.Verify(ctx, in, func(c console.VerifyCheck) { checks = append(checks, c) }); err != nil {
		t.Fatal(err)
	}
	if len(checks) < 4 {
		t.Fatalf("checks: %+v", checks)
	}
	for _, c := range checks {
		if c.Status == "fail" {
			t.Errorf("check failed: %+v", c)
		}
	}
	row, err := b.AddIntegration(ctx, p, in)
	if err != nil {
		t.Fatal(err)
	}
	if row.ID != "lab" || !row.Enabled || row.AuthType != "api_token" || row.State != console.StateVerifying || row.BudgetShare != 0.5 {
		t.Errorf("row: %+v", row)
	}
	// The same name again is refused on the name field, before any check runs.
	err = b.Verify(ctx, in, func(console.VerifyCheck) { t.Error("a check ran for a taken name") })
	var ce *console.Error
	if !errors.As(err, &ce) || ce.Field != "name" {
		t.Errorf("taken name: %v", err)
	}
	// A wrong token fails its check with the fix.
	bad := in
	bad.Name, bad.APIToken = "lab2", "00wrongwrongwrongwrongwrongwrongwrongwrong0"
	checks = nil
	if err := b.Verify(ctx, bad, func(c console.VerifyCheck) { checks = append(checks, c) }); err != nil {
		t.Fatal(err)
	}
	if last := checks[len(checks)-1]; last.Name != "Credentials" || last.Status != "fail" || !last.Blocking || last.Fix == "" {
		t.Errorf("wrong token's last check: %+v", last)
	}
	// Rotation to a wrong token is refused with the failed check's fix; the integration keeps going.
	err = b.Rotate(ctx, p, "lab", console.Credentials{APIToken: bad.APIToken})
	if !errors.As(err, &ce) || !strings.Contains(ce.Message, "Credentials") || ce.Fix == "" {
		t.Errorf("rotate to a wrong token: %v", err)
	}
	if err := b.SetIntegrationEnabled(ctx, p, "lab", false); err != nil {
		t.Fatal(err)
	}
	rows, err := b.Integrations(ctx)
	if err != nil || len(rows) != 1 || rows[0].State != console.StateDisabled || rows[0].Enabled {
		t.Errorf("after disable: %+v %v", rows, err)
	}
	d, err := b.Integration(ctx, "lab")
	if err != nil || len(d.EventsPerHour) != 24 || len(d.History) == 0 || d.Backfill.State != "" {
		t.Errorf("detail: %+v %v", d, err)
	}
	if _, err := b.Integration(ctx, "nope"); !errors.Is(err, console.ErrNotFound) {
		t.Errorf("unknown integration: %v", err)
	}
	if err := b.StartBackfill(ctx, p, "lab", time.Now().Add(-time.Hour), time.Time{}); err != nil {
		t.Errorf("backfill: %v", err)
	}
	if bf, err := b.BackfillProgress(ctx, "lab"); err != nil || bf.State == "" {
		t.Errorf("backfill progress: %+v %v", bf, err)
	}
	for _, s := range []string{token, key} {
		if strings.Contains(strings.Join([]string{row.LastError, row.LastFix, d.LastError, d.LastFix, ce.Message, ce.Fix}, " "), s) {
			t.Error("a secret came back to the console")
		}
	}
}

// TestBackendKeys: keys are created once, listed without the key, revoked; a revoked key's
// session can change nothing more, and a viewer cannot act as an admin.
func TestBackendKeys(t *testing.T) {
	b, st, _, _ := backend(t)
	ctx := context.Background()
	if _, _, err := server.CreateKey(ctx, st, "root", store.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	admin := console.Principal{Name: "root", Role: console.RoleAdmin}
	key, row, err := b.CreateAPIKey(ctx, admin, "noc", console.RoleViewer)
	if err != nil || !strings.HasPrefix(key, server.KeyPrefix) || row.Name != "noc" || row.Role != console.RoleViewer {
		t.Fatalf("create: %q %+v %v", key, row, err)
	}
	var ce *console.Error
	if _, _, err := b.CreateAPIKey(ctx, admin, "noc", console.RoleViewer); !errors.As(err, &ce) || ce.Field != "name" {
		t.Errorf("duplicate name: %v", err)
	}
	viewer := console.Principal{Name: "noc", Role: console.RoleAdmin} // a forged role: the key's own role counts
	if _, err := b.AddIntegration(ctx, viewer, console.NewIntegration{Name: "x", OrgURL: "https://x.okta.com", Credentials: console.Credentials{APIToken: "t"}}); !errors.As(err, &ce) || !strings.Contains(ce.Message, "admin") {
		t.Errorf("viewer key adding an integration: %v", err)
	}
	if err := b.RevokeAPIKey(ctx, admin, "noc"); err != nil {
		t.Fatal(err)
	}
	if err := b.RevokeAPIKey(ctx, admin, "noc"); !errors.As(err, &ce) {
		t.Errorf("revoking twice: %v", err)
	}
	if err := b.RevokeAPIKey(ctx, admin, "nobody"); !errors.Is(err, console.ErrNotFound) {
		t.Errorf("unknown key: %v", err)
	}
	if _, err := b.Authenticate(ctx, key); !errors.Is(err, console.ErrUnauthenticated) {
		t.Errorf("revoked key signs in: %v", err)
	}
	if err := b.SetIntegrationEnabled(ctx, console.Principal{Name: "noc", Role: console.RoleAdmin}, "x", true); !errors.As(err, &ce) || !strings.Contains(ce.Message, "revoked") {
		t.Errorf("revoked key's session acting: %v", err)
	}
	keys, err := b.APIKeys(ctx)
	if err != nil || len(keys) != 2 || !keys[1].Revoked {
		t.Errorf("keys: %+v %v", keys, err)
	}
	if rules, err := b.Rules(ctx); err != nil || len(rules) == 0 || rules[0].Custom {
		t.Errorf("built-in rules: %d %v", len(rules), err)
	}
}

// TestBackendOddNames: names that are not URL-safe reach the API as path values, not as a broken
// request.
func TestBackendOddNames(t *testing.T) {
	b, _, _, _ := backend(t)
	for _, name := range []string{"a b", "%zz", "../x", "a/b?c#d", "é"} {
		if _, err := b.Integration(context.Background(), name); !errors.Is(err, console.ErrNotFound) {
			t.Errorf("%q: %v", name, err)
		}
	}
}

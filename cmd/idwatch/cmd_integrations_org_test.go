package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"net"
	"net/http"
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

// runCLIDial runs the CLI in-process with connections opened by dial: the way tests point an
// org's real-looking name at oktasim's loopback listener without touching DNS.
func runCLIDial(t *testing.T, dial func(ctx context.Context, network, addr string) (net.Conn, error), args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	io := stdio{in: strings.NewReader(""), out: &out, err: &errb, log: slog.New(slog.NewTextHandler(&errb, nil)), dial: dial}
	code := run(context.Background(), io, args)
	return code, out.String(), errb.String()
}

// orgTestSim runs `idwatch sim --org-url https://acme.okta.com --custom-domain https://login.acme.com
// --ca-file F` in-process and returns it with F once written.
func orgTestSim(t *testing.T) (*oktasim.Simulation, string) {
	t.Helper()
	caFile := filepath.Join(t.TempDir(), "oktasim-ca.pem")
	f := simFlags{listen: "127.0.0.1:0", history: 2 * time.Hour, users: 20, storylines: 1, seed: 11, orgDomain: "acme.example",
		lateDelay: time.Minute, noRateLimits: true, orgURL: "https://acme.okta.com", customDomains: "https://login.acme.com", caFile: caFile}
	sim, serve, err := f.start(stdio{out: &bytes.Buffer{}, err: &bytes.Buffer{}, log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-served
	})
	waitUntil(t, "the CA file", func() bool { b, err := os.ReadFile(caFile); return err == nil && len(b) > 0 })
	return sim, caFile
}

// TestOrgIdentityCustomDomainAndCA follows an operator behind a TLS-inspecting proxy whose org has
// a custom URL domain: without --ca-file the certificate is refused and the fix named; with it the
// org is added and collected; the same org through its custom domain is refused as a duplicate
// unless --allow-duplicate; an integration without a stored org id gets it on verify.
func TestOrgIdentityCustomDomainAndCA(t *testing.T) {
	t.Setenv(secret.EnvMasterKey, "")
	sim, caFile := orgTestSim(t)
	dir := t.TempDir()
	tok := filepath.Join(dir, "token")
	if err := os.WriteFile(tok, []byte(sim.Info.APIToken), 0o600); err != nil {
		t.Fatal(err)
	}
	notCA := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(notCA, []byte(sim.Info.ServiceApp.PrivateKeyPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	// A web server that is not Okta, on its own loopback address, trusted through its own CA.
	notOkta := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(notOkta.Close)
	notOktaCA := filepath.Join(dir, "intranet-ca.pem")
	if err := os.WriteFile(notOktaCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: notOkta.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, _, _ := net.SplitHostPort(addr); host == "127.0.0.1" {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}
		return sim.DialContext(ctx, network, addr)
	}
	dd := "--data-dir=" + filepath.Join(dir, "data")
	cli := func(args ...string) (int, string) {
		t.Helper()
		code, out, errOut := runCLIDial(t, dial, args...)
		return code, out + errOut
	}

	for _, c := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"unknown authority", []string{"verify", "--org-url", "https://acme.okta.com", "--api-token-file", tok}, 1,
			[]string{"FAIL  Reachability: the certificate acme.okta.com presented is signed by an unknown authority", "--ca-file /path/to/proxy-ca.pem", "SSL_CERT_FILE"}},
		{"ca file without a certificate", []string{"verify", "--org-url", "https://acme.okta.com", "--ca-file", notCA, "--api-token-file", tok}, 2,
			[]string{"--ca-file " + notCA + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)"}},
		{"ca file missing", []string{"integrations", "add", dd, "--name", "x", "--org-url", "https://acme.okta.com", "--ca-file", filepath.Join(dir, "nope.pem"), "--api-token-file", tok}, 2,
			[]string{"--ca-file: open"}},
		{"custom domain undeclared", []string{"verify", "--org-url", "https://login.acme.com", "--ca-file", caFile, "--api-token-file", tok}, 2,
			[]string{`org URL host "login.acme.com" is not an Okta domain`, "if login.acme.com is your org's custom URL domain, add --custom-domain"}},
		{"custom domain over http", []string{"verify", "--org-url", "http://login.acme.com", "--custom-domain", "--api-token-file", tok}, 2,
			[]string{"must use https", "type https://login.acme.com"}},
		{"custom domain that is not okta", []string{"verify", "--org-url", notOkta.URL, "--custom-domain", "--ca-file", notOktaCA, "--api-token-file", tok}, 1,
			[]string{"does not answer as an Okta org: GET /.well-known/okta-organization answered HTTP 404", "is a custom URL domain of your Okta org"}},
		{"custom domain with the CA", []string{"verify", "--org-url", "https://login.acme.com", "--custom-domain", "--ca-file", caFile, "--api-token-file", tok}, 0,
			[]string{"OK    Reachability: https://login.acme.com answers as Okta org " + sim.Info.OrgID}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out := cli(c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\n%s", code, c.code, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}

	// With the proxy's (here oktasim's) CA the org is added, enabled, and collected.
	code, out := cli("integrations", "add", dd, "--name", "acme", "--org-url", "https://acme.okta.com", "--ca-file", caFile, "--api-token-file", tok)
	if code != 0 || !strings.Contains(out, `added integration "acme" (id 1), enabled`) {
		t.Fatalf("add: exit %d\n%s", code, out)
	}
	before := sim.Server.VisibleUUIDs()
	if code, out = cli("collect", dd, "--once", "--lookback", "3h"); code != 0 {
		t.Fatalf("collect: exit %d\n%s", code, out)
	}
	code, export, _ := runCLI(t, "", "events", "export", dd)
	if code != 0 {
		t.Fatalf("export: exit %d", code)
	}
	got := map[string]bool{}
	for line := range strings.Lines(export) {
		var ev struct {
			UUID string `json:"uuid"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		got[ev.UUID] = true
	}
	for _, id := range before {
		if !got[id] {
			t.Fatalf("event %s of the org was not collected (%d of %d collected)", id, len(got), len(before))
		}
	}
	if in := listed(t, dd)["acme"]; in.OrgID != sim.Info.OrgID || in.CAPEM == "" || in.CustomDomain {
		t.Fatalf("stored: org id %q (want %q), CA %d bytes, custom domain %v", in.OrgID, sim.Info.OrgID, len(in.CAPEM), in.CustomDomain)
	}

	// The same org through its custom domain is refused, naming the existing integration.
	code, out = cli("integrations", "add", dd, "--name", "acme-sso", "--org-url", "https://login.acme.com", "--custom-domain", "--ca-file", caFile, "--api-token-file", tok)
	want := `https://login.acme.com (Okta org ` + sim.Info.OrgID + `) is the org of integration "acme" (id 1 at https://acme.okta.com)`
	if code != 1 || !strings.Contains(out, want) || !strings.Contains(out, "--allow-duplicate") {
		t.Fatalf("duplicate through the custom domain: exit %d, want 1 and %q\n%s", code, want, out)
	}
	// And through the same URL, before anything is asked of Okta.
	code, out = cli("integrations", "add", dd, "--name", "acme-again", "--org-url", "https://ACME.okta.com/", "--ca-file", caFile, "--api-token-file", tok)
	if code != 1 || !strings.Contains(out, `https://acme.okta.com is the org of integration "acme" (id 1)`) || strings.Contains(out, "Reachability") {
		t.Fatalf("duplicate URL: exit %d\n%s", code, out)
	}
	if rows := listed(t, dd); len(rows) != 1 {
		t.Fatalf("refused duplicates were stored: %v", rows)
	}
	code, out = cli("integrations", "add", dd, "--name", "acme-sso", "--org-url", "https://login.acme.com", "--custom-domain", "--ca-file", caFile,
		"--api-token-file", tok, "--allow-duplicate")
	if code != 0 || !strings.Contains(out, "enabled") {
		t.Fatalf("--allow-duplicate: exit %d\n%s", code, out)
	}
	if in := listed(t, dd)["acme-sso"]; in.OrgID != sim.Info.OrgID || !in.CustomDomain {
		t.Fatalf("custom-domain integration stored as %+v", in.Integration)
	}

	// An integration from before org ids were stored gets its id on the next verify.
	clearOrgID(t, filepath.Join(dir, "data"), "acme")
	if code, out = cli("verify", dd, "--integration", "acme"); code != 0 {
		t.Fatalf("verify: exit %d\n%s", code, out)
	}
	if in := listed(t, dd)["acme"]; in.OrgID != sim.Info.OrgID {
		t.Fatalf("org id after verify: %q", in.OrgID)
	}
}

// clearOrgID empties an integration's stored org id, as the migration leaves older integrations.
func clearOrgID(t *testing.T, dataDir, name string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.OpenDataDir(ctx, dataDir, sqlite.Options{Logger: slog.New(slog.DiscardHandler), Keys: sqlite.KeyRead})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	in, err := st.IntegrationByName(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetIntegrationOrgID(ctx, in.ID, ""); err != nil {
		t.Fatal(err)
	}
}

func TestDuplicateOrgMessages(t *testing.T) {
	stored := []store.Integration{
		{ID: 1, Name: "acme", OrgURL: "https://acme.okta.com", OrgID: "00oACME"},
		{ID: 2, Name: "legacy", OrgURL: "https://legacy.okta.com"},
	}
	for _, c := range []struct {
		name string
		in   store.Integration
		want string
	}{
		{"same org id, other URL", store.Integration{OrgURL: "https://login.acme.com", OrgID: "00oACME"},
			`https://login.acme.com (Okta org 00oACME) is the org of integration "acme" (id 1 at https://acme.okta.com)`},
		{"same URL, id not yet known", store.Integration{OrgURL: "https://acme.okta.com"}, `https://acme.okta.com is the org of integration "acme" (id 1)`},
		{"same URL as an integration without an id", store.Integration{OrgURL: "https://legacy.okta.com", OrgID: "00oLEGACY"},
			`https://legacy.okta.com (Okta org 00oLEGACY) is the org of integration "legacy" (id 2)`},
		{"other org", store.Integration{OrgURL: "https://globex.okta.com", OrgID: "00oGLOBEX"}, ""},
		{"itself", store.Integration{ID: 1, OrgURL: "https://acme.okta.com", OrgID: "00oACME"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			x, dup := sameOrg(stored, c.in)
			if !dup {
				if c.want != "" {
					t.Fatalf("not a duplicate; want %q", c.want)
				}
				return
			}
			msg := (&duplicateError{existing: x, orgURL: c.in.OrgURL, orgID: c.in.OrgID}).Error()
			if c.want == "" || !strings.Contains(msg, c.want) || !strings.Contains(msg, "idwatch integrations update "+x.Name) || !strings.Contains(msg, "--allow-duplicate") {
				t.Fatalf("message %q; want %q", msg, c.want)
			}
		})
	}
}

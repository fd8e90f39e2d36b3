package collect

import (
	"context"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/oktasim/scenario"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
)

// customDomainSim serves an org advertised as https://acme.okta.com with the custom URL domain
// https://login.acme.com, over TLS signed by a CA the system roots do not hold.
func customDomainSim(t *testing.T) *oktasim.Simulation {
	t.Helper()
	clk := clock.NewManual(t0)
	world, err := oktasim.NewScenarioWorld(scenario.Config{Seed: 5, Users: 10, OrgDomain: "acme.example", Start: t0.Add(-2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := oktasim.SimConfig{Listen: "127.0.0.1:0", OrgURL: "https://acme.okta.com", History: time.Hour, Tick: time.Hour,
		Server: oktasim.Config{CustomDomains: []string{"https://login.acme.com"}}}
	log := slog.New(slog.DiscardHandler)
	sim, ln, err := oktasim.StartSim(cfg, world, clk, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sim.Serve(ctx, cfg, world, ln, clk, log) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return sim
}

// Verification finds the org's identity through its Okta domain and its custom domain alike,
// explains a certificate signed by an unknown authority with the fix, and refuses a custom
// domain that is not an Okta org.
func TestVerifyOrgIdentity(t *testing.T) {
	sim := customDomainSim(t)
	notOkta := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(notOkta.Close)
	notOktaCA := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: notOkta.Certificate().Raw}))
	token := okta.Credentials{APIToken: okta.Secret(sim.Info.APIToken)}
	for _, c := range []struct {
		name                  string
		target                Target
		dial                  bool
		failID, detail, fixes string
	}{
		{"okta domain without the CA", Target{OrgURL: "https://acme.okta.com"}, true,
			"reachability", "the certificate acme.okta.com presented is signed by an unknown authority", "--ca-file /path/to/proxy-ca.pem"},
		{"okta domain with the CA", Target{OrgURL: "https://acme.okta.com", CAPEM: sim.Info.CAPEM}, true, "", "", ""},
		{"custom domain undeclared", Target{OrgURL: "https://login.acme.com", CAPEM: sim.Info.CAPEM}, true,
			"org-url", "if login.acme.com is your org's custom URL domain, add --custom-domain", ""},
		{"custom domain declared", Target{OrgURL: "https://login.acme.com", CustomDomain: true, CAPEM: sim.Info.CAPEM}, true, "", "", ""},
		{"custom domain with a service app", Target{OrgURL: "https://login.acme.com", CustomDomain: true, CAPEM: sim.Info.CAPEM,
			Credentials: okta.Credentials{ServiceApp: &okta.ServiceApp{ClientID: sim.Info.ServiceApp.ClientID, KeyID: sim.Info.ServiceApp.KeyID,
				PrivateKey: okta.Secret(sim.Info.ServiceApp.PrivateKeyPEM), Scopes: []string{"okta.logs.read"}}}}, true, "", "", ""},
		{"custom domain without the CA", Target{OrgURL: "https://login.acme.com", CustomDomain: true}, true,
			"reachability", "login.acme.com presented is signed by an unknown authority", "SSL_CERT_FILE"},
		{"custom domain that is not okta", Target{OrgURL: notOkta.URL, CustomDomain: true, CAPEM: notOktaCA}, false,
			"reachability", "does not answer as an Okta org: GET /.well-known/okta-organization answered HTTP 404", "is a custom URL domain of your Okta org"},
		{"CA file without a certificate", Target{OrgURL: "https://acme.okta.com", CAPEM: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}, true,
			"reachability", "holds no PEM certificate", "--ca-file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := &Verifier{Logger: slog.New(slog.DiscardHandler)}
			if c.dial {
				v.Dial = sim.DialContext
			}
			tg := c.target
			if tg.Credentials.ServiceApp == nil {
				tg.Credentials = token
			}
			r := v.Verify(context.Background(), tg)
			f := r.Failed()
			if c.failID == "" {
				if f != nil || r.OrgID != sim.Info.OrgID || !r.CanCollectLogs {
					t.Fatalf("failed %+v, org id %q (want %q)", f, r.OrgID, sim.Info.OrgID)
				}
				return
			}
			if f == nil || f.ID != c.failID || !strings.Contains(f.Detail, c.detail) || !strings.Contains(f.Fix, c.fixes) || r.OrgID != "" {
				t.Fatalf("failed check %+v, org id %q; want %s: %q / fix %q", f, r.OrgID, c.failID, c.detail, c.fixes)
			}
		})
	}
}

func TestParseCABundle(t *testing.T) {
	sim := customDomainSim(t)
	if n, err := ParseCABundle([]byte("comment line\n" + sim.Info.CAPEM + sim.Info.CAPEM)); n != 2 || err != nil {
		t.Fatalf("bundle of two: %d, %v", n, err)
	}
	for _, c := range []struct{ pem, want string }{
		{"", "holds no PEM certificate"},
		{"not a pem file", "holds no PEM certificate"},
		{"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", "holds no PEM certificate"},
		{"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "certificate 1 of the CA bundle does not parse"},
	} {
		if _, err := ParseCABundle([]byte(c.pem)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.pem, err, c.want)
		}
	}
}

// An integration stored before org ids were recorded gets its org's id on its next collection.
func TestCollectionFillsOrgID(t *testing.T) {
	sim := customDomainSim(t)
	st := openStore(t, t.TempDir()+"/idwatch.db", newKeyring(t))
	t.Cleanup(func() { st.Close() })
	in, err := st.CreateIntegration(context.Background(), store.Integration{Name: "acme", OrgURL: "https://login.acme.com", CustomDomain: true,
		CAPEM: sim.Info.CAPEM, AuthKind: store.AuthAPIToken, Enabled: true, CustomAttributes: store.DefaultAttributeNames,
		Credentials: store.Credentials{APIToken: secret.New(sim.Info.APIToken)}})
	if err != nil {
		t.Fatal(err)
	}
	govs, err := okta.NewGovernorSet(okta.GovernorConfig{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewManager(ManagerConfig{Store: st, Clients: &Clients{Governors: govs, Dial: sim.DialContext, Logger: slog.New(slog.DiscardHandler)},
		Collect: Config{Lookback: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CatchUp(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	got, err := st.Integration(context.Background(), in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.OrgID != sim.Info.OrgID || !got.UpdatedAt.Equal(in.UpdatedAt) {
		t.Fatalf("org id %q (want %q), updated %v (was %v)", got.OrgID, sim.Info.OrgID, got.UpdatedAt, in.UpdatedAt)
	}
}

func FuzzParseCABundle(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Add([]byte("not pem"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := ParseCABundle(b)
		if (err == nil) != (n > 0) || (err != nil && err.Error() == "") {
			t.Fatalf("%d certificates, error %v", n, err)
		}
	})
}

// Collection through a TLS-inspecting proxy whose CA is not trusted stops in error with the fix,
// and collects once the integration carries the CA.
func TestCollectionExplainsRefusedCertificate(t *testing.T) {
	sim := customDomainSim(t)
	st := openStore(t, t.TempDir()+"/idwatch.db", newKeyring(t))
	t.Cleanup(func() { st.Close() })
	in, err := st.CreateIntegration(context.Background(), store.Integration{Name: "acme", OrgURL: "https://acme.okta.com",
		AuthKind: store.AuthAPIToken, Enabled: true, CustomAttributes: store.DefaultAttributeNames,
		Credentials: store.Credentials{APIToken: secret.New(sim.Info.APIToken)}})
	if err != nil {
		t.Fatal(err)
	}
	govs, err := okta.NewGovernorSet(okta.GovernorConfig{})
	if err != nil {
		t.Fatal(err)
	}
	catchUp := func(in store.Integration) error {
		m, err := NewManager(ManagerConfig{Store: st, Clients: &Clients{Governors: govs, Dial: sim.DialContext, Logger: slog.New(slog.DiscardHandler),
			Retry: okta.RetryConfig{MaxRetries: -1}}, Collect: Config{Lookback: time.Hour}})
		if err != nil {
			t.Fatal(err)
		}
		return m.CatchUp(context.Background(), 0)
	}
	if err := catchUp(in); err == nil {
		t.Fatal("collected through an untrusted certificate")
	}
	h, err := st.Health(context.Background(), in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if h.State != store.HealthError || !strings.Contains(h.Reason, "the certificate acme.okta.com presented is signed by an unknown authority") ||
		!strings.Contains(h.Fix, "--ca-file") {
		t.Fatalf("health %s: %q / fix %q", h.State, h.Reason, h.Fix)
	}
	in.CAPEM = sim.Info.CAPEM
	if in, err = st.UpdateIntegration(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if err := catchUp(in); err != nil {
		t.Fatal(err)
	}
}

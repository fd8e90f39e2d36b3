package collect

import (
	"context"
	"crypto/x509"
	"log/slog"
	"net/http"
	"slices"
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

// TestCollectsFromAdvertisedOrgURL collects from an org addressed as https://acme.okta.com, the
// way a user's config names a real org: the org URL passes idwatch's validation as an Okta domain
// (no loopback exception), the certificate is checked against the CA oktasim generated, and only
// the dialer knows the name points at a loopback listener. API token and service app (DPoP) both
// collect every event exactly once.
func TestCollectsFromAdvertisedOrgURL(t *testing.T) {
	clk := clock.NewManual(t0)
	world, err := oktasim.NewScenarioWorld(scenario.Config{Seed: 3, Users: 25, OrgDomain: "acme.example", Start: t0.Add(-6 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := oktasim.SimConfig{Listen: "127.0.0.1:0", OrgURL: "https://acme.okta.com", History: 6 * time.Hour, HistoryStorylines: 2, Tick: time.Hour,
		Server: oktasim.Config{RateLimits: oktasim.DefaultRateLimits()}}
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
	truth := sim.Server.VisibleUUIDs()
	slices.Sort(truth)
	app := sim.Info.ServiceApp

	for _, c := range []struct {
		name string
		in   store.Integration
	}{
		{"api token", store.Integration{AuthKind: store.AuthAPIToken, Credentials: store.Credentials{APIToken: secret.New(sim.Info.APIToken)}}},
		{"service app", store.Integration{AuthKind: store.AuthOAuth, ClientID: app.ClientID, KeyID: app.KeyID, Scopes: []string{"okta.logs.read"},
			Credentials: store.Credentials{PrivateKeyPEM: secret.New(app.PrivateKeyPEM)}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := openStore(t, t.TempDir()+"/idwatch.db", newKeyring(t))
			t.Cleanup(func() { st.Close() })
			in := c.in
			in.Name, in.OrgURL, in.Enabled, in.CustomAttributes = "acme", sim.Info.OrgURL, true, store.DefaultAttributeNames
			in, err := st.CreateIntegration(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			govs, err := okta.NewGovernorSet(okta.GovernorConfig{Clock: clk})
			if err != nil {
				t.Fatal(err)
			}
			poller := func(tr http.RoundTripper) *Poller {
				cl := &Clients{Governors: govs, HTTPClient: &http.Client{Transport: tr}, Clock: clk, Logger: log,
					Retry: okta.RetryConfig{MaxRetries: -1}}
				client, err := cl.Client(in)
				if err != nil {
					t.Fatal(err)
				}
				if got := client.Org().String(); got != "https://acme.okta.com" {
					t.Fatalf("client org %s", got)
				}
				p, err := NewPoller(in.ID, client, st, NewTracker(in.ID, st, clk, nil), Config{Clock: clk, Lookback: 7 * time.Hour, PageLimit: 200})
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			// Without the generated CA the certificate is refused and nothing is journalled.
			untrusted := sim.Transport()
			untrusted.TLSClientConfig.RootCAs = x509.NewCertPool()
			if err := poller(untrusted).CatchUp(context.Background(), 0); err == nil || !strings.Contains(err.Error(), "certificate") {
				t.Fatalf("untrusted certificate: %v", err)
			}
			if got := journalUUIDs(t, st); len(got) != 0 {
				t.Fatalf("%d events journalled through an untrusted connection", len(got))
			}
			if err := poller(sim.Transport()).CatchUp(context.Background(), 0); err != nil {
				t.Fatal(err)
			}
			if got := journalUUIDs(t, st); !slices.Equal(got, truth) {
				t.Fatalf("journal holds %d events, the org %d", len(got), len(truth))
			}
		})
	}
}

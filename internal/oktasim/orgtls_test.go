package oktasim

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/okta"
)

func TestAdvertisedOrgURLValidation(t *testing.T) {
	for _, c := range []struct{ raw, want string }{
		{"https://acme.okta.com", ""},
		{"https://ACME.okta.com/", ""},
		{"https://acme.okta.com:8443", ""},
		{"http://acme.okta.com", "must use https"},
		{"https://acme.okta.com/api", "no path"},
		{"https://acme.okta.com?x=1", "no path"},
		{"https://user@acme.okta.com", "user info"},
		{"acme.okta.com", "https URL"},
		{"https://", "https URL"},
	} {
		err := SimConfig{Listen: "127.0.0.1:0", OrgURL: c.raw}.Validate()
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("org URL %q: error %v, want %q", c.raw, err, c.want)
		}
	}
	if err := (SimConfig{Listen: "127.0.0.1:0", CAFile: "ca.pem"}).Validate(); err == nil {
		t.Error("a CA file for a plain http org was accepted")
	}
	for raw, want := range map[string]string{"https://ACME.okta.com/": "https://acme.okta.com", "https://acme.okta.com:443": "https://acme.okta.com",
		"https://acme.okta.com:8443": "https://acme.okta.com:8443"} {
		if got, _, _ := parseAdvertisedOrgURL(raw); got != want {
			t.Errorf("%s advertised as %s, want %s", raw, got, want)
		}
	}
}

// An org advertised as https://acme.okta.com is served with a certificate for that name, signed by
// a CA generated at start, and idwatch's own client reaches it through the real org URL validation
// (an Okta domain, https, no loopback exception) with the listener mapped in by the transport.
func TestAdvertisedOrgURLServesIdwatch(t *testing.T) {
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	sim, _ := runningSim(t, func(c *SimConfig) { c.OrgURL = "https://acme.okta.com"; c.CAFile = caFile })
	if sim.Info.OrgURL != "https://acme.okta.com" {
		t.Fatalf("org URL %s", sim.Info.OrgURL)
	}
	if _, err := okta.ParseOrgURL(sim.Info.OrgURL); err != nil {
		t.Fatalf("idwatch refuses the advertised org URL: %v", err)
	}
	// The CA file appears once serving, and holds the same CA as the info.
	var caPEM []byte
	for deadline := time.Now().Add(10 * time.Second); caPEM == nil; {
		if b, err := os.ReadFile(caFile); err == nil && len(b) > 0 {
			caPEM = b
		} else if time.Now().After(deadline) {
			t.Fatal("CA file never written")
		} else {
			time.Sleep(5 * time.Millisecond)
		}
	}
	if string(caPEM) != sim.Info.CAPEM {
		t.Fatal("CA file differs from the info's caPem")
	}
	block, _ := pem.Decode(caPEM)
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil || !ca.IsCA {
		t.Fatalf("CA file: %v", err)
	}

	hc := &http.Client{Transport: sim.Transport()}
	window := okta.LogsQuery{Since: t0.Add(-2 * time.Hour), Until: t0.Add(time.Minute), Limit: 7}
	want := sim.Server.VisibleUUIDs()
	slices.Sort(want)
	wantUsers := map[string]bool{}
	for _, u := range sim.Server.Users() {
		if u.Status != "DEPROVISIONED" {
			wantUsers[u.ID] = true
		}
	}
	for _, mode := range []struct {
		name  string
		creds okta.Credentials
	}{
		{"api token", okta.Credentials{APIToken: okta.Secret(sim.Info.APIToken)}},
		{"service app with DPoP", okta.Credentials{ServiceApp: &okta.ServiceApp{ClientID: sim.Info.ServiceApp.ClientID,
			KeyID: sim.Info.ServiceApp.KeyID, PrivateKey: okta.Secret(sim.Info.ServiceApp.PrivateKeyPEM), Scopes: []string{"okta.logs.read", "okta.users.read"}}}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			c, err := okta.New(okta.Config{OrgURL: sim.Info.OrgURL, HTTPClient: hc, Credentials: mode.creds, Logger: discardLogger(),
				Retry: okta.RetryConfig{MaxRetries: -1}})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			next, err := c.LogsURL(window)
			if err != nil {
				t.Fatal(err)
			}
			for pages := 0; next != ""; pages++ {
				if pages > 100 {
					t.Fatal("bounded read does not end")
				}
				if !strings.HasPrefix(next, "https://acme.okta.com/api/v1/logs?") {
					t.Fatalf("page URL %s is not on the advertised org", next)
				}
				page, err := c.Logs(context.Background(), next)
				if err != nil {
					t.Fatal(err)
				}
				for _, raw := range page.Items {
					var ev struct{ UUID string }
					_ = json.Unmarshal(raw, &ev)
					got = append(got, ev.UUID)
				}
				next = page.Next
			}
			slices.Sort(got)
			if len(got) == 0 || !slices.Equal(got, want) {
				t.Fatalf("paged %d events, want the org's %d", len(got), len(want))
			}
			gotUsers := map[string]bool{}
			if err := c.ListUsers(context.Background(), okta.UsersQuery{Limit: 5}, func(us []okta.User) error {
				for _, u := range us {
					gotUsers[u.ID] = true
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(gotUsers) != len(wantUsers) {
				t.Fatalf("listed %d users, want %d", len(gotUsers), len(wantUsers))
			}
			for id := range wantUsers {
				if !gotUsers[id] {
					t.Fatalf("user %s not listed", id)
				}
			}
		})
	}

	// Without the CA the certificate is not trusted; other hosts are never dialled.
	plain := sim.Transport()
	plain.TLSClientConfig.RootCAs = x509.NewCertPool()
	_, err = (&http.Client{Transport: plain}).Get("https://acme.okta.com/api/v1/logs")
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("untrusted CA: %v", err)
	}
	if _, err := hc.Get("https://other.okta.com/api/v1/logs"); err == nil || !strings.Contains(err.Error(), "not the simulated org") {
		t.Fatalf("foreign host: %v", err)
	}
	// The listener's own address stays reachable with the CA (the certificate also names the
	// loopback addresses); Link headers still name the advertised org.
	u, _ := url.Parse("https://" + sim.Info.Address + "/api/v1/logs")
	req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
	req.Header.Set("Authorization", "SSWS "+sim.Info.APIToken)
	direct := &http.Client{Transport: &http.Transport{TLSClientConfig: plain.TLSClientConfig.Clone()}}
	direct.Transport.(*http.Transport).TLSClientConfig.RootCAs = sim.CertPool()
	resp, err := direct.Do(req)
	if err != nil {
		t.Fatalf("loopback address with the CA: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Link"), "https://acme.okta.com/api/v1/logs") {
		t.Fatalf("direct call: %d, Link %q (links name the advertised org)", resp.StatusCode, resp.Header.Values("Link"))
	}
}

// FuzzAdvertisedOrgURL: an accepted org URL is an https origin with no path, query or user info,
// and accepting it again gives the same URL; nothing panics.
func FuzzAdvertisedOrgURL(f *testing.F) {
	f.Add("https://acme.okta.com")
	f.Add("http://acme.okta.com/x")
	f.Fuzz(func(t *testing.T, raw string) {
		got, host, err := parseAdvertisedOrgURL(raw)
		if err != nil {
			return
		}
		u, perr := url.Parse(got)
		if perr != nil || u.Scheme != "https" || u.Hostname() != host || u.Path != "" || u.RawQuery != "" || u.User != nil || u.Port() == "443" {
			t.Fatalf("%q accepted as %q (host %q)", raw, got, host)
		}
		again, host2, err := parseAdvertisedOrgURL(got)
		if err != nil || again != got || host2 != host {
			t.Fatalf("%q → %q, then %q %q %v", raw, got, again, host2, err)
		}
	})
}

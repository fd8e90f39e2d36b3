package oktasim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// getOrgMetadata reads GET /.well-known/okta-organization without credentials.
func getOrgMetadata(t *testing.T, hc *http.Client, base string) orgMetadata {
	t.Helper()
	resp, err := hc.Get(base + "/.well-known/okta-organization")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var m orgMetadata
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestOrgMetadataIDIsStablePerOrg(t *testing.T) {
	id := func(cfg Config) string {
		t.Helper()
		srv, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(srv)
		defer ts.Close()
		m := getOrgMetadata(t, ts.Client(), ts.URL)
		if m.ID != srv.OrgID() || !validOrgID(m.ID) || m.Pipeline != "idx" {
			t.Fatalf("metadata %+v, server org id %s", m, srv.OrgID())
		}
		want := strings.TrimSuffix(cfg.OrgURL, "/")
		if want == "" {
			want = ts.URL
		}
		if m.Links["organization"].Href != want {
			t.Errorf("organization link %q, want %q", m.Links["organization"].Href, want)
		}
		if _, ok := m.Links["alternate"]; ok != (len(cfg.CustomDomains) > 0) {
			t.Errorf("alternate link %v with custom domains %v", m.Links["alternate"], cfg.CustomDomains)
		}
		return m.ID
	}
	a := id(Config{OrgURL: "https://acme.okta.com", Seed: 1})
	if b := id(Config{OrgURL: "https://acme.okta.com/", Seed: 1}); a != b {
		t.Errorf("the same org has ids %s and %s", a, b)
	}
	if b := id(Config{OrgURL: "https://other.okta.com", Seed: 1}); a == b {
		t.Errorf("two orgs share id %s", a)
	}
	if b := id(Config{OrgURL: "https://acme.okta.com", Seed: 2}); a == b {
		t.Errorf("two seeds share id %s", a)
	}
	if b := id(Config{OrgID: "00o1n8sbwArJ7OQRw4x7", CustomDomains: []string{"https://login.acme.com"}}); b != "00o1n8sbwArJ7OQRw4x7" {
		t.Errorf("configured org id not served: %s", b)
	}
}

func TestOrgMetadataConfigErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{OrgID: "00u1n8sbwArJ7OQRw4x7"}, "must be 00o followed by 17"},
		{Config{OrgID: "00o1n8sbw"}, "must be 00o followed by 17"},
		{Config{OrgID: "00o1n8sbwArJ7OQRw4-7"}, "must be 00o followed by 17"},
		{Config{CustomDomains: []string{"http://login.acme.com"}}, "custom domain: org URL \"http://login.acme.com\" must use https"},
		{Config{CustomDomains: []string{"https://login.acme.com/sso"}}, "must have no path"},
	} {
		if err := c.cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.cfg, err, c.want)
		}
	}
	if err := (SimConfig{Listen: "127.0.0.1:0", Server: Config{CustomDomains: []string{"https://login.acme.com"}}}).Validate(); err == nil ||
		!strings.Contains(err.Error(), "https only") {
		t.Errorf("custom domains on a plain http simulation: %v", err)
	}
}

// A simulation advertised as https://acme.okta.com with the custom domain https://login.acme.com
// answers on both names with a certificate for each and the same org id; other hosts are not dialed.
func TestSimulationServesCustomDomain(t *testing.T) {
	sim, _ := runningSim(t, func(c *SimConfig) {
		c.OrgURL = "https://acme.okta.com"
		c.Server.CustomDomains = []string{"https://login.acme.com"}
	})
	hc := &http.Client{Transport: sim.Transport()}
	org := getOrgMetadata(t, hc, "https://acme.okta.com")
	custom := getOrgMetadata(t, hc, "https://login.acme.com")
	if org.ID != sim.Info.OrgID || custom.ID != org.ID {
		t.Fatalf("org ids %s (okta domain), %s (custom domain), info %s", org.ID, custom.ID, sim.Info.OrgID)
	}
	for _, m := range []orgMetadata{org, custom} {
		if m.Links["organization"].Href != "https://acme.okta.com" || m.Links["alternate"].Href != "https://login.acme.com" {
			t.Errorf("links %+v", m.Links)
		}
	}
	if _, err := hc.Get("https://evil.example/.well-known/okta-organization"); err == nil || !strings.Contains(err.Error(), "not the simulated org") {
		t.Errorf("another host: %v", err)
	}
}

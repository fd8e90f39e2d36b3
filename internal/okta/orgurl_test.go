package okta

import (
	"net/url"
	"strings"
	"testing"
)

func TestParseOrgURL(t *testing.T) {
	ok := []struct{ in, want string }{
		{"https://acme.okta.com", "https://acme.okta.com"},
		{"https://ACME.Okta.com/", "https://acme.okta.com"},
		{"  https://acme.okta-emea.com  ", "https://acme.okta-emea.com"},
		{"https://acme.oktapreview.com", "https://acme.oktapreview.com"},
		{"https://dev-123.okta-gov.com", "https://dev-123.okta-gov.com"},
		{"https://x.okta.mil", "https://x.okta.mil"},
		{"https://x.okta-miltest.com", "https://x.okta-miltest.com"},
		{"https://x.trex-gov.com", "https://x.trex-gov.com"},
		{"https://acme.okta.com:443", "https://acme.okta.com"},
		{"https://login.acme.com", "https://login.acme.com"}, // declared below
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://127.1.2.3:9", "http://127.1.2.3:9"},
		{"http://localhost:8080/", "http://localhost:8080"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"https://127.0.0.1:8443", "https://127.0.0.1:8443"},
	}
	for _, tc := range ok {
		got, err := ParseOrgURL(tc.in, "login.acme.com")
		if err != nil || got.String() != tc.want {
			t.Errorf("ParseOrgURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	bad := []struct{ in, hint string }{
		{"", "https://acme.okta.com"},
		{"acme.okta.com", "type https://acme.okta.com"},
		{"https://{yourOktaDomain}", "replace it"},
		{"https://acme-admin.okta.com", "type https://acme.okta.com (without -admin)"},
		{"https://acme-admin.oktapreview.com", "https://acme.oktapreview.com"},
		{"https://acme.okta.com.com", "type https://acme.okta.com"},
		{"http://acme.okta.com", "type https://acme.okta.com"},
		{"https://acme.okta.com/oauth2/default", "type only the origin, https://acme.okta.com"},
		{"https://acme.okta.com/?x=1", "type only the origin"},
		{"https://acme.okta.com/#frag", "type only the origin"},
		{"https://acme.okta.com?", "type only the origin"},
		{"https://evil.example.com", "if evil.example.com is your org's custom URL domain, add --custom-domain"},
		{"https://okta.com", "https://<your-org>.okta.com"},
		{"http://10.0.0.1", "https"},
		{"ftp://acme.okta.com", "type https://acme.okta.com"},
		{"https://user:pw@acme.okta.com", "must not contain user info"},
		{"https://https://acme.okta.com", "more than one scheme"},
		{"https://acme.okta.com.evil.io", "not an Okta domain"},
	}
	for _, tc := range bad {
		_, err := ParseOrgURL(tc.in, "login.acme.com")
		if err == nil {
			t.Errorf("ParseOrgURL(%q): want error", tc.in)
			continue
		}
		if !strings.Contains(err.Error(), tc.hint) {
			t.Errorf("ParseOrgURL(%q) = %q; want it to say %q", tc.in, err, tc.hint)
		}
		if strings.Contains(err.Error(), "pw@") {
			t.Errorf("error echoes user info: %v", err)
		}
	}
}

func TestSameOriginAndResolve(t *testing.T) {
	o, err := ParseOrgURL("https://acme.okta.com")
	if err != nil {
		t.Fatal(err)
	}
	for raw, want := range map[string]bool{
		"https://acme.okta.com/api/v1/logs?after=1": true,
		"https://ACME.okta.com:443/api/v1/logs":     true,
		"/api/v1/logs?after=2":                      true,
		"http://acme.okta.com/api/v1/logs":          false,
		"https://acme.okta.com:8443/api/v1/logs":    false,
		"https://evil.com/api/v1/logs":              false,
		"https://acme.okta.com.evil.com/":           false,
		"//evil.com/x":                              false,
		"https://x@acme.okta.com/":                  false,
	} {
		u, err := o.Resolve(raw)
		if got := err == nil; got != want {
			t.Errorf("Resolve(%q) ok=%v err=%v, want ok=%v", raw, got, err, want)
		}
		if err == nil && u.Host != "acme.okta.com" {
			t.Errorf("Resolve(%q) host = %q", raw, u.Host)
		}
	}
	if o.SameOrigin(&url.URL{Scheme: "https", Host: "acme.okta.com", User: url.User("x")}) {
		t.Error("user info accepted")
	}
}

// With --custom-domain any host is accepted, and every other rule of the org URL still holds.
func TestParseCustomDomainOrgURL(t *testing.T) {
	for _, tc := range []struct{ in, want, hint string }{
		{"https://login.acme.com", "https://login.acme.com", ""},
		{"https://Login.Acme.com:443/", "https://login.acme.com", ""},
		{"https://sso.example.org:8443", "https://sso.example.org:8443", ""},
		{"https://acme.okta.com", "https://acme.okta.com", ""},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", ""},
		{"http://login.acme.com", "", "must use https (plain http is accepted only for loopback test servers); type https://login.acme.com"},
		{"https://user:pw@login.acme.com", "", "must not contain user info; type https://login.acme.com"},
		{"https://login.acme.com/sso", "", "has a path, query or fragment; type only the origin, https://login.acme.com"},
		{"https://login.acme.com?x=1", "", "type only the origin"},
		{"login.acme.com", "", "has no scheme; type https://login.acme.com"},
		{"ftp://login.acme.com", "", "scheme \"ftp\" is not supported"},
		{"", "", "org URL is empty"},
		{"https://:", "", "has no host name"},
		{"https://:8443", "", "has no host name"},
	} {
		got, err := ParseCustomDomainOrgURL(tc.in)
		switch {
		case tc.hint == "" && (err != nil || got.String() != tc.want):
			t.Errorf("ParseCustomDomainOrgURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		case tc.hint != "" && (err == nil || !strings.Contains(err.Error(), tc.hint)):
			t.Errorf("ParseCustomDomainOrgURL(%q) = %v; want it to say %q", tc.in, err, tc.hint)
		case err != nil && strings.Contains(err.Error(), "pw@"):
			t.Errorf("error echoes user info: %v", err)
		}
	}
}

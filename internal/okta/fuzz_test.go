package okta

import (
	"encoding/json"
	"strings"
	"testing"
)

func FuzzParseOrgURL(f *testing.F) {
	for _, s := range []string{"https://acme.okta.com", "http://127.0.0.1:8080/", "https://acme-admin.okta.com", "https://a.okta.com.com", "https://[::1]:1", "https://login.acme.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseOrgURL(s, "login.acme.com")
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		again, err := ParseOrgURL(o.String(), "login.acme.com")
		if err != nil || again.String() != o.String() {
			t.Fatalf("%q → %q does not re-parse to itself: %q, %v", s, o, again, err)
		}
		if strings.Count(o.String(), "/") != 2 || strings.ContainsAny(o.String(), "?#@") {
			t.Fatalf("%q accepted with path, query or user info: %q", s, o)
		}
		// Whatever the Okta-domain policy accepts, the custom-domain policy accepts the same way.
		if c, err := ParseCustomDomainOrgURL(s); err != nil || c.String() != o.String() {
			t.Fatalf("%q → %q, but as a custom domain %q, %v", s, o, c, err)
		}
	})
}

func FuzzParseCustomDomainOrgURL(f *testing.F) {
	for _, s := range []string{"https://login.acme.com", "https://sso.example.org:8443/", "http://login.acme.com", "https://u@x.example", "https://x.example/p"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseCustomDomainOrgURL(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		again, err := ParseCustomDomainOrgURL(o.String())
		if err != nil || again.String() != o.String() {
			t.Fatalf("%q → %q does not re-parse to itself: %q, %v", s, o, again, err)
		}
		if strings.Count(o.String(), "/") != 2 || strings.ContainsAny(o.String(), "?#@") {
			t.Fatalf("%q accepted with path, query or user info: %q", s, o)
		}
		if !strings.HasPrefix(o.String(), "https://") && !isLoopbackHost(strings.Trim(o.URL("", nil).Hostname(), "[]")) {
			t.Fatalf("%q accepted over plain http: %q", s, o)
		}
	})
}

func FuzzDecodePage(f *testing.F) {
	for _, s := range []string{`[]`, `[{"uuid":"a"}]`, `[{"uuid":"a"},{"uu`, `null`, `{}`, `[1]`, `[{}] x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		items, err := decodeArray("/api/v1/logs", body)
		if err != nil {
			return
		}
		for _, it := range items {
			var m map[string]json.RawMessage
			if json.Unmarshal(it, &m) != nil {
				t.Fatalf("accepted a non-object item %q", it)
			}
		}
	})
}

func FuzzParsePrivateKey(f *testing.F) {
	for _, s := range []string{"", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", `{"kty":"EC","crv":"P-256"}`, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAA==\n-----END ENCRYPTED PRIVATE KEY-----\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParsePrivateKey(data)
		if err == nil && k.Signer == nil {
			t.Fatal("nil signer without error")
		}
	})
}

package okta

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestParseOrgMetadata(t *testing.T) {
	okBody := `{"id":"00o1n8sbwArJ7OQRw4x7","pipeline":"idx","settings":{"analyticsCollectionEnabled":false},"_links":{"organization":{"href":"https://acme.okta.com"},"alternate":{"href":"https://login.acme.com"}}}`
	got, err := parseOrgMetadata("login.acme.com", 200, []byte(okBody))
	if err != nil || got != (Organization{ID: "00o1n8sbwArJ7OQRw4x7", URL: "https://acme.okta.com", Alternate: "https://login.acme.com"}) {
		t.Fatalf("got %+v, %v", got, err)
	}
	for _, c := range []struct {
		status int
		body   string
		want   string
	}{
		{404, `<html>not found</html>`, "login.acme.com does not answer as an Okta org: GET /.well-known/okta-organization answered HTTP 404 instead of the org's id"},
		{200, `<html>welcome</html>`, "answered something other than JSON"},
		{200, `{"issuer":"https://login.acme.com"}`, "answered without an org id (00o…)"},
		{200, `{"id":"00u1n8sbwArJ7OQRw4x7"}`, "without an org id"},
		{200, `{"id":"00o<script>"}`, "without an org id"},
		{200, `{"id":"00o1n8sbwArJ7OQRw4x7AAAA"}`, "without an org id"},
		{200, `{"id":"00o1n8sbwArJ7OQRw4x7","x":"` + strings.Repeat("a", maxOrgMetadata) + `"}`, "more than 64 KiB"},
	} {
		_, err := parseOrgMetadata("login.acme.com", c.status, []byte(c.body))
		var notOkta *NotOktaError
		if !errors.As(err, &notOkta) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%d %.40q: %v, want %q", c.status, c.body, err, c.want)
		}
	}
}

func FuzzParseOrgMetadata(f *testing.F) {
	f.Add(200, []byte(`{"id":"00o1n8sbwArJ7OQRw4x7","_links":{"organization":{"href":"https://acme.okta.com"}}}`))
	f.Add(200, []byte(`{"id":null}`))
	f.Add(500, []byte(``))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		o, err := parseOrgMetadata("acme.okta.com", status, body)
		if err == nil && !validOrgID(o.ID) {
			t.Fatalf("accepted org id %q", o.ID)
		}
	})
}

// selfSigned returns a certificate for names valid from notBefore to notAfter, signed by itself.
func selfSigned(t *testing.T, names []string, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Inspecting Proxy CA", Organization: []string{"Corp"}},
		DNSNames: names, NotBefore: notBefore, NotAfter: notAfter, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// Each refused certificate is explained with its fix: an unknown authority and a name mismatch
// point to --ca-file and SSL_CERT_FILE, an expired certificate to the clock.
func TestExplainTLSError(t *testing.T) {
	now := time.Now()
	for _, c := range []struct {
		name           string
		cert           tls.Certificate
		trust          bool
		detail, fixHas string
	}{
		{"unknown authority", selfSigned(t, []string{"acme.okta.com"}, now.Add(-time.Hour), now.Add(time.Hour)), false,
			`the certificate acme.okta.com presented is signed by an unknown authority ("CN=Inspecting Proxy CA,O=Corp")`, "--ca-file /path/to/proxy-ca.pem"},
		{"name mismatch", selfSigned(t, []string{"proxy.corp.example"}, now.Add(-time.Hour), now.Add(time.Hour)), true,
			"the certificate acme.okta.com presented is for proxy.corp.example, not acme.okta.com", "SSL_CERT_FILE=/path/to/bundle.pem"},
		{"expired", selfSigned(t, []string{"acme.okta.com"}, now.Add(-48*time.Hour), now.Add(-24*time.Hour)), true,
			"the certificate acme.okta.com presented has expired or is not yet valid", "check this host's clock"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			ts.TLS = &tls.Config{Certificates: []tls.Certificate{c.cert}}
			ts.StartTLS()
			defer ts.Close()
			pool := x509.NewCertPool()
			if c.trust {
				leaf, _ := x509.ParseCertificate(c.cert.Certificate[0])
				pool.AddCert(leaf)
			}
			tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "acme.okta.com"}}
			defer tr.CloseIdleConnections()
			org, _ := ParseOrgURL("http://" + ts.Listener.Addr().String())
			u := "https://" + org.Host() + OrgMetadataPath
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
			_, err := (&http.Client{Transport: tr}).Do(req)
			if err == nil {
				t.Fatal("certificate accepted")
			}
			p, ok := ExplainTLSError(err, "acme.okta.com")
			if !ok || !strings.Contains(p.Detail, c.detail) || !strings.Contains(p.Fix, c.fixHas) {
				t.Fatalf("%v:\n detail %q\n fix %q\n want %q / %q", err, p.Detail, p.Fix, c.detail, c.fixHas)
			}
		})
	}
	if _, ok := ExplainTLSError(errors.New("dial tcp: connection refused"), "acme.okta.com"); ok {
		t.Error("a refused connection explained as a certificate problem")
	}
}

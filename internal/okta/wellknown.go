package okta

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// OrgMetadataPath is Okta's public, unauthenticated org metadata endpoint.
const OrgMetadataPath = "/.well-known/okta-organization"

// maxOrgMetadata bounds the org metadata body read (Okta's is a few hundred bytes).
const maxOrgMetadata = 64 << 10

// Organization is an org's identity as GET /.well-known/okta-organization publishes it.
type Organization struct {
	// ID is the org id (00o…): the same whichever of the org's domains answered.
	ID string `json:"id"`
	// URL is the org's Okta domain (_links.organization), e.g. https://acme.okta.com.
	URL string `json:"url,omitempty"`
	// Alternate is the org's custom URL domain (_links.alternate), when it has one.
	Alternate string `json:"alternate,omitempty"`
}

// NotOktaError says that a host answered HTTPS but not as an Okta org: no org id where Okta
// publishes one.
type NotOktaError struct {
	Host   string
	Reason string
}

// Error names the host and what it answered.
func (e *NotOktaError) Error() string {
	return fmt.Sprintf("%s does not answer as an Okta org: GET %s %s", e.Host, OrgMetadataPath, e.Reason)
}

// FetchOrganization asks the org who it is, without credentials. hc nil means a client with a
// 15-second timeout. A transport failure is returned as it came (see ExplainTLSError); an answer
// that is not Okta's org metadata is a *NotOktaError. Redirects are not followed: an Okta org
// answers this path itself, on its Okta domain and on its custom domains.
func FetchOrganization(ctx context.Context, hc *http.Client, org OrgURL) (Organization, error) {
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	nc := *hc
	nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, org.URL(OrgMetadataPath, nil).String(), nil)
	if err != nil {
		return Organization{}, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := nc.Do(req)
	if err != nil {
		return Organization{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxOrgMetadata+1))
	if err != nil {
		return Organization{}, fmt.Errorf("%s: reading %s: %w", org.Host(), OrgMetadataPath, err)
	}
	return parseOrgMetadata(org.Host(), resp.StatusCode, body)
}

// parseOrgMetadata reads the body of GET /.well-known/okta-organization.
func parseOrgMetadata(host string, status int, body []byte) (Organization, error) {
	if status != http.StatusOK {
		return Organization{}, &NotOktaError{Host: host, Reason: fmt.Sprintf("answered HTTP %d instead of the org's id", status)}
	}
	if len(body) > maxOrgMetadata {
		return Organization{}, &NotOktaError{Host: host, Reason: "answered more than 64 KiB instead of the org's id"}
	}
	var m struct {
		ID    string `json:"id"`
		Links struct {
			Organization struct {
				Href string `json:"href"`
			} `json:"organization"`
			Alternate struct {
				Href string `json:"href"`
			} `json:"alternate"`
		} `json:"_links"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return Organization{}, &NotOktaError{Host: host, Reason: "answered something other than JSON"}
	}
	if !validOrgID(m.ID) {
		return Organization{}, &NotOktaError{Host: host, Reason: "answered without an org id (00o…)"}
	}
	return Organization{ID: m.ID, URL: truncate(m.Links.Organization.Href, 300), Alternate: truncate(m.Links.Alternate.Href, 300)}, nil
}

// validOrgID reports whether id has the shape of an Okta org id: 00o and up to 17 more letters
// or digits (ids are 20 characters; older orgs' may be shorter).
func validOrgID(id string) bool {
	if len(id) < 4 || len(id) > 20 || !strings.HasPrefix(id, "00o") {
		return false
	}
	for _, c := range id[3:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// TLSProblem explains a certificate the client refused, with the fix.
type TLSProblem struct {
	// Detail says what is wrong with the certificate in words.
	Detail string
	// Fix says what to do: trust the inspecting proxy's CA, or correct DNS or the clock.
	Fix string
}

// ExplainTLSError recognizes a refused server certificate in err (as http.Client returns it) and
// says what it means for host and how to fix it; ok is false for any other error.
func ExplainTLSError(err error, host string) (p TLSProblem, ok bool) {
	trust := fmt.Sprintf("if a proxy inspects TLS on this network, give idwatch its CA certificate: --ca-file /path/to/proxy-ca.pem on integrations add, update or verify (or, for every connection of the process, SSL_CERT_FILE=/path/to/bundle.pem or SSL_CERT_DIR); otherwise check that %s resolves to Okta and not to another server", host)
	var unknown x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verr *tls.CertificateVerificationError
	switch {
	case errors.As(err, &unknown):
		issuer := "an unnamed issuer"
		if unknown.Cert != nil && unknown.Cert.Issuer.String() != "" {
			issuer = fmt.Sprintf("%q", truncate(unknown.Cert.Issuer.String(), 200))
		}
		return TLSProblem{Detail: fmt.Sprintf("the certificate %s presented is signed by an unknown authority (%s), as when a proxy inspects TLS or a private CA signs it", host, issuer), Fix: trust}, true
	case errors.As(err, &hostErr):
		names := "no names"
		if hostErr.Certificate != nil {
			names = strings.Join(hostErr.Certificate.DNSNames, ", ")
		}
		return TLSProblem{Detail: fmt.Sprintf("the certificate %s presented is for %s, not %s", host, truncate(names, 200), host), Fix: trust}, true
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return TLSProblem{Detail: fmt.Sprintf("the certificate %s presented has expired or is not yet valid (%s)", host, invalid.Detail),
			Fix: "check this host's clock (the certificate is checked against it); if the clock is right, the server or an inspecting proxy serves an out-of-date certificate: renew it, or give the proxy's current CA with --ca-file"}, true
	case errors.As(err, &verr):
		return TLSProblem{Detail: fmt.Sprintf("the certificate %s presented was refused: %v", host, verr.Err), Fix: trust}, true
	}
	return TLSProblem{}, false
}

// CertificateError is a request refused because the server's certificate was not accepted; Host
// names the org host the request went to, for ExplainTLSError.
type CertificateError struct {
	Host string
	Err  error
}

// Error is the underlying TLS error.
func (e *CertificateError) Error() string { return e.Err.Error() }

// Unwrap returns the TLS error.
func (e *CertificateError) Unwrap() error { return e.Err }

package collect

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/store"
)

// DialFunc opens a network connection, like net.Dialer.DialContext.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// ParseCABundle reads a PEM bundle of CA certificates (an inspecting proxy's CA, a private CA)
// and returns how many certificates it holds. A bundle without one is an error naming the fix.
func ParseCABundle(pemText []byte) (int, error) {
	n := 0
	for rest := pemText; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return 0, fmt.Errorf("certificate %d of the CA bundle does not parse (%v); export the CA certificate again as PEM", n+1, err)
		}
		n++
	}
	if n == 0 {
		return 0, errors.New("holds no PEM certificate (-----BEGIN CERTIFICATE-----); give the CA certificate of the TLS-inspecting proxy or private CA in PEM form (convert a DER .cer/.crt with: openssl x509 -inform der -in ca.cer -out ca.pem)")
	}
	return n, nil
}

// httpClientFor returns the HTTP client an integration's requests use: base (nil: the okta
// package's default) with caPEM's certificates trusted on top of the system roots (or on top of
// base's own roots) and dial as the dialer. With neither, base itself is returned.
func httpClientFor(base *http.Client, dial DialFunc, caPEM string) (*http.Client, error) {
	if caPEM == "" && dial == nil {
		return base, nil
	}
	var tr *http.Transport
	if base != nil {
		if bt, ok := base.Transport.(*http.Transport); ok {
			tr = bt.Clone()
		} else if base.Transport != nil {
			return nil, errors.New("collect: an integration's CA bundle or dialer needs an *http.Transport")
		}
	}
	if tr == nil {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if caPEM != "" {
		if _, err := ParseCABundle([]byte(caPEM)); err != nil {
			return nil, fmt.Errorf("the integration's CA bundle %w", err)
		}
		pool := tr.TLSClientConfig.RootCAs
		if pool != nil {
			pool = pool.Clone()
		} else if pool, _ = x509.SystemCertPool(); pool == nil {
			pool = x509.NewCertPool()
		}
		pool.AppendCertsFromPEM([]byte(caPEM))
		tr.TLSClientConfig.RootCAs = pool
	}
	if dial != nil {
		tr.DialContext = dial
	}
	hc := &http.Client{Transport: tr}
	if base != nil {
		hc.Timeout, hc.Jar, hc.CheckRedirect = base.Timeout, base.Jar, base.CheckRedirect
	}
	return hc, nil
}

// orgURLOf parses an integration's org URL under its own policy: any https host when it is a
// custom URL domain, an Okta domain otherwise. domains is what okta.Config.CustomDomains needs.
func orgURLOf(in store.Integration) (org okta.OrgURL, domains []string, err error) {
	if !in.CustomDomain {
		org, err = okta.ParseOrgURL(in.OrgURL)
		return org, nil, err
	}
	if org, err = okta.ParseCustomDomainOrgURL(in.OrgURL); err != nil {
		return org, nil, err
	}
	return org, []string{org.Hostname()}, nil
}

package oktasim

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// certLifetime is how long the generated CA and server certificate are valid.
const certLifetime = 30 * 24 * time.Hour

// orgCA is the certificate authority a TLS simulation generates at start: it signs the server's
// certificate, and clients trust it (the info file's caPem) instead of the system roots.
type orgCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

// parseAdvertisedOrgURL validates an advertised org URL: https, a host, no path, query, fragment or
// user info. It returns the URL without a trailing slash and without the default port.
func parseAdvertisedOrgURL(raw string) (string, string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return "", "", fmt.Errorf("org URL %q must be an https URL such as https://acme.okta.com", raw)
	}
	if !strings.EqualFold(u.Scheme, "https") {
		return "", "", fmt.Errorf("org URL %q must use https (the org is served over TLS with a generated certificate for its host); type https://%s", raw, u.Host)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", "", fmt.Errorf("org URL %q must have no path, query, fragment or user info; type https://%s", raw, u.Host)
	}
	host := strings.ToLower(u.Hostname())
	hostport := host
	if strings.Contains(host, ":") {
		hostport = "[" + host + "]"
	}
	if p := u.Port(); p != "" && p != "443" {
		hostport = net.JoinHostPort(host, p)
	}
	return "https://" + hostport, host, nil
}

// certValidity is the validity window of the generated certificates: from an hour before the
// earlier of the simulation's time and the wall clock to certLifetime after the later. TLS clients
// check certificates against the wall clock, while a simulation may run on a clock of its own.
func certValidity(simNow time.Time) (time.Time, time.Time) {
	wall := time.Now()
	return minTime(simNow, wall).Add(-time.Hour), maxTime(simNow, wall).Add(certLifetime)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// newOrgCA generates a P-256 CA certificate.
func newOrgCA(now time.Time) (*orgCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "oktasim CA", Organization: []string{"oktasim"}},
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature}
	tmpl.NotBefore, tmpl.NotAfter = certValidity(now)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	return &orgCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// serverCert issues a server certificate for localhost, the loopback addresses, the listen address
// and the advertised hosts (the org URL's and its custom domains').
func (ca *orgCA) serverCert(addr net.Addr, hosts []string, now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generate TLS key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "oktasim"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}}
	if tcp, ok := addr.(*net.TCPAddr); ok && !tcp.IP.IsUnspecified() && !tcp.IP.IsLoopback() {
		tmpl.IPAddresses = append(tmpl.IPAddresses, tcp.IP)
	}
	for i, host := range hosts {
		if ip := net.ParseIP(host); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if host != "localhost" && host != "" {
			if i == 0 {
				tmpl.Subject.CommonName = host
			}
			tmpl.DNSNames = append(tmpl.DNSNames, host)
		}
	}
	tmpl.NotBefore, tmpl.NotAfter = certValidity(now)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create TLS certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key}, nil
}

func randomSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, fmt.Errorf("generate certificate serial: %w", err)
	}
	return serial, nil
}

// CertPool returns a pool holding the simulation's CA, for clients of a TLS simulation; nil when it
// serves plain http.
func (sim *Simulation) CertPool() *x509.CertPool {
	if sim.Info.CAPEM == "" {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(sim.Info.CAPEM))
	return pool
}

// Transport returns an HTTP transport for clients of this simulation: it trusts the simulation's
// CA, and connections to the org URL's host or a custom domain's (on any port, since some clients,
// like Okta's Go SDK, keep only the host name and dial the scheme's default port) go to the
// listener (DialContext). Every other host is refused, so a test cannot reach the real Okta by
// mistake.
func (sim *Simulation) Transport() *http.Transport {
	tr := &http.Transport{
		DialContext:           sim.DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: sim.CertPool(), MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: time.Minute,
	}
	return tr
}

// hosts returns the lower-case host names the simulation answers for: the org URL's first, then
// its custom domains'.
func (sim *Simulation) hosts() []string {
	var hosts []string
	for _, raw := range append([]string{sim.Info.OrgURL}, sim.Info.CustomDomains...) {
		if u, err := url.Parse(raw); err == nil && u.Hostname() != "" {
			hosts = append(hosts, strings.ToLower(u.Hostname()))
		}
	}
	return hosts
}

// DialContext connects to the simulation's listener when addr names the org URL's host or a
// custom domain's, on any port, and refuses every other address. Clients that build their own
// transport (and their own trust) use it as their dialer.
func (sim *Simulation) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	hosts := sim.hosts()
	if err != nil || !slices.Contains(hosts, strings.ToLower(host)) {
		return nil, fmt.Errorf("oktasim dialer: %s is not the simulated org (%s)", addr, strings.Join(hosts, ", "))
	}
	var d net.Dialer
	return d.DialContext(ctx, network, sim.Info.Address)
}

package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBadConfigs: every bad server section is refused with an error naming the setting and how
// to fix it.
func TestBadConfigs(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"listen without a port", Config{Listen: "127.0.0.1"}, `listen "127.0.0.1" is not host:port`},
		{"cert without key", Config{TLS: TLS{CertFile: "c.pem"}}, "cert_file and key_file go together"},
		{"key without cert", Config{TLS: TLS{KeyFile: "k.pem"}}, "cert_file and key_file go together"},
		{"any origin", Config{CORS: CORS{AllowedOrigins: []string{"*"}}}, `allowed_origins "*"`},
		{"origin with a path", Config{CORS: CORS{AllowedOrigins: []string{"https://console.example.com/app"}}}, "is not scheme://host[:port]"},
		{"origin without scheme", Config{CORS: CORS{AllowedOrigins: []string{"console.example.com"}}}, "is not scheme://host[:port]"},
		{"proxy that is no address", Config{TrustedProxies: []string{"proxy.internal"}}, "neither an address nor a CIDR range"},
		{"bad proxy range", Config{TrustedProxies: []string{"10.0.0.0/33"}}, "neither an address nor a CIDR range"},
		{"metrics auth", Config{MetricsAuth: "open"}, `metrics_auth "open" is not loopback, key or none`},
		{"tiny body limit", Config{MaxBodyBytes: 100}, "max_body_bytes 100 is under 4096"},
		{"negative body limit", Config{MaxBodyBytes: -1}, "max_body_bytes -1"},
		{"sub-second timeout", Config{ReadTimeout: 10 * time.Millisecond}, "read_timeout 10ms is under a second"},
		{"negative timeout", Config{IdleTimeout: -time.Second}, "idle_timeout -1s is under a second"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "server: ") {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
	good := Config{Listen: ":8443", TLS: TLS{CertFile: "c", KeyFile: "k"}, CORS: CORS{AllowedOrigins: []string{"https://console.example.com"}},
		TrustedProxies: []string{"10.0.0.5", "10.0.0.0/8", "::1"}, MetricsAuth: MetricsKey, MaxBodyBytes: 1 << 20, ReadTimeout: 30 * time.Second}
	if err := good.Validate(); err != nil {
		t.Fatalf("a good section: %v", err)
	}
	if err := (Config{}).Validate(); err != nil {
		t.Fatalf("the empty section (all defaults): %v", err)
	}
}

// writeCert writes a self-signed certificate for name and its key.
func writeCert(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestCertificateReload: a renewed certificate is served from the next check on; a renewal that
// does not load keeps the previous certificate; an unreadable pair at start is refused.
func TestCertificateReload(t *testing.T) {
	dir := t.TempDir()
	cf, kf := writeCert(t, dir, "a.example")
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	r, err := newCertReloader(cf, kf, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	r.now = func() time.Time { return now }
	name := func() string {
		t.Helper()
		c, err := r.GetCertificate(nil)
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := x509.ParseCertificate(c.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return leaf.Subject.CommonName
	}
	if got := name(); got != "a.example" {
		t.Fatalf("first certificate %q", got)
	}
	writeCert(t, dir, "renewed-b.example")
	// Set a distinct modification time: a renewal within the same tick must still be seen.
	later := time.Now().Add(time.Minute)
	for _, f := range []string{cf, kf} {
		if err := os.Chtimes(f, later, later); err != nil {
			t.Fatal(err)
		}
	}
	if got := name(); got != "a.example" {
		t.Fatalf("checked again within a second: %q", got)
	}
	now = now.Add(2 * time.Second)
	if got := name(); got != "renewed-b.example" {
		t.Fatalf("after the renewal %q", got)
	}
	if err := os.WriteFile(kf, []byte("-----BEGIN EC PRIVATE KEY-----\nhalf written"), 0o600); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Second)
	if got := name(); got != "renewed-b.example" {
		t.Fatalf("a renewal that does not load replaced the certificate: %q", got)
	}
	if _, err := newCertReloader(cf, kf, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "check cert_file and key_file") {
		t.Fatalf("a broken pair at start: %v", err)
	}
}

package server

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// DefaultListen is where the API listens unless server.listen says otherwise: loopback only, so
// that a fresh install exposes nothing to the network.
const DefaultListen = "127.0.0.1:8080"

// DefaultMaxBodyBytes bounds a request body unless server.max_body_bytes says otherwise.
const DefaultMaxBodyBytes = 1 << 20

// Metrics access modes (server.metrics_auth).
const (
	// MetricsLoopback serves /metrics without a key to loopback clients and asks others for a
	// viewer key (the default).
	MetricsLoopback = "loopback"
	// MetricsKey always asks for a viewer key.
	MetricsKey = "key"
	// MetricsNone serves /metrics to anyone who can reach the port.
	MetricsNone = "none"
)

// Config is the `server:` section of the configuration file.
type Config struct {
	// Listen is the address of the API (default 127.0.0.1:8080).
	Listen string `yaml:"listen"`
	TLS    TLS    `yaml:"tls"`
	CORS   CORS   `yaml:"cors"`
	// TrustedProxies are the addresses or CIDR ranges of reverse proxies whose X-Forwarded-For
	// is believed for the client address (logs, loopback metrics check); none by default.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// MetricsAuth is loopback (default), key or none: who may read /metrics without an API key.
	MetricsAuth string `yaml:"metrics_auth"`
	// MaxBodyBytes bounds request bodies (default 1 MiB).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout bound each connection
	// (defaults 10s, 30s, 60s, 120s).
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	ReadTimeout       time.Duration `yaml:"read_timeout"`
	WriteTimeout      time.Duration `yaml:"write_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
}

// TLS names the certificate and key files; both or neither. They are read again when they
// change on disk, so a renewed certificate needs no restart.
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// On reports whether TLS is configured.
func (t TLS) On() bool { return t.CertFile != "" || t.KeyFile != "" }

// CORS lets browser pages on other origins call the API; off unless origins are listed.
type CORS struct {
	// AllowedOrigins are exact origins (scheme://host[:port]) allowed to call the API.
	AllowedOrigins []string `yaml:"allowed_origins"`
}

// Validate checks the section; every problem is named with its fix.
func (c Config) Validate() error {
	var errs []error
	if c.Listen != "" {
		if _, port, err := net.SplitHostPort(c.Listen); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("listen %q is not host:port; use e.g. 127.0.0.1:8080, or :8080 for every interface", c.Listen))
		}
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		errs = append(errs, errors.New("tls: cert_file and key_file go together; set both, or neither to serve plain HTTP"))
	}
	for _, o := range c.CORS.AllowedOrigins {
		u, err := url.Parse(o)
		if o == "*" {
			errs = append(errs, errors.New(`cors: allowed_origins "*" would let any web page use a logged-in key; list the console's exact origins`))
		} else if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			errs = append(errs, fmt.Errorf("cors: allowed origin %q is not scheme://host[:port]; use e.g. https://console.example.com", o))
		}
	}
	for _, p := range c.TrustedProxies {
		if _, err := parsePrefix(p); err != nil {
			errs = append(errs, fmt.Errorf("trusted_proxies: %q is neither an address nor a CIDR range; use e.g. 10.0.0.5 or 10.0.0.0/8", p))
		}
	}
	switch c.MetricsAuth {
	case "", MetricsLoopback, MetricsKey, MetricsNone:
	default:
		errs = append(errs, fmt.Errorf("metrics_auth %q is not loopback, key or none", c.MetricsAuth))
	}
	if c.MaxBodyBytes < 0 || (c.MaxBodyBytes > 0 && c.MaxBodyBytes < 4096) {
		errs = append(errs, fmt.Errorf("max_body_bytes %d is under 4096; credentials with a private key need a few KiB (0 means the default, 1 MiB)", c.MaxBodyBytes))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"read_header_timeout", c.ReadHeaderTimeout}, {"read_timeout", c.ReadTimeout}, {"write_timeout", c.WriteTimeout}, {"idle_timeout", c.IdleTimeout}} {
		if d.v < 0 || (d.v > 0 && d.v < time.Second) {
			errs = append(errs, fmt.Errorf("%s %s is under a second; use e.g. 30s (0 means the default)", d.name, d.v))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}

// withDefaults fills unset values.
func (c Config) withDefaults() Config {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.MetricsAuth == "" {
		c.MetricsAuth = MetricsLoopback
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.ReadHeaderTimeout, 10*time.Second)
	def(&c.ReadTimeout, 30*time.Second)
	def(&c.WriteTimeout, 60*time.Second)
	def(&c.IdleTimeout, 120*time.Second)
	return c
}

// parsePrefix reads an address or CIDR range.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

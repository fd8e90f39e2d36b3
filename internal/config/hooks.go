package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
)

// Hooks configures the Okta event hook receiver (/hooks/okta/{integration}).
type Hooks struct {
	// Listen is the receiver's own address (host:port), so the API and console need not be
	// exposed to the internet; empty serves the receiver on the API listener.
	Listen string `yaml:"listen"`
	// TLSCert and TLSKey are PEM files; required unless Listen is a loopback address (behind a
	// reverse proxy that terminates TLS on the same host). Relative paths are resolved against
	// the configuration file's directory.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// MaxBodyBytes refuses larger deliveries with 413 (default 8 MiB, 64 KiB..64 MiB).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
}

// Validate checks the section.
func (h Hooks) Validate() error {
	var errs []error
	if (h.TLSCert == "") != (h.TLSKey == "") {
		errs = append(errs, errors.New("tls_cert and tls_key go together; set both or neither"))
	}
	if h.Listen == "" && h.TLSCert != "" {
		errs = append(errs, errors.New("tls_cert and tls_key apply to hooks.listen; set listen, or drop them to use the API listener's TLS"))
	}
	if h.Listen != "" {
		host, port, err := net.SplitHostPort(h.Listen)
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
			errs = append(errs, fmt.Errorf("listen %q is not host:port (such as 127.0.0.1:8443 or :8443)", h.Listen))
		} else if !isLoopback(host) && h.TLSCert == "" {
			errs = append(errs, fmt.Errorf("listen %q is not a loopback address, so Okta would deliver over plain HTTP: set tls_cert and tls_key, or listen on 127.0.0.1 behind a reverse proxy that terminates HTTPS", h.Listen))
		}
	}
	if h.TLSCert != "" && h.TLSKey != "" {
		if _, err := tls.LoadX509KeyPair(h.TLSCert, h.TLSKey); err != nil {
			errs = append(errs, fmt.Errorf("tls_cert %s / tls_key %s: %w", h.TLSCert, h.TLSKey, err))
		}
	}
	if h.MaxBodyBytes != 0 && (h.MaxBodyBytes < 64<<10 || h.MaxBodyBytes > 64<<20) {
		errs = append(errs, fmt.Errorf("max_body_bytes %d is outside 65536..67108864 (64 KiB..64 MiB)", h.MaxBodyBytes))
	}
	return errors.Join(errs...)
}

// isLoopback reports whether host names only the local machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

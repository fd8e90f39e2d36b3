package server

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certReloader serves the certificate of two files and reads them again when either changes, so
// a renewed certificate is used without a restart. A renewal that does not load (half-written
// files, a key that does not match) keeps the previous certificate and is logged.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger
	now               func() time.Time

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string
	checked time.Time
}

func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	c := &certReloader{certFile: certFile, keyFile: keyFile, log: log, now: time.Now}
	if err := c.load(); err != nil {
		return nil, fmt.Errorf("server.tls: %w; check cert_file and key_file (PEM, the key matching the certificate)", err)
	}
	return c, nil
}

// stampOf identifies the files' current versions by size and modification time.
func (c *certReloader) stampOf() (string, error) {
	var st string
	for _, f := range []string{c.certFile, c.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			return "", err
		}
		st += fmt.Sprintf("%d/%d;", fi.Size(), fi.ModTime().UnixNano())
	}
	return st, nil
}

func (c *certReloader) load() error {
	stamp, err := c.stampOf()
	if err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return err
	}
	c.cert, c.stamp = &cert, stamp
	return nil
}

// GetCertificate implements tls.Config.GetCertificate; it looks at the files at most once a second.
func (c *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if now.Sub(c.checked) < time.Second {
		return c.cert, nil
	}
	c.checked = now
	stamp, err := c.stampOf()
	if err != nil || stamp == c.stamp {
		return c.cert, nil
	}
	prev := c.cert
	if err := c.load(); err != nil {
		c.cert = prev
		c.log.Warn("TLS certificate changed on disk but does not load; still serving the previous one", "cert_file", c.certFile, "err", err)
		return c.cert, nil
	}
	c.log.Info("TLS certificate reloaded", "cert_file", c.certFile)
	return c.cert, nil
}

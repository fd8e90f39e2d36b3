package sink

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLSConfig is the TLS client setup shared by network sinks.
type TLSConfig struct {
	Enabled            bool   `yaml:"enabled" doc:"use TLS (https:// and tls:// URLs always do)"`
	CAFile             string `yaml:"ca_file" doc:"PEM file of CAs to trust instead of the system roots"`
	CertFile           string `yaml:"cert_file" doc:"client certificate (PEM) for mutual TLS"`
	KeyFile            string `yaml:"key_file" doc:"client private key (PEM) for mutual TLS"`
	ServerName         string `yaml:"server_name" doc:"name to verify the server certificate against"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify" doc:"do not verify the server certificate (testing only)"`
}

// Validate checks that client certificate and key come together.
func (c TLSConfig) Validate() error {
	if (c.CertFile == "") != (c.KeyFile == "") {
		return errors.New("tls: cert_file and key_file go together")
	}
	return nil
}

// build returns the tls.Config (TLS 1.2 or later), reading the files it names.
func (c TLSConfig) build() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName, InsecureSkipVerify: c.InsecureSkipVerify}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls: ca_file: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls: ca_file %s holds no PEM certificate", c.CAFile)
		}
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls: client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// Topics names the destination (Kafka topic, NATS subject) of each record kind.
type Topics struct {
	Event string `yaml:"event" doc:"destination of raw Okta events"`
	OCSF  string `yaml:"ocsf" doc:"destination of OCSF records"`
	Alert string `yaml:"alert" doc:"destination of alerts"`
	// Incident defaults to the alert destination, so configurations written before incidents
	// existed need no change.
	Incident string `yaml:"incident" doc:"destination of incident findings (default: the alert destination)"`
	// Identity defaults to the alert destination too.
	Identity string `yaml:"identity" doc:"destination of identity inventory records and posture findings (default: the alert destination)"`
}

// of returns the destination of kind k.
func (t Topics) of(k Kind) string {
	switch k {
	case KindOCSF:
		return t.OCSF
	case KindAlert:
		return t.Alert
	case KindIncident:
		if t.Incident != "" {
			return t.Incident
		}
		return t.Alert
	case KindIdentity:
		if t.Identity != "" {
			return t.Identity
		}
		return t.Alert
	}
	return t.Event
}

func (t Topics) validate(what string) error {
	if t.Event == "" || t.OCSF == "" || t.Alert == "" {
		return fmt.Errorf("%s: event, ocsf and alert must all be named", what)
	}
	return nil
}

package collect

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/feature"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
)

// RequestedScopes are the scopes an OAuth integration asks Okta for: its explicit Scopes, else
// exactly what its enabled features need (internal/feature), so nothing more is requested.
func RequestedScopes(in store.Integration) ([]string, error) {
	set, err := feature.FromList(in.Features)
	if err != nil {
		return nil, fmt.Errorf("integration %q: %w", in.Name, err)
	}
	if len(in.Scopes) > 0 {
		return in.Scopes, nil
	}
	return set.Scopes(), nil
}

// Clients builds Okta clients for integrations. Clients of one org share one rate governor.
type Clients struct {
	// Governors hands out the per-org governor; required.
	Governors *okta.GovernorSet
	// HTTPClient, Clock and Logger are passed to every client (nil: the okta package defaults).
	HTTPClient *http.Client
	Clock      clock.Clock
	Logger     *slog.Logger
	// Retry tunes the clients' retries of transient failures (zero: the okta package defaults).
	Retry okta.RetryConfig
	// Dial, when set, opens every connection (nil: the transport's own dialer).
	Dial DialFunc
}

// HTTPClientFor returns the HTTP client the integration's requests use: the shared one, with the
// integration's CA bundle trusted on top of the system roots.
func (c *Clients) HTTPClientFor(in store.Integration) (*http.Client, error) {
	hc, err := httpClientFor(c.HTTPClient, c.Dial, in.CAPEM)
	if err != nil {
		return nil, fmt.Errorf("integration %q: %w", in.Name, err)
	}
	return hc, nil
}

// Client returns a client for the integration.
func (c *Clients) Client(in store.Integration) (*okta.Client, error) {
	if c.Governors == nil {
		return nil, errors.New("collect: Clients needs a GovernorSet")
	}
	creds, err := Credentials(in)
	if err != nil {
		return nil, err
	}
	org, domains, err := orgURLOf(in)
	if err != nil {
		return nil, fmt.Errorf("integration %q: %w", in.Name, err)
	}
	hc, err := c.HTTPClientFor(in)
	if err != nil {
		return nil, err
	}
	var dpop *ecdsa.PrivateKey
	if !in.Credentials.DPoPKeyPEM.IsZero() {
		if dpop, err = ParseDPoPKey(in.Credentials.DPoPKeyPEM.Reveal()); err != nil {
			return nil, fmt.Errorf("integration %q: %w", in.Name, err)
		}
	}
	return okta.New(okta.Config{OrgURL: org.String(), CustomDomains: domains, Credentials: creds, Governor: c.Governors.For(org),
		HTTPClient: hc, Clock: c.Clock, Logger: c.Logger, DPoPKey: dpop, Retry: c.Retry})
}

// Credentials converts an integration's stored secrets to the Okta client's credentials.
func Credentials(in store.Integration) (okta.Credentials, error) {
	switch in.AuthKind {
	case store.AuthAPIToken:
		return okta.Credentials{APIToken: okta.Secret(in.Credentials.APIToken.Reveal())}, nil
	case store.AuthOAuth:
		scopes, err := RequestedScopes(in)
		if err != nil {
			return okta.Credentials{}, err
		}
		return okta.Credentials{ServiceApp: &okta.ServiceApp{ClientID: in.ClientID, KeyID: in.KeyID,
			PrivateKey: okta.Secret(in.Credentials.PrivateKeyPEM.Reveal()), Scopes: scopes}}, nil
	}
	return okta.Credentials{}, fmt.Errorf("integration %q: unknown auth kind %q", in.Name, in.AuthKind)
}

// EnsureDPoPKey gives an OAuth integration a persistent DPoP key, so that its access tokens stay
// bound to the same key across restarts. Other integrations are returned unchanged. When the
// stored record changed since in was read (new credentials), the stored one is used instead, so
// that rotated credentials are never overwritten with the ones they replaced.
func EnsureDPoPKey(ctx context.Context, st store.Integrations, in store.Integration) (store.Integration, error) {
	for range 3 {
		if in.AuthKind != store.AuthOAuth || !in.Credentials.DPoPKeyPEM.IsZero() {
			return in, nil
		}
		key, err := okta.GenerateDPoPKey()
		if err != nil {
			return in, err
		}
		der, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return in, err
		}
		pemKey := secret.New(string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})))
		updated, err := st.SetDPoPKey(ctx, in.ID, pemKey, in.UpdatedAt)
		if err == nil {
			in.Credentials.DPoPKeyPEM, in.UpdatedAt = pemKey, updated
			return in, nil
		}
		if !errors.Is(err, store.ErrChanged) {
			return in, err
		}
		if in, err = st.Integration(ctx, in.ID); err != nil {
			return in, err
		}
	}
	return in, fmt.Errorf("integration %q: its record keeps changing; its DPoP key was not stored, retrying later", in.Name)
}

// ParseDPoPKey parses a stored DPoP key (SEC1 PEM).
func ParseDPoPKey(pemText string) (*ecdsa.PrivateKey, error) {
	b, _ := pem.Decode([]byte(pemText))
	if b == nil {
		return nil, errors.New("stored DPoP key is not PEM; remove and add the integration again")
	}
	key, err := x509.ParseECPrivateKey(b.Bytes)
	if err != nil {
		return nil, errors.New("stored DPoP key is unreadable; remove and add the integration again")
	}
	return key, nil
}

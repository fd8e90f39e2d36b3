package okta

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// Credentials is how an integration authenticates: exactly one of APIToken or ServiceApp is set.
type Credentials struct {
	// APIToken is an SSWS API token created under Security > API > Tokens.
	APIToken Secret
	// ServiceApp is an OAuth 2.0 API Services app using client credentials with private_key_jwt.
	ServiceApp *ServiceApp
}

// ServiceApp holds the settings of an Okta API Services (OAuth service) app.
type ServiceApp struct {
	// ClientID is the app's client id (0oa...).
	ClientID string
	// KeyID is the kid of the public key registered on the app; empty when the JWK given carries it.
	KeyID string
	// PrivateKey is the app's private key: PEM (PKCS#1 or PKCS#8 RSA, SEC1 or PKCS#8 EC) or a JWK.
	PrivateKey Secret
	// Scopes are the Okta API scopes to request, e.g. okta.logs.read.
	Scopes []string
	// DisableDPoP sends plain bearer token requests, for apps where DPoP is not enabled.
	DisableDPoP bool
}

// Validate checks that exactly one credential kind is complete and the private key is usable.
func (c Credentials) Validate() error {
	switch {
	case !c.APIToken.IsZero() && c.ServiceApp != nil:
		return errors.New("credentials: both an API token and a service app are set; configure only one")
	case !c.APIToken.IsZero():
		if strings.ContainsAny(c.APIToken.Reveal(), " \t\r\n") {
			return errors.New("credentials: the API token contains whitespace; paste only the token value (without the SSWS prefix)")
		}
		return nil
	case c.ServiceApp != nil:
		return c.ServiceApp.Validate()
	default:
		return errors.New("credentials: none set; give an API token or a service app's client id, key id and private key")
	}
}

// String describes the credentials without revealing secrets.
func (c Credentials) String() string {
	switch {
	case c.ServiceApp != nil:
		return c.ServiceApp.String()
	case !c.APIToken.IsZero():
		return "api-token(" + redacted + ")"
	}
	return "none"
}

// LogValue describes the credentials in structured logs without revealing secrets.
func (c Credentials) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Validate checks the app settings and parses the private key.
func (a *ServiceApp) Validate() error {
	if a.ClientID == "" {
		return errors.New("service app: client id is empty; copy it from the app's General tab (Client Credentials section)")
	}
	if len(a.Scopes) == 0 {
		return errors.New("service app: no scopes; request at least okta.logs.read")
	}
	for _, s := range a.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n") {
			return fmt.Errorf("service app: scope %q is not a single scope name; list scopes one per entry", s)
		}
	}
	_, err := a.signingKey()
	return err
}

// String describes the app without revealing the key.
func (a *ServiceApp) String() string {
	return fmt.Sprintf("service-app(client_id=%s kid=%s scopes=%s key=%s)", a.ClientID, a.KeyID, strings.Join(a.Scopes, " "), redacted)
}

// LogValue describes the app in structured logs without revealing the key.
func (a *ServiceApp) LogValue() slog.Value { return slog.StringValue(a.String()) }

// signingKey parses the private key and resolves the key id.
func (a *ServiceApp) signingKey() (*SigningKey, error) {
	k, err := ParsePrivateKey([]byte(a.PrivateKey.Reveal()))
	if err != nil {
		return nil, err
	}
	if a.KeyID != "" {
		k.KeyID = a.KeyID
	}
	if k.KeyID == "" {
		return nil, errors.New("service app: key id (kid) is empty; copy the KID shown next to the public key on the app's General tab")
	}
	return k, nil
}

// SigningKey is a parsed client-assertion signing key with its JOSE algorithm and key id.
type SigningKey struct {
	Signer crypto.Signer
	Alg    jose.SignatureAlgorithm
	KeyID  string
}

// ParsePrivateKey parses a service app private key for signing client assertions. It accepts PEM
// (PKCS#1 "RSA PRIVATE KEY", PKCS#8 "PRIVATE KEY", SEC1 "EC PRIVATE KEY") and a private JWK as
// downloaded from the Okta admin console. Errors say what to do and never include key material.
func ParsePrivateKey(data []byte) (*SigningKey, error) {
	trimmed := strings.TrimSpace(string(data))
	if trimmed == "" {
		return nil, errors.New("private key: empty; give the PEM file of the key registered on the service app")
	}
	if strings.HasPrefix(trimmed, "{") {
		return parseJWKKey([]byte(trimmed))
	}
	block, _ := pem.Decode([]byte(trimmed))
	if block == nil {
		return nil, errors.New("private key: not PEM; the file must contain a block starting with -----BEGIN PRIVATE KEY----- (or RSA/EC PRIVATE KEY), including the BEGIN and END lines")
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] != "" {
		return nil, errors.New("private key: the PEM is encrypted with a passphrase; decrypt it first, e.g. `openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-plain.pem`, and store the result as a secret")
	}
	var parsed any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		parsed, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		parsed, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE":
		return nil, fmt.Errorf("private key: got a %s; idwatch needs the private key whose public half is registered on the service app", block.Type)
	default:
		return nil, fmt.Errorf("private key: unsupported PEM block %q; use an RSA (2048 bits or more) or EC P-256 private key in PKCS#8 or PKCS#1/SEC1 PEM", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("private key: the %s block is damaged or of another format; export the key again (PKCS#8: `openssl pkcs8 -topk8 -nocrypt -in key.pem`)", block.Type)
	}
	return keyFromCrypto(parsed, "")
}

func parseJWKKey(data []byte) (*SigningKey, error) {
	var jwk jose.JSONWebKey
	if err := json.Unmarshal(data, &jwk); err != nil {
		return nil, errors.New("private key: looks like a JWK but does not parse; give the private JWK as downloaded from Okta, or the PEM")
	}
	if jwk.IsPublic() {
		return nil, errors.New("private key: the JWK is a public key; give the private JWK (with the \"d\" member) that Okta let you download once")
	}
	return keyFromCrypto(jwk.Key, jwk.KeyID)
}

func keyFromCrypto(k any, kid string) (*SigningKey, error) {
	switch key := k.(type) {
	case *rsa.PrivateKey:
		if key.N.BitLen() < 2048 {
			return nil, fmt.Errorf("private key: RSA key has %d bits; Okta requires at least 2048, generate a new key pair on the app", key.N.BitLen())
		}
		return &SigningKey{Signer: key, Alg: jose.RS256, KeyID: kid}, nil
	case *ecdsa.PrivateKey:
		switch key.Curve {
		case elliptic.P256():
			return &SigningKey{Signer: key, Alg: jose.ES256, KeyID: kid}, nil
		case elliptic.P384():
			return &SigningKey{Signer: key, Alg: jose.ES384, KeyID: kid}, nil
		case elliptic.P521():
			return &SigningKey{Signer: key, Alg: jose.ES512, KeyID: kid}, nil
		}
		return nil, errors.New("private key: unsupported EC curve; use P-256")
	default:
		return nil, fmt.Errorf("private key: %T keys are not accepted by Okta for client assertions; use RSA (2048+) or EC P-256", k)
	}
}

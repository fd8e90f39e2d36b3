package okta

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// GenerateDPoPKey returns a new ECDSA P-256 key for DPoP proofs. Persist it (x509.MarshalECPrivateKey)
// and pass it back in Config.DPoPKey to keep the same key across restarts.
func GenerateDPoPKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// dpopSigner signs RFC 9449 proofs with one P-256 key.
type dpopSigner struct {
	signer     jose.Signer
	thumbprint string // RFC 7638 JWK thumbprint, base64url; the token's cnf.jkt
}

func newDPoPSigner(key *ecdsa.PrivateKey) (*dpopSigner, error) {
	if key == nil || key.Curve != elliptic.P256() {
		return nil, errors.New("DPoP key must be an ECDSA P-256 private key")
	}
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt")
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, opts)
	if err != nil {
		return nil, fmt.Errorf("DPoP signer: %w", err)
	}
	tp, err := (&jose.JSONWebKey{Key: key.Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("DPoP key thumbprint: %w", err)
	}
	return &dpopSigner{signer: s, thumbprint: base64.RawURLEncoding.EncodeToString(tp)}, nil
}

// dpopClaims is the proof payload (RFC 9449 §4.2).
type dpopClaims struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	ATH   string `json:"ath,omitempty"`
	Nonce string `json:"nonce,omitempty"`
}

// proof signs a fresh proof (new jti) for one request. accessToken is empty on token requests.
func (d *dpopSigner) proof(method string, u *url.URL, accessToken, nonce string, iat time.Time) (string, error) {
	c := dpopClaims{JTI: rand.Text(), HTM: method, HTU: HTU(u), IAT: iat.Unix(), Nonce: nonce}
	if accessToken != "" {
		c.ATH = AccessTokenHash(accessToken)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	jws, err := d.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign DPoP proof: %w", err)
	}
	return jws.CompactSerialize()
}

// HTU is the DPoP htu value of a request URL: scheme, host and the percent-decoded path, without
// user info, query or fragment (Okta compares against the decoded path).
func HTU(u *url.URL) string {
	return strings.ToLower(u.Scheme) + "://" + canonicalHost(u) + u.Path
}

// AccessTokenHash is the DPoP ath claim: base64url(SHA-256(token)) without padding.
func AccessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// nonceStore remembers the latest DPoP-Nonce each server handed out. The authorization server and
// the resource server of one org share a host but keep separate nonces, so keys include the role.
type nonceStore struct {
	mu sync.Mutex
	m  map[string]string
}

func (n *nonceStore) get(key string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.m[key]
}

// set records a nonce and reports whether it differs from the one held.
func (n *nonceStore) set(key, nonce string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.m == nil {
		n.m = map[string]string{}
	}
	changed := n.m[key] != nonce
	n.m[key] = nonce
	return changed
}

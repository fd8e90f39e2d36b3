// Package oauth is oktasim's org authorization server: service apps with private-key JWT
// client authentication, DPoP-bound access tokens, and the OAuth check of resource calls,
// each behaving as Okta documents it (okta-api.md §4).
package oauth

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Clock tells the server what time it is; the simulator injects a skewable clock.
type Clock interface{ Now() time.Time }

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

// Config configures a Server. Zero durations take Okta's values.
type Config struct {
	// Issuer is the org URL (scheme and host, no path), e.g. "http://127.0.0.1:8080". It is the
	// iss and aud of access tokens and the realm of challenges.
	Issuer string
	// Clock is the server's notion of now; nil means the system clock.
	Clock Clock
	// SigningKey signs access tokens (RS256); nil generates a 2048-bit key.
	SigningKey *rsa.PrivateKey
	// TokenTTL is the access-token lifetime (Okta: fixed 1 h).
	TokenTTL time.Duration
	// MaxAssertionLifetime bounds how far ahead a client assertion's exp may be (Okta: 1 h).
	MaxAssertionLifetime time.Duration
	// Leeway tolerates clients whose clocks run a little ahead (iat/nbf/exp checks).
	Leeway time.Duration
	// ProofMaxAge is how old a DPoP proof's iat may be (Okta: 5 min).
	ProofMaxAge time.Duration
	// NonceRotation is how often the DPoP nonce changes (Okta: 24 h).
	NonceRotation time.Duration
	// NonceValidity is how long a DPoP nonce is accepted after it was issued (Okta: 72 h).
	NonceValidity time.Duration
	// ResourceNonceRequired makes resource calls demand a valid nonce in the DPoP proof,
	// answering 401 use_dpop_nonce otherwise. Okta does not require one today, so the
	// default is false; a nonce that is sent is then ignored.
	ResourceNonceRequired bool
	// ReplayCacheSize caps remembered jti values (default 1,000,000).
	ReplayCacheSize int
	// OnToken, when set, is called after every token request with its outcome, so the
	// server can write the System Log event Okta writes. It must not block.
	OnToken func(TokenEvent)
	// Logger receives diagnostics; nil discards them. Secrets are never logged.
	Logger *slog.Logger
}

// Validate reports a configuration error, naming the field to fix.
func (c Config) Validate() error {
	u, err := url.Parse(c.Issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("oauth: Issuer %q must be an absolute http(s) org URL such as https://example.okta.com", c.Issuer)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("oauth: Issuer %q must not have a path, query or fragment", c.Issuer)
	}
	for name, d := range map[string]time.Duration{
		"TokenTTL": c.TokenTTL, "MaxAssertionLifetime": c.MaxAssertionLifetime, "Leeway": c.Leeway,
		"ProofMaxAge": c.ProofMaxAge, "NonceRotation": c.NonceRotation, "NonceValidity": c.NonceValidity,
	} {
		if d < 0 {
			return fmt.Errorf("oauth: %s must not be negative", name)
		}
	}
	if c.NonceValidity > 0 && c.NonceRotation > 0 && c.NonceValidity < c.NonceRotation {
		return errors.New("oauth: NonceValidity must be at least NonceRotation, or clients would hold no valid nonce")
	}
	if c.ReplayCacheSize < 0 {
		return errors.New("oauth: ReplayCacheSize must not be negative")
	}
	if c.SigningKey != nil && c.SigningKey.N.BitLen() < 2048 {
		return errors.New("oauth: SigningKey must be an RSA key of at least 2048 bits")
	}
	return nil
}

// withDefaults fills Okta's values into zero fields.
func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.TokenTTL, time.Hour)
	def(&c.MaxAssertionLifetime, time.Hour)
	def(&c.Leeway, 30*time.Second)
	def(&c.ProofMaxAge, 5*time.Minute)
	def(&c.NonceRotation, 24*time.Hour)
	def(&c.NonceValidity, 72*time.Hour)
	if c.ReplayCacheSize == 0 {
		c.ReplayCacheSize = 1_000_000
	}
	if c.Clock == nil {
		c.Clock = ClockFunc(time.Now)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	c.Issuer = strings.TrimSuffix(c.Issuer, "/")
	return c
}

// TokenEvent describes one token request, for the System Log.
type TokenEvent struct {
	Time     time.Time
	ClientID string // empty when the client could not be identified
	// Outcome is "SUCCESS", "FAILURE", or "CHALLENGE" (a use_dpop_nonce answer, which Okta
	// logs as a challenge).
	Outcome string
	// Reason is Okta's internal error code for failures and challenges.
	Reason    string
	Scopes    []string
	TokenID   string // jti of the issued access token
	DPoPBound bool
	RemoteIP  string
}

// Server is the org authorization server. All methods are safe for concurrent use.
type Server struct {
	cfg     Config
	signer  jose.Signer
	pubJWK  jose.JSONWebKey
	nonces  *nonceSet
	replay  *replayCache
	mu      sync.RWMutex
	apps    map[string]*app
	tokens  map[string]*issuedToken
	sweepAt time.Time
}

// New builds a Server from cfg.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	key := cfg.SigningKey
	if key == nil {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, fmt.Errorf("oauth: generate signing key: %w", err)
		}
	}
	kid := "sim" + randomID(12)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), kid))
	if err != nil {
		return nil, fmt.Errorf("oauth: signer: %w", err)
	}
	return &Server{
		cfg:    cfg,
		signer: signer,
		pubJWK: jose.JSONWebKey{Key: &key.PublicKey, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"},
		nonces: newNonceSet(cfg.NonceRotation, cfg.NonceValidity, func() string { return randomID(32) }),
		replay: newReplayCache(cfg.ReplayCacheSize),
		apps:   make(map[string]*app),
		tokens: make(map[string]*issuedToken),
	}, nil
}

// Issuer returns the org URL the server was configured with.
func (s *Server) Issuer() string { return s.cfg.Issuer }

func (s *Server) now() time.Time { return s.cfg.Clock.Now() }

// CurrentNonce returns the DPoP nonce the token endpoint hands out now.
func (s *Server) CurrentNonce() string { return s.nonces.current(s.now()) }

// RotateNonce issues a new DPoP nonce at once and returns it. With invalidatePrevious,
// nonces issued before stop being accepted (a "rotation on demand" fault); without it they
// stay valid for NonceValidity as in Okta's scheduled rotation.
func (s *Server) RotateNonce(invalidatePrevious bool) string {
	return s.nonces.rotateNow(s.now(), invalidatePrevious)
}

// JWKS returns the public keys that verify this server's access tokens.
func (s *Server) JWKS() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{s.pubJWK}}
}

// KeysHandler serves GET /oauth2/v1/keys.
func (s *Server) KeysHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeOAuthError(w, &Error{Status: http.StatusMethodNotAllowed, Code: "invalid_request", Description: "Invalid request"})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=3600")
		_ = json.NewEncoder(w).Encode(s.JWKS())
	})
}

// randomID returns n random bytes, base64url without padding.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

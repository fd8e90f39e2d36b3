package okta

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const (
	tokenPath     = "/oauth2/v1/token"
	assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// assertionLifetime keeps client assertions short-lived; Okta allows up to an hour.
	assertionLifetime = 5 * time.Minute
)

// accessToken is a cached OAuth access token.
type accessToken struct {
	value   Secret
	dpop    bool // token_type DPoP: sent with the DPoP scheme and a proof carrying ath
	expires time.Time
	life    time.Duration
	scope   string
}

// tokenSource fetches and caches service-app access tokens; one fetch runs at a time.
type tokenSource struct {
	c        *Client
	app      *ServiceApp
	signer   jose.Signer
	tokenURL *url.URL

	mu       sync.Mutex
	tok      *accessToken
	fetching chan struct{} // non-nil while a fetch is running; closed when it ends
}

func newTokenSource(c *Client, app *ServiceApp) (*tokenSource, error) {
	key, err := app.signingKey()
	if err != nil {
		return nil, err
	}
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", key.KeyID)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: key.Alg, Key: key.Signer}, opts)
	if err != nil {
		return nil, fmt.Errorf("service app key: %w", err)
	}
	return &tokenSource{c: c, app: app, signer: s, tokenURL: c.org.URL(tokenPath, nil)}, nil
}

// token returns a token valid for at least the renewal margin, fetching one when needed.
func (ts *tokenSource) token(ctx context.Context) (*accessToken, error) {
	for {
		ts.mu.Lock()
		if t := ts.tok; t != nil && ts.c.clock.Now().Before(t.expires.Add(-ts.margin(t))) {
			ts.mu.Unlock()
			return t, nil
		}
		if wait := ts.fetching; wait != nil {
			ts.mu.Unlock()
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-wait:
				continue
			}
		}
		done := make(chan struct{})
		ts.fetching = done
		ts.mu.Unlock()

		t, err := ts.fetch(ctx)
		ts.mu.Lock()
		if err == nil {
			ts.tok = t
		}
		ts.fetching = nil
		close(done)
		ts.mu.Unlock()
		if err != nil {
			return nil, err
		}
		return t, nil
	}
}

// margin is how long before expiry a token is renewed: the configured margin, or half the
// lifetime for tokens shorter than twice the margin.
func (ts *tokenSource) margin(t *accessToken) time.Duration {
	return min(ts.c.cfg.TokenRenewMargin, t.life/2)
}

// invalidate drops the cached token if it is still the one that was rejected.
func (ts *tokenSource) invalidate(rejected *accessToken) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.tok == rejected {
		ts.tok = nil
	}
}

type tokenResponse struct {
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	AccessToken string `json:"access_token"`
	Scope       string `json:"scope"`
}

func (ts *tokenSource) fetch(ctx context.Context) (*accessToken, error) {
	res, err := ts.c.do(ctx, &call{
		method:     "POST",
		url:        ts.tokenURL,
		token:      true,
		idempotent: true, // each attempt carries a fresh assertion, so a retry is always safe
		form:       ts.form,
	})
	if err != nil {
		return nil, fmt.Errorf("get access token: %w", err)
	}
	var tr tokenResponse
	if err := json.Unmarshal(res.body, &tr); err != nil || tr.AccessToken == "" {
		return nil, fmt.Errorf("get access token: the token endpoint answered %d without a usable access_token (is %s an Okta org?)", res.status, ts.c.org)
	}
	typ := strings.ToLower(tr.TokenType)
	if typ != "dpop" && typ != "bearer" {
		return nil, fmt.Errorf("get access token: unsupported token_type %q", clean(tr.TokenType, 32))
	}
	life := time.Duration(tr.ExpiresIn) * time.Second
	if life <= 0 {
		life = time.Hour
	}
	return &accessToken{value: Secret(tr.AccessToken), dpop: typ == "dpop" && ts.c.dpop != nil, expires: res.received.Add(life), life: life, scope: tr.Scope}, nil
}

// form builds the token request body with a fresh client assertion.
func (ts *tokenSource) form(now time.Time) (string, error) {
	claims := map[string]any{
		"iss": ts.app.ClientID,
		"sub": ts.app.ClientID,
		"aud": ts.tokenURL.String(),
		"iat": now.Unix(),
		"exp": now.Add(assertionLifetime).Unix(),
		"jti": rand.Text(),
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := ts.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign client assertion: %w", err)
	}
	assertion, err := jws.CompactSerialize()
	if err != nil {
		return "", err
	}
	v := url.Values{
		"grant_type":            {"client_credentials"},
		"scope":                 {strings.Join(ts.app.Scopes, " ")},
		"client_assertion_type": {assertionType},
		"client_assertion":      {assertion},
	}
	return v.Encode(), nil
}

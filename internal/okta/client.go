// Package okta is idwatch's client for one Okta org: SSWS API tokens or OAuth service apps with
// private-key JWT client assertions and DPoP-bound tokens, a per-org rate governor shared by every
// caller, retries that never repeat what Okta refused, typed errors that name their fix, and thin
// typed calls for the System Log, users, roles, schema, groups and lifecycle actions.
package okta

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
)

// Config configures a Client. Validate reports what to fix.
type Config struct {
	// OrgURL is the org's base URL, e.g. https://acme.okta.com (see ParseOrgURL).
	OrgURL string
	// CustomDomains lists custom URL domains the user declared as this org's (login.acme.com).
	CustomDomains []string
	// Credentials is the API token or service app.
	Credentials Credentials
	// Governor paces requests; pass the org's shared governor. Nil gives the client its own.
	Governor *Governor
	// HTTPClient sends the requests; nil uses a client with sane transport timeouts. Redirects are
	// never followed whatever the client's policy.
	HTTPClient *http.Client
	// Clock and Logger default to the system clock and slog.Default().
	Clock  clock.Clock
	Logger *slog.Logger
	// DPoPKey is the P-256 key DPoP proofs are signed with; nil generates one per client.
	DPoPKey *ecdsa.PrivateKey
	// TokenRenewMargin renews an access token this long before it expires (default 5m; at most
	// half the token's lifetime).
	TokenRenewMargin time.Duration
	// Retry tunes retries of transient failures.
	Retry RetryConfig
	// MaxResponseBytes bounds a response body (default 64 MiB).
	MaxResponseBytes int64
	// UserAgent is sent with every request (default "idwatch").
	UserAgent string
}

// RetryConfig tunes retries. Only 5xx, network errors and timeouts of idempotent requests are
// retried with backoff; 429s are waited out through the governor; other 4xx are never retried
// except for a DPoP nonce challenge and one token renewal.
type RetryConfig struct {
	// MaxRetries is the number of retries after a transient failure (default 4; -1 disables).
	MaxRetries int
	// BaseDelay and MaxDelay bound the jittered exponential backoff (defaults 500ms and 30s).
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// MaxRateLimitWaits is how many 429s one call waits out before failing (default 10).
	MaxRateLimitWaits int
	// AttemptTimeout bounds one attempt including reading the body (default 60s; Okta's own
	// System Log query timeout is 30s).
	AttemptTimeout time.Duration
}

// Validate checks the configuration, including the org URL and the credentials.
func (c Config) Validate() error {
	if _, err := ParseOrgURL(c.OrgURL, c.CustomDomains...); err != nil {
		return err
	}
	if err := c.Credentials.Validate(); err != nil {
		return err
	}
	if c.TokenRenewMargin < 0 || c.MaxResponseBytes < 0 || c.Retry.BaseDelay < 0 || c.Retry.MaxDelay < 0 || c.Retry.AttemptTimeout < 0 || c.Retry.MaxRateLimitWaits < 0 || c.Retry.MaxRetries < -1 {
		return errors.New("okta client: durations, sizes and retry counts must not be negative")
	}
	return nil
}

// Format prints the configuration without secrets under every verb.
func (c Config) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "okta.Config{OrgURL:%s Credentials:%s DPoPKey:%s}", c.OrgURL, c.Credentials, keyMarker(c.DPoPKey))
}

// LogValue describes the configuration in structured logs without secrets.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("org_url", c.OrgURL), slog.String("credentials", c.Credentials.String()))
}

func keyMarker(k *ecdsa.PrivateKey) string {
	if k == nil {
		return "generated"
	}
	return redacted
}

// Client calls one Okta org. It is safe for concurrent use.
type Client struct {
	cfg    Config
	org    OrgURL
	hc     *http.Client
	gov    *Governor
	clock  clock.Clock
	log    *slog.Logger
	dpop   *dpopSigner
	tokens *tokenSource
	nonces nonceStore
	skew   skewTracker
}

// New validates cfg and returns a client.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	org, _ := ParseOrgURL(cfg.OrgURL, cfg.CustomDomains...)
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.TokenRenewMargin == 0 {
		cfg.TokenRenewMargin = 5 * time.Minute
	}
	if cfg.MaxResponseBytes == 0 {
		cfg.MaxResponseBytes = 64 << 20
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "idwatch"
	}
	r := &cfg.Retry
	if r.MaxRetries == 0 {
		r.MaxRetries = 4
	}
	if r.BaseDelay == 0 {
		r.BaseDelay = 500 * time.Millisecond
	}
	if r.MaxDelay == 0 {
		r.MaxDelay = 30 * time.Second
	}
	if r.MaxRateLimitWaits == 0 {
		r.MaxRateLimitWaits = 10
	}
	if r.AttemptTimeout == 0 {
		r.AttemptTimeout = 60 * time.Second
	}
	c := &Client{cfg: cfg, org: org, clock: cfg.Clock, log: cfg.Logger, gov: cfg.Governor}
	if c.gov == nil {
		g, err := NewGovernor(GovernorConfig{Clock: cfg.Clock, Logger: cfg.Logger})
		if err != nil {
			return nil, err
		}
		c.gov = g
	}
	base := cfg.HTTPClient
	if base == nil {
		base = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 45 * time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   10,
			ForceAttemptHTTP2:     true,
		}}
	}
	hc := *base
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.hc = &hc
	if app := cfg.Credentials.ServiceApp; app != nil {
		if !app.DisableDPoP {
			key := cfg.DPoPKey
			if key == nil {
				var err error
				if key, err = GenerateDPoPKey(); err != nil {
					return nil, fmt.Errorf("generate DPoP key: %w", err)
				}
			}
			s, err := newDPoPSigner(key)
			if err != nil {
				return nil, err
			}
			c.dpop = s
		}
		ts, err := newTokenSource(c, app)
		if err != nil {
			return nil, err
		}
		c.tokens = ts
	}
	return c, nil
}

// Org returns the validated org URL.
func (c *Client) Org() OrgURL { return c.org }

// Governor returns the rate governor the client uses.
func (c *Client) Governor() *Governor { return c.gov }

// DPoPThumbprint returns the RFC 7638 thumbprint of the DPoP key (the token's cnf.jkt), or ""
// when DPoP is not used.
func (c *Client) DPoPThumbprint() string {
	if c.dpop == nil {
		return ""
	}
	return c.dpop.thumbprint
}

// TokenScopes returns the scopes Okta granted the service app's current access token, fetching a
// token if none is cached. Okta silently drops requested scopes the app was not granted, so this
// is how verification learns what is really available. API tokens have no scopes: nil, nil.
func (c *Client) TokenScopes(ctx context.Context) ([]string, error) {
	if c.tokens == nil {
		return nil, nil
	}
	t, err := c.tokens.token(ctx)
	if err != nil {
		return nil, err
	}
	return strings.Fields(t.scope), nil
}

// call describes one logical request; do turns it into one or more attempts.
type call struct {
	method     string
	url        *url.URL
	lane       Lane
	token      bool // a token-endpoint request: no Authorization, DPoP proof without ath
	idempotent bool
	form       func(now time.Time) (string, error) // builds a fresh form body per attempt
	jsonBody   []byte                              // a JSON request body (management writes)
}

// result is a successful response, fully read.
type result struct {
	status   int
	header   http.Header
	body     []byte
	received time.Time
}

// attemptState carries what a call has spent on retries so far.
type attemptState struct {
	n         int // attempts made
	transient int
	limited   int
	nonce     int
	renewed   bool
	skewRetry bool
	retryFor  string
}

// do runs a call to completion: governor reservation, fresh credentials and DPoP proof per attempt,
// and the retry rules of RetryConfig. Non-2xx final responses come back as *APIError.
func (c *Client) do(ctx context.Context, cl *call) (*result, error) {
	lane := laneFrom(ctx, cl.lane)
	bucketKey := BucketFor(cl.method, cl.url.Path)
	var st attemptState
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		res, retry, err := c.attempt(ctx, cl, lane, bucketKey, &st)
		if !retry {
			observe(ctx, cl, res, err)
			return res, err
		}
	}
}

// attempt sends one attempt; retry reports whether do should go round again.
func (c *Client) attempt(ctx context.Context, cl *call, lane Lane, bucketKey string, st *attemptState) (*result, bool, error) {
	// The token comes first: a fetch while holding a slot could starve the token bucket of the
	// in-flight slots it needs.
	var tok *accessToken
	if c.tokens != nil && !cl.token {
		t, err := c.tokens.token(ctx)
		if err != nil {
			return nil, false, err
		}
		tok = t
	}
	resv, err := c.gov.Acquire(ctx, lane, bucketKey)
	if err != nil {
		return nil, false, err
	}
	skewBefore := c.skew.get()
	req, usedNonce, err := c.newRequest(ctx, cl, st, tok)
	if err != nil {
		resv.Cancel()
		return nil, false, err
	}
	st.n++
	actx, cancel := context.WithTimeout(ctx, c.cfg.Retry.AttemptTimeout)
	defer cancel()
	resp, err := c.hc.Do(req.WithContext(actx))
	var body []byte
	if err == nil {
		body, err = c.readBody(resp)
	}
	now := c.clock.Now()
	if resp == nil {
		resv.Done(0, nil)
	} else {
		resv.Done(resp.StatusCode, resp.Header)
		c.skew.observe(resp.Header.Get("Date"), now)
		st.retryFor = resp.Header.Get("X-Okta-Request-Id")
	}
	path := cl.url.Path
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		if _, isCert := ExplainTLSError(err, ""); isCert {
			err = &CertificateError{Host: c.org.Hostname(), Err: err}
		}
		if hint, permanent := networkHint(err, c.org); permanent {
			return nil, false, fmt.Errorf("okta %s %s: %w (%s)", cl.method, path, err, hint)
		}
		err = fmt.Errorf("okta %s %s: %w", cl.method, path, err)
		return nil, c.backoff(ctx, cl, st, err), err
	}
	nonceKey := "rs"
	if cl.token {
		nonceKey = "as"
	}
	respNonce := clean(resp.Header.Get("DPoP-Nonce"), 512)
	if respNonce != "" && c.dpop != nil {
		c.nonces.set(nonceKey, respNonce)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return &result{status: resp.StatusCode, header: resp.Header, body: body, received: now}, false, nil
	}
	apiErr := DecodeError(resp.StatusCode, resp.Header, body)
	apiErr.Method, apiErr.Path, apiErr.ServiceApp = cl.method, path, c.tokens != nil
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		apiErr.Summary = "unexpected redirect to " + clean(resp.Header.Get("Location"), 200) + "; use the org's own Okta domain as the org URL"
		return nil, false, apiErr
	}
	switch {
	case apiErr.Kind == KindRateLimited:
		st.limited++
		if st.limited > c.cfg.Retry.MaxRateLimitWaits {
			apiErr.RetryAt = c.gov.blockedUntil(bucketKey)
			return nil, false, apiErr
		}
		c.log.Debug("okta 429; waiting through the governor", "path", path, "lane", lane)
		return nil, true, nil // the governor holds the bucket until the reset
	case apiErr.OAuthError == "use_dpop_nonce" && c.dpop != nil && st.nonce < 3 && respNonce != "" && respNonce != usedNonce:
		// A nonce challenge (400 from the token endpoint, 401 from the resource server): the
		// request was not processed, so it is repeated once with the nonce just handed out.
		st.nonce++
		return nil, true, nil
	case apiErr.Kind == KindInvalidToken && tok != nil && !st.renewed:
		st.renewed = true
		c.tokens.invalidate(tok)
		return nil, true, nil
	case cl.token && (apiErr.Kind == KindInvalidClient || apiErr.Kind == KindDPoP) && !st.skewRetry && absDuration(c.skew.get()-skewBefore) > 10*time.Second:
		// The assertion or proof was stamped with a clock the server disagrees with; the
		// response's Date taught us the offset, so one retry with corrected timestamps.
		st.skewRetry = true
		return nil, true, nil
	case apiErr.Kind == KindServer:
		return nil, c.backoff(ctx, cl, st, apiErr), apiErr
	}
	return nil, false, apiErr
}

// backoff sleeps before a transient retry and reports whether to retry at all.
func (c *Client) backoff(ctx context.Context, cl *call, st *attemptState, cause error) bool {
	if !cl.idempotent || st.transient >= c.cfg.Retry.MaxRetries {
		return false
	}
	st.transient++
	d := c.cfg.Retry.BaseDelay << min(st.transient-1, 20)
	d = min(d, c.cfg.Retry.MaxDelay)
	d = d/2 + rand.N(d/2+1)
	c.log.Debug("okta transient failure; retrying", "method", cl.method, "path", cl.url.Path, "retry", st.transient, "wait", d, "error", cause)
	return clock.Sleep(ctx, c.clock, d) == nil
}

// newRequest builds one attempt's request with fresh credentials and DPoP proof; it returns the
// DPoP nonce the proof carries.
func (c *Client) newRequest(ctx context.Context, cl *call, st *attemptState, tok *accessToken) (*http.Request, string, error) {
	var body io.Reader = http.NoBody
	serverNow := c.skew.serverNow(c.clock.Now())
	form := ""
	if cl.form != nil {
		f, err := cl.form(serverNow)
		if err != nil {
			return nil, "", err
		}
		form = f
		body = strings.NewReader(f)
	} else if cl.jsonBody != nil {
		body = bytes.NewReader(cl.jsonBody)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, cl.url.String(), body)
	if err != nil {
		return nil, "", fmt.Errorf("okta %s %s: %w", cl.method, cl.url.Path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if cl.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.ContentLength = int64(len(form))
	} else if cl.method != http.MethodGet && cl.method != http.MethodHead {
		req.Header.Set("Content-Type", "application/json")
	}
	if st.n > 0 && st.retryFor != "" {
		req.Header.Set("X-Okta-Retry-For", st.retryFor)
		req.Header.Set("X-Okta-Retry-Count", strconv.Itoa(st.n))
	}
	var ath, nonce string
	switch {
	case cl.token:
		nonce = c.nonces.get("as")
	case tok == nil:
		req.Header.Set("Authorization", "SSWS "+c.cfg.Credentials.APIToken.Reveal())
		return req, "", nil
	case !tok.dpop:
		req.Header.Set("Authorization", "Bearer "+tok.value.Reveal())
		return req, "", nil
	default:
		req.Header.Set("Authorization", "DPoP "+tok.value.Reveal())
		ath, nonce = tok.value.Reveal(), c.nonces.get("rs")
	}
	if c.dpop == nil {
		return req, "", nil
	}
	proof, err := c.dpop.proof(cl.method, cl.url, ath, nonce, serverNow)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("DPoP", proof)
	return req, nonce, nil
}

// errBodyTooLarge marks a response over MaxResponseBytes; retrying would only fetch it again.
var errBodyTooLarge = errors.New("response body too large")

func (c *Client) readBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read response body: %w", err)
	}
	if int64(len(b)) > c.cfg.MaxResponseBytes {
		return nil, fmt.Errorf("%w: more than %d bytes; lower the page size (limit) or raise MaxResponseBytes", errBodyTooLarge, c.cfg.MaxResponseBytes)
	}
	return b, nil
}

// networkHint recognises transport failures that retrying cannot fix and says what to check.
func networkHint(err error, org OrgURL) (string, bool) {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	switch {
	case errors.Is(err, errBodyTooLarge):
		return "the page is too large to hold in memory", true
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return fmt.Sprintf("the host %s does not resolve; check the org URL", org.Host()), true
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr):
		return fmt.Sprintf("the TLS certificate of %s is not trusted; a TLS-inspecting proxy's CA must be given with --ca-file or SSL_CERT_FILE", org.Host()), true
	}
	return "", false
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// skewTracker estimates the server clock from response Date headers so that JWT timestamps
// (assertion iat/exp, proof iat) match Okta's clock even when the local clock is off.
type skewTracker struct {
	mu     sync.Mutex
	offset time.Duration
}

func (s *skewTracker) observe(date string, local time.Time) {
	d, err := http.ParseTime(date)
	if err != nil {
		return
	}
	// Date is truncated to the second; the middle of that second is the best estimate.
	off := d.Add(500 * time.Millisecond).Sub(local)
	s.mu.Lock()
	defer s.mu.Unlock()
	if absDuration(off-s.offset) > 2*time.Second {
		s.offset = off
	}
}

func (s *skewTracker) get() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.offset
}

func (s *skewTracker) serverNow(local time.Time) time.Time { return local.Add(s.get()) }

package okta

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/idwatch/idwatch/internal/clock"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func pkcs8PEM(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func newTestClient(t *testing.T, f *fakeOkta, mut func(*Config)) *Client {
	t.Helper()
	cfg := Config{OrgURL: f.srv.URL, Clock: f.clk, Logger: slog.New(slog.DiscardHandler), Credentials: Credentials{APIToken: Secret(f.apiToken)}}
	if mut != nil {
		mut(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fixture is a fake org at t0 and an API-token client for it.
func fixture(t *testing.T) (*clock.Manual, *fakeOkta, *Client) {
	clk := clock.NewManual(t0)
	f := newFakeOkta(t, clk)
	return clk, f, newTestClient(t, f, nil)
}

func serviceApp(t *testing.T, f *fakeOkta, key *rsa.PrivateKey) func(*Config) {
	return func(c *Config) {
		c.Credentials = Credentials{ServiceApp: &ServiceApp{ClientID: f.clientID, KeyID: f.kid, PrivateKey: Secret(pkcs8PEM(t, key)), Scopes: []string{"okta.logs.read", "okta.users.read"}}}
	}
}

// proofClaims decodes the DPoP proof of a logged request without verifying it.
func proofClaims(t *testing.T, r *http.Request) dpopClaims {
	t.Helper()
	jws, err := jose.ParseSigned(r.Header.Get("DPoP"), []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatalf("%s %s: no parseable DPoP proof: %v", r.Method, r.URL.Path, err)
	}
	var c dpopClaims
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDPoPFullFlowWithNonces(t *testing.T) {
	clk := clock.NewManual(t0)
	f := newFakeOkta(t, clk)
	key := f.withServiceApp(true)
	f.asNonce, f.rsNonce = "as-nonce-1", "rs-nonce-1"
	c := newTestClient(t, f, serviceApp(t, f, key))
	ctx := context.Background()

	u, err := c.LogsURL(LogsQuery{Since: t0.Add(-time.Hour), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Logs(ctx, u)
	if err != nil {
		t.Fatalf("Logs: %v", err)
	}
	if !p.NextIsSelf || len(p.Items) != 0 {
		t.Fatalf("page = %+v, want empty caught-up page", p)
	}
	// Token endpoint: a proof on the very first request (no proof-less probe that Okta would log
	// as a failed grant), a nonce challenge, then success.
	if len(f.tokenCalls) != 2 || !f.tokenCalls[0].hadProof || f.tokenCalls[0].status != 400 || f.tokenCalls[1].status != 200 {
		t.Fatalf("token calls = %+v, want [proof→400 use_dpop_nonce, proof+nonce→200]", f.tokenCalls)
	}
	reqs := f.requestLog()
	var tokenReqs, logReqs []*http.Request
	for _, r := range reqs {
		if r.URL.Path == tokenPath {
			tokenReqs = append(tokenReqs, r)
		} else {
			logReqs = append(logReqs, r)
		}
	}
	if n := proofClaims(t, tokenReqs[1]).Nonce; n != "as-nonce-1" {
		t.Errorf("second token proof nonce = %q", n)
	}
	if tokenReqs[0].Header.Get("Authorization") != "" {
		t.Error("token request carried an Authorization header")
	}
	// Resource: first call is challenged for the resource nonce (401), second carries it.
	if len(logReqs) != 2 {
		t.Fatalf("log requests = %d, want 2 (nonce challenge + retry)", len(logReqs))
	}
	jtis := map[string]bool{}
	for i, r := range logReqs {
		pc := proofClaims(t, r)
		if got, want := r.Header.Get("Authorization"), "DPoP at-"; !strings.HasPrefix(got, want) {
			t.Errorf("Authorization = %q, want DPoP scheme", got)
		}
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "DPoP ")
		if pc.ATH != AccessTokenHash(tok) {
			t.Errorf("ath = %q, want hash of the token", pc.ATH)
		}
		if pc.HTU != f.srv.URL+"/api/v1/logs" || strings.Contains(pc.HTU, "?") {
			t.Errorf("htu = %q, want the URL without query", pc.HTU)
		}
		if pc.HTM != "GET" || pc.IAT != t0.Unix() {
			t.Errorf("htm/iat = %s/%d", pc.HTM, pc.IAT)
		}
		if jtis[pc.JTI] {
			t.Errorf("proof %d reuses jti %s", i, pc.JTI)
		}
		jtis[pc.JTI] = true
	}
	if proofClaims(t, logReqs[1]).Nonce != "rs-nonce-1" {
		t.Error("retry after the resource nonce challenge did not carry the nonce")
	}

	// Nonce rotation mid-stream: both servers hand out new nonces; the client follows.
	f.mu.Lock()
	f.asNonce, f.rsNonce = "as-nonce-2", "rs-nonce-2"
	f.mu.Unlock()
	if _, err := c.Logs(ctx, p.Next); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if sc, err := c.TokenScopes(ctx); err != nil || strings.Join(sc, " ") != "okta.logs.read okta.users.read" {
		t.Errorf("TokenScopes = %v, %v", sc, err)
	}
	if got := c.nonces.get("rs"); got != "rs-nonce-2" {
		t.Errorf("remembered resource nonce = %q", got)
	}
	// Another call reuses the remembered nonce: one request, no challenge.
	before := len(f.requestLog())
	if _, err := c.Logs(ctx, p.Next); err != nil {
		t.Fatal(err)
	}
	if n := len(f.requestLog()) - before; n != 1 {
		t.Errorf("requests after learning the nonce = %d, want 1", n)
	}
}

func TestTokenRenewalBeforeExpiryAndOn401(t *testing.T) {
	clk := clock.NewManual(t0)
	f := newFakeOkta(t, clk)
	key := f.withServiceApp(true)
	c := newTestClient(t, f, func(cfg *Config) {
		serviceApp(t, f, key)(cfg)
		cfg.TokenRenewMargin = 2 * time.Minute
	})
	ctx := context.Background()
	u, _ := c.LogsURL(LogsQuery{})
	if _, err := c.Logs(ctx, u); err != nil {
		t.Fatal(err)
	}
	tokens := func() int {
		n := 0
		for _, tc := range f.tokenCalls {
			if tc.status == 200 {
				n++
			}
		}
		return n
	}
	clk.Advance(57 * time.Minute) // inside the token's life, outside the margin: cached
	if _, err := c.Logs(ctx, u); err != nil {
		t.Fatal(err)
	}
	if tokens() != 1 {
		t.Fatalf("tokens issued = %d, want 1 (cached)", tokens())
	}
	clk.Advance(90 * time.Second) // within 2 min of expiry: renewed before use
	if _, err := c.Logs(ctx, u); err != nil {
		t.Fatal(err)
	}
	if tokens() != 2 {
		t.Fatalf("tokens issued = %d, want 2 (renewed before expiry)", tokens())
	}
	// Revoke every token server-side: the next call gets 401 invalid_token, renews once, succeeds.
	f.mu.Lock()
	f.tokens = map[string]fakeToken{}
	f.mu.Unlock()
	if _, err := c.Logs(ctx, u); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if tokens() != 3 {
		t.Fatalf("tokens issued = %d, want 3", tokens())
	}
}

func TestRevokedAppIsNotRetriedForever(t *testing.T) {
	clk := clock.NewManual(t0)
	f := newFakeOkta(t, clk)
	key := f.withServiceApp(false)
	c := newTestClient(t, f, serviceApp(t, f, key))
	ctx := context.Background()
	u, _ := c.LogsURL(LogsQuery{})
	if _, err := c.Logs(ctx, u); err != nil {
		t.Fatal(err)
	}
	if got := f.requestLog()[1].Header.Get("Authorization"); !strings.HasPrefix(got, "Bearer ") {
		t.Fatalf("Authorization = %q, want Bearer for a non-DPoP token", got)
	}
	f.mu.Lock()
	f.hook = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == tokenPath {
			return false
		}
		writeErr(w, 401, `{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorId":"oaeX","errorCauses":[]}`)
		return true
	}
	f.mu.Unlock()
	before := len(f.requestLog())
	_, err := c.Logs(ctx, u)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || !errors.Is(err, KindInvalidToken) || !apiErr.ServiceApp {
		t.Fatalf("err = %v, want invalid token APIError", err)
	}
	// One failure, one token renewal, one retry: then the error.
	if n := len(f.requestLog()) - before; n != 3 {
		t.Errorf("requests = %d, want 3", n)
	}
	if strings.Contains(err.Error(), "at-") {
		t.Error("error text leaks the access token")
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	clk := clock.NewManual(t0)
	f := newFakeOkta(t, clk)
	key := f.withServiceApp(true)
	c := newTestClient(t, f, serviceApp(t, f, key))
	f.kid = "another-kid"
	u, _ := c.LogsURL(LogsQuery{})
	_, err := c.Logs(context.Background(), u)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Kind != KindInvalidClient {
		t.Fatalf("err = %v, want invalid client", err)
	}
	if !strings.Contains(apiErr.Fix(), "KID") {
		t.Errorf("Fix = %q, want the key id advice", apiErr.Fix())
	}
}

func TestClockSkewOnTokenEndpoint(t *testing.T) {
	clk := clock.NewManual(t0)
	f := newFakeOkta(t, clk)
	key := f.withServiceApp(true)
	f.skew = -10 * time.Minute // the local clock is 10 minutes fast
	c := newTestClient(t, f, serviceApp(t, f, key))
	u, _ := c.LogsURL(LogsQuery{})
	if _, err := c.Logs(context.Background(), u); err != nil {
		t.Fatalf("with a fast local clock: %v", err)
	}
}

func TestDPoPKeyInjected(t *testing.T) {
	clk := clock.NewManual(t0)
	f := newFakeOkta(t, clk)
	key := f.withServiceApp(true)
	dk, err := GenerateDPoPKey()
	if err != nil {
		t.Fatal(err)
	}
	c := newTestClient(t, f, func(cfg *Config) { serviceApp(t, f, key)(cfg); cfg.DPoPKey = dk })
	want, _ := (&jose.JSONWebKey{Key: dk.Public()}).Thumbprint(crypto.SHA256)
	if c.DPoPThumbprint() != b64(want) {
		t.Fatal("client does not sign with the injected DPoP key")
	}
	u, _ := c.LogsURL(LogsQuery{})
	if _, err := c.Logs(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, tok := range f.tokens {
		if tok.jkt != c.DPoPThumbprint() {
			t.Errorf("token bound to %s, want %s", tok.jkt, c.DPoPThumbprint())
		}
	}
}

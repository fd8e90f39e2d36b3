package oauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/idwatch/idwatch/internal/clock"
)

// Keys are expensive to generate under -race, so tests share a few.
var (
	keysOnce  sync.Once
	simKey    *rsa.PrivateKey // the server's token-signing key
	clientRSA *rsa.PrivateKey // the app's registered assertion key
	otherRSA  *rsa.PrivateKey // a key the app never registered
)

func testKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		for _, k := range []**rsa.PrivateKey{&simKey, &clientRSA, &otherRSA} {
			if *k, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
				panic(err)
			}
		}
	})
}

func newEC(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const (
	testHost     = "sim.test"
	testIssuer   = "http://" + testHost
	tokenURL     = testIssuer + "/oauth2/v1/token"
	testClientID = "0oatestclient000001"
	testKid      = "assert-rsa"
	testECKid    = "assert-ec"
)

// fixture is a server with one DPoP-requiring service app holding an RSA and an EC key.
type fixture struct {
	t     testing.TB
	srv   *Server
	clock *clock.Manual
	ecKey *ecdsa.PrivateKey
}

func newFixture(t testing.TB, mod func(*Config)) *fixture {
	t.Helper()
	testKeys(t)
	clk := clock.NewManual(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC))
	cfg := Config{Issuer: testIssuer, Clock: clk, SigningKey: simKey}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ec := newEC(t)
	_, err = srv.AddApp(AppSpec{
		ClientID: testClientID, Name: "idwatch",
		Keys: []jose.JSONWebKey{
			{Key: &clientRSA.PublicKey, KeyID: testKid, Use: "sig"},
			{Key: &ec.PublicKey, KeyID: testECKid, Algorithm: "ES256"},
		},
		Scopes:          []string{"okta.logs.read", "okta.users.manage"},
		HasClientSecret: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, srv: srv, clock: clk, ecKey: ec}
}

// sign makes a compact JWS over claims with the given header options.
func sign(t testing.TB, alg jose.SignatureAlgorithm, key any, opts *jose.SignerOptions, claims any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// assertionClaimsFor returns valid assertion claims at the fixture's now.
func (f *fixture) assertionClaimsFor() map[string]any {
	now := f.clock.Now()
	return map[string]any{
		"iss": testClientID, "sub": testClientID, "aud": tokenURL,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": randomID(12),
	}
}

// assertion signs claims with the app's RSA key under testKid.
func (f *fixture) assertion(mod func(map[string]any)) string {
	c := f.assertionClaimsFor()
	if mod != nil {
		mod(c)
	}
	return sign(f.t, jose.RS256, clientRSA, (&jose.SignerOptions{}).WithHeader("kid", testKid), c)
}

// proofKey is a client's DPoP key.
type proofKey struct {
	alg jose.SignatureAlgorithm
	key crypto.Signer
}

func (f *fixture) newProofKey() proofKey { return proofKey{alg: jose.ES256, key: newEC(f.t)} }

// proof signs a DPoP proof for method and URL, with claims adjusted by mod.
func (f *fixture) proof(pk proofKey, method, htu string, mod func(map[string]any)) string {
	c := map[string]any{"htm": method, "htu": htu, "iat": f.clock.Now().Unix(), "jti": randomID(12)}
	if mod != nil {
		mod(c)
	}
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt")
	return sign(f.t, pk.alg, pk.key, opts, c)
}

// tokenRequest builds a token request from form parameters and optional DPoP proof.
func tokenRequest(form url.Values, dpop string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if dpop != "" {
		r.Header.Set("DPoP", dpop)
	}
	return r
}

func assertionForm(assertion, scope string) url.Values {
	return url.Values{
		"grant_type":            {"client_credentials"},
		"scope":                 {scope},
		"client_assertion_type": {jwtBearerType},
		"client_assertion":      {assertion},
	}
}

// result is a decoded token-endpoint answer.
type result struct {
	status int
	header http.Header
	body   map[string]any
}

func (f *fixture) do(r *http.Request) result {
	f.t.Helper()
	w := httptest.NewRecorder()
	f.srv.TokenHandler().ServeHTTP(w, r)
	res := result{status: w.Code, header: w.Header()}
	if w.Body.Len() > 0 {
		if err := json.Unmarshal(w.Body.Bytes(), &res.body); err != nil {
			f.t.Fatalf("token endpoint body is not JSON: %q", w.Body.String())
		}
	}
	return res
}

func (res result) wantError(t testing.TB, status int, code, desc string) {
	t.Helper()
	if res.status != status || res.body["error"] != code || res.body["error_description"] != desc {
		t.Fatalf("got %d %v, want %d %s %q", res.status, res.body, status, code, desc)
	}
	if len(res.body) != 2 {
		t.Fatalf("error body has extra members: %v", res.body)
	}
}

// dpopToken runs the whole exchange (missing proof, nonce challenge, retry) and returns the
// DPoP-bound access token.
func (f *fixture) dpopToken(pk proofKey, scope string) string {
	f.t.Helper()
	a := f.assertion(nil)
	nonceRes := f.do(tokenRequest(assertionForm(a, scope), f.proof(pk, "POST", tokenURL, nil)))
	nonce := nonceRes.header.Get("DPoP-Nonce")
	ok := f.do(tokenRequest(assertionForm(a, scope), f.proof(pk, "POST", tokenURL, func(c map[string]any) { c["nonce"] = nonce })))
	if ok.status != 200 {
		f.t.Fatalf("token request failed: %d %v", ok.status, ok.body)
	}
	return ok.body["access_token"].(string)
}

// resourceRequest builds an authenticated resource call.
func (f *fixture) resourceRequest(method, target, scheme, token, dpop string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.Header.Set("Authorization", scheme+" "+token)
	if dpop != "" {
		r.Header.Set("DPoP", dpop)
	}
	return r
}

package oauth

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func TestDPoPTokenExchange(t *testing.T) {
	f := newFixture(t, nil)
	pk := f.newProofKey()
	a := f.assertion(nil)
	form := assertionForm(a, "okta.logs.read")

	// 1. No proof: the app requires DPoP.
	f.do(tokenRequest(form, "")).wantError(t, 400, "invalid_dpop_proof", "The DPoP proof JWT header is missing.")

	// 2. A proof without nonce: challenge with the nonce to use.
	res := f.do(tokenRequest(form, f.proof(pk, "POST", tokenURL, nil)))
	res.wantError(t, 400, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof.")
	nonce := res.header.Get("DPoP-Nonce")
	if nonce == "" || nonce != f.srv.CurrentNonce() {
		t.Fatalf("DPoP-Nonce header = %q, want the current nonce", nonce)
	}

	// 3. Retry with the nonce and the same assertion (as Okta's Go SDK does): a DPoP token.
	retry := f.proof(pk, "POST", tokenURL, func(c map[string]any) { c["nonce"] = nonce })
	res = f.do(tokenRequest(form, retry))
	if res.status != 200 || res.body["token_type"] != "DPoP" || res.body["expires_in"] != float64(3600) || res.body["scope"] != "okta.logs.read" {
		t.Fatalf("token response = %d %v", res.status, res.body)
	}
	if res.header.Get("DPoP-Nonce") == "" || res.header.Get("Cache-Control") == "" {
		t.Fatalf("success headers = %v", res.header)
	}

	// 4. The token is a JWT signed by the server, bound to the proof key.
	tok := res.body["access_token"].(string)
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	var c accessClaims
	if err := parsed.Claims(&simKey.PublicKey, &c); err != nil {
		t.Fatal(err)
	}
	jwk := jose.JSONWebKey{Key: pk.key.Public()}
	tp, _ := jwk.Thumbprint(crypto.SHA256)
	if c.Cnf == nil || c.Cnf.JKT != base64.RawURLEncoding.EncodeToString(tp) {
		t.Fatalf("cnf = %+v, want the proof key thumbprint", c.Cnf)
	}
	if c.ClientID != testClientID || c.Subject != testClientID || len(c.Scopes) != 1 || c.Scopes[0] != "okta.logs.read" ||
		c.Expiry.Time().Sub(c.IssuedAt.Time()) != time.Hour || c.Issuer != testIssuer || !strings.HasPrefix(c.ID, "AT.") {
		t.Fatalf("claims = %+v", c)
	}

	// 5. The proof and the assertion are both spent.
	f.do(tokenRequest(assertionForm(f.assertion(nil), "okta.logs.read"), retry)).wantError(t, 400, "invalid_dpop_proof", "The DPoP proof JWT has already been used.")
	fresh := f.proof(pk, "POST", tokenURL, func(c map[string]any) { c["nonce"] = nonce })
	f.do(tokenRequest(form, fresh)).wantError(t, 401, "invalid_client", "The client_assertion token has already been used.")
}

func TestTokenParamsInQueryLikeGoSDK(t *testing.T) {
	f := newFixture(t, nil)
	if err := f.srv.SetDPoPRequired(testClientID, false); err != nil {
		t.Fatal(err)
	}
	q := assertionForm(f.assertion(nil), "okta.logs.read okta.users.manage")
	r := httptest.NewRequest(http.MethodPost, tokenURL+"?"+q.Encode(), nil)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res := f.do(r)
	if res.status != 200 || res.body["token_type"] != "Bearer" || res.body["scope"] != "okta.logs.read okta.users.manage" {
		t.Fatalf("got %d %v", res.status, res.body)
	}
}

func TestClientAssertionChecks(t *testing.T) {
	f := newFixture(t, nil)
	if err := f.srv.SetDPoPRequired(testClientID, false); err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now()
	hs := sign(t, jose.HS256, []byte("0123456789abcdef0123456789abcdef"), (&jose.SignerOptions{}).WithHeader("kid", testKid), f.assertionClaimsFor())
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"`+testKid+`"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"`+testClientID+`","sub":"`+testClientID+`","aud":"`+tokenURL+`","exp":9999999999}`)) + "."
	wrongKey := sign(t, jose.RS256, otherRSA, (&jose.SignerOptions{}).WithHeader("kid", testKid), f.assertionClaimsFor())
	ecAssertion := sign(t, jose.ES256, f.ecKey, (&jose.SignerOptions{}).WithHeader("kid", testECKid), f.assertionClaimsFor())
	rsaAsES := sign(t, jose.ES256, f.ecKey, (&jose.SignerOptions{}).WithHeader("kid", testKid), f.assertionClaimsFor())
	noKid := sign(t, jose.RS256, clientRSA, nil, f.assertionClaimsFor())
	unknownKid := sign(t, jose.RS256, clientRSA, (&jose.SignerOptions{}).WithHeader("kid", "nope"), f.assertionClaimsFor())
	tampered := func() string {
		p := strings.Split(f.assertion(nil), ".")
		c := f.assertionClaimsFor()
		c["scope"] = "x"
		p[1] = strings.Split(sign(t, jose.RS256, otherRSA, nil, c), ".")[1]
		return strings.Join(p, ".")
	}()

	cases := []struct {
		name      string
		assertion string
		scope     string
		status    int
		code      string
		desc      string
	}{
		{"wrong iss", f.assertion(func(c map[string]any) { c["iss"] = "0oaother" }), "", 401, "invalid_client", catalog[codeAssertionInvalidIssuer].desc},
		{"wrong sub", f.assertion(func(c map[string]any) { c["sub"] = "0oaother" }), "", 401, "invalid_client", catalog[codeAssertionInvalidSubject].desc},
		{"wrong aud", f.assertion(func(c map[string]any) { c["aud"] = testIssuer + "/oauth2/default/v1/token" }), "", 401, "invalid_client", catalog[codeAssertionInvalidAudience].desc},
		{"aud with trailing slash", f.assertion(func(c map[string]any) { c["aud"] = tokenURL + "/" }), "", 401, "invalid_client", catalog[codeAssertionInvalidAudience].desc},
		{"aud of another host", f.assertion(func(c map[string]any) { c["aud"] = "https://example.okta.com/oauth2/v1/token" }), "", 401, "invalid_client", catalog[codeAssertionInvalidAudience].desc},
		{"no exp", f.assertion(func(c map[string]any) { delete(c, "exp") }), "", 401, "invalid_client", catalog[codeAssertionExpRequired].desc},
		{"exp beyond 1 h", f.assertion(func(c map[string]any) { c["exp"] = now.Add(time.Hour + 2*time.Minute).Unix() }), "", 401, "invalid_client", catalog[codeAssertionTooFar].desc},
		{"expired", f.assertion(func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() }), "", 401, "invalid_client", catalog[codeAssertionExpired].desc},
		{"iat in future", f.assertion(func(c map[string]any) { c["iat"] = now.Add(10 * time.Minute).Unix() }), "", 401, "invalid_client", catalog[codeAssertionIatFuture].desc},
		{"nbf in future", f.assertion(func(c map[string]any) { c["nbf"] = now.Add(10 * time.Minute).Unix() }), "", 401, "invalid_client", catalog[codeInvalidClient].desc},
		{"unknown kid", unknownKid, "", 401, "invalid_client", catalog[codeAssertionInvalidKid].desc},
		{"no kid", noKid, "", 401, "invalid_client", catalog[codeAssertionInvalidKid].desc},
		{"alg none", none, "", 401, "invalid_client", catalog[codeAssertionInvalidAlg].desc},
		{"alg HS256", hs, "", 401, "invalid_client", catalog[codeAssertionInvalidAlg].desc},
		{"alg not fitting the key", rsaAsES, "", 401, "invalid_client", catalog[codeAssertionInvalidAlg].desc},
		{"signed by another key", wrongKey, "", 401, "invalid_client", catalog[codeAssertionInvalidSignature].desc},
		{"tampered payload", tampered, "", 401, "invalid_client", catalog[codeAssertionInvalidSignature].desc},
		{"not a JWT", "not-a-jwt", "", 401, "invalid_client", catalog[codeAssertionInvalidJWT].desc},
		{"exp as string", f.assertion(func(c map[string]any) { c["exp"] = "soon" }), "", 401, "invalid_client", catalog[codeAssertionInvalidJWT].desc},
		{"scope not granted", f.assertion(nil), "okta.logs.read okta.groups.manage", 400, "invalid_scope", catalog[codeInvalidScope].desc},
		{"no scope", f.assertion(nil), " ", 400, "invalid_scope", "No scopes were requested."},
		{"openid", f.assertion(nil), "openid", 400, "invalid_scope", catalog[codeOpenIDNotAllowed].desc},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			scope := tc.scope
			if scope == "" {
				scope = "okta.logs.read"
			}
			f.do(tokenRequest(assertionForm(tc.assertion, scope), "")).wantError(t, tc.status, tc.code, tc.desc)
		})
	}

	t.Run("ES256 key works", func(t *testing.T) {
		res := f.do(tokenRequest(assertionForm(ecAssertion, "okta.logs.read"), ""))
		if res.status != 200 || res.body["token_type"] != "Bearer" {
			t.Fatalf("got %d %v", res.status, res.body)
		}
	})
	t.Run("replayed jti", func(t *testing.T) {
		a := f.assertion(nil)
		if res := f.do(tokenRequest(assertionForm(a, "okta.logs.read"), "")); res.status != 200 {
			t.Fatalf("first use: %d %v", res.status, res.body)
		}
		f.do(tokenRequest(assertionForm(a, "okta.logs.read"), "")).wantError(t, 401, "invalid_client", "The client_assertion token has already been used.")
	})
	t.Run("small clock lead tolerated", func(t *testing.T) {
		a := f.assertion(func(c map[string]any) { c["iat"] = now.Add(10 * time.Second).Unix() })
		if res := f.do(tokenRequest(assertionForm(a, "okta.logs.read"), "")); res.status != 200 {
			t.Fatalf("got %d %v", res.status, res.body)
		}
	})
}

func TestTokenRequestShape(t *testing.T) {
	f := newFixture(t, nil)
	a := f.assertion(nil)
	good := assertionForm(a, "okta.logs.read")
	with := func(k, v string) url.Values {
		c := url.Values{}
		for kk, vv := range good {
			c[kk] = append([]string(nil), vv...)
		}
		if v == "" {
			c.Del(k)
		} else {
			c.Set(k, v)
		}
		return c
	}
	t.Run("client secret in body", func(t *testing.T) {
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {"okta.logs.read"}, "client_id": {testClientID}, "client_secret": {"s3cr3t"}}
		f.do(tokenRequest(form, "")).wantError(t, 401, "invalid_client", "Client Credentials requests to the Org Authorization Server must use the private_key_jwt token_endpoint_auth_method.")
	})
	t.Run("client secret basic", func(t *testing.T) {
		r := tokenRequest(url.Values{"grant_type": {"client_credentials"}, "scope": {"okta.logs.read"}}, "")
		r.SetBasicAuth(testClientID, "s3cr3t")
		f.do(r).wantError(t, 401, "invalid_client", "Client Credentials requests to the Org Authorization Server must use the private_key_jwt token_endpoint_auth_method.")
	})
	t.Run("unknown client secret", func(t *testing.T) {
		r := tokenRequest(url.Values{"grant_type": {"client_credentials"}, "scope": {"okta.logs.read"}}, "")
		r.SetBasicAuth("0oanobody", "s3cr3t")
		f.do(r).wantError(t, 401, "invalid_client", catalog[codeInvalidClient].desc)
	})
	t.Run("two credentials", func(t *testing.T) {
		f.do(tokenRequest(with("client_secret", "x"), "")).wantError(t, 401, "invalid_request", catalog[codeMultipleClientCredentials].desc)
	})
	t.Run("no credentials", func(t *testing.T) {
		f.do(tokenRequest(with("client_assertion", ""), "")).wantError(t, 401, "invalid_client", "No client credentials found.")
	})
	t.Run("bad assertion type", func(t *testing.T) {
		f.do(tokenRequest(with("client_assertion_type", "urn:other"), "")).wantError(t, 400, "invalid_request", "The client_assertion_type is invalid.")
	})
	t.Run("no grant type", func(t *testing.T) {
		f.do(tokenRequest(with("grant_type", ""), "")).wantError(t, 400, "invalid_request", catalog[codeMissingGrantType].desc)
	})
	t.Run("other grant type", func(t *testing.T) {
		f.do(tokenRequest(with("grant_type", "password"), "")).wantError(t, 400, "unsupported_grant_type", catalog[codeUnsupportedGrantType].desc)
	})
	t.Run("client_id mismatch", func(t *testing.T) {
		f.do(tokenRequest(with("client_id", "0oaother"), "")).wantError(t, 401, "invalid_client", "Invalid value for 'client_id' parameter.")
	})
	t.Run("duplicate parameter", func(t *testing.T) {
		r := tokenRequest(good, "")
		r.URL.RawQuery = "scope=okta.logs.read"
		f.do(r).wantError(t, 400, "invalid_request", catalog[codeDuplicateParams].desc)
	})
	t.Run("GET", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, tokenURL, nil)
		res := f.do(r)
		if res.status != 405 || res.header.Get("Allow") != "POST" {
			t.Fatalf("got %d %v", res.status, res.header)
		}
	})
	t.Run("deactivated app", func(t *testing.T) {
		g := newFixture(t, nil)
		if err := g.srv.DeactivateApp(testClientID); err != nil {
			t.Fatal(err)
		}
		g.do(tokenRequest(assertionForm(g.assertion(nil), "okta.logs.read"), "")).wantError(t, 401, "invalid_client", catalog[codeInvalidClient].desc)
	})
	t.Run("revoked key", func(t *testing.T) {
		g := newFixture(t, nil)
		if err := g.srv.RevokeKey(testClientID, testKid); err != nil {
			t.Fatal(err)
		}
		g.do(tokenRequest(assertionForm(g.assertion(nil), "okta.logs.read"), "")).wantError(t, 401, "invalid_client", catalog[codeAssertionInvalidKid].desc)
	})
	t.Run("no keys", func(t *testing.T) {
		g := newFixture(t, nil)
		_ = g.srv.RevokeKey(testClientID, testKid)
		_ = g.srv.RevokeKey(testClientID, testECKid)
		g.do(tokenRequest(assertionForm(g.assertion(nil), "okta.logs.read"), "")).wantError(t, 401, "invalid_client", catalog[codeAssertionJWKSNotConfigured].desc)
	})
}

func TestTokenEvents(t *testing.T) {
	var mu sync.Mutex
	var evs []TokenEvent
	f := newFixture(t, func(c *Config) {
		c.OnToken = func(e TokenEvent) { mu.Lock(); evs = append(evs, e); mu.Unlock() }
	})
	f.dpopToken(f.newProofKey(), "okta.logs.read")
	mu.Lock()
	defer mu.Unlock()
	if len(evs) != 2 || evs[0].Outcome != "CHALLENGE" || evs[0].Reason != "use_dpop_nonce" ||
		evs[1].Outcome != "SUCCESS" || !evs[1].DPoPBound || evs[1].ClientID != testClientID || evs[1].TokenID == "" {
		t.Fatalf("events = %+v", evs)
	}
}

func TestConcurrentAssertionReuseIssuesOneToken(t *testing.T) {
	f := newFixture(t, nil)
	_ = f.srv.SetDPoPRequired(testClientID, false)
	a := f.assertion(nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 8 {
		wg.Go(func() {
			if f.do(tokenRequest(assertionForm(a, "okta.logs.read"), "")).status == 200 {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d tokens issued for one assertion, want 1", ok)
	}
}

func TestAddAppValidation(t *testing.T) {
	testKeys(t)
	srv, err := New(Config{Issuer: testIssuer, SigningKey: simKey})
	if err != nil {
		t.Fatal(err)
	}
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	priv := jose.JSONWebKey{Key: clientRSA, KeyID: "p"}
	cases := map[string]AppSpec{
		"no kid":       {Keys: []jose.JSONWebKey{{Key: &clientRSA.PublicKey}}},
		"dup kid":      {Keys: []jose.JSONWebKey{{Key: &clientRSA.PublicKey, KeyID: "a"}, {Key: &otherRSA.PublicKey, KeyID: "a"}}},
		"small RSA":    {Keys: []jose.JSONWebKey{{Key: &small.PublicKey, KeyID: "s"}}},
		"enc key":      {Keys: []jose.JSONWebKey{{Key: &clientRSA.PublicKey, KeyID: "e", Use: "enc"}}},
		"symmetric":    {Keys: []jose.JSONWebKey{{Key: []byte("secret-secret-secret"), KeyID: "h"}}},
		"bad scope":    {Scopes: []string{"a b"}},
		"bad clientID": {ClientID: "has space"},
	}
	for name, spec := range cases {
		if _, err := srv.AddApp(spec); err == nil {
			t.Errorf("%s: AddApp accepted it", name)
		}
	}
	a, err := srv.AddApp(AppSpec{Keys: []jose.JSONWebKey{priv}})
	if err != nil {
		t.Fatal(err)
	}
	if !a.DPoPRequired || !strings.HasPrefix(a.ClientID, "0oa") || len(a.ClientID) != 20 || !a.Keys[0].IsPublic() {
		t.Fatalf("app = %+v; want DPoP on, an 0oa id and only the public key kept", a)
	}
	if _, err := srv.AddApp(AppSpec{ClientID: a.ClientID}); err == nil {
		t.Fatal("duplicate client id accepted")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{
		{Issuer: ""}, {Issuer: "ftp://x"}, {Issuer: "https://x/path"}, {Issuer: "https://x?q=1"},
		{Issuer: "https://x", TokenTTL: -1}, {Issuer: "https://x", NonceRotation: 2 * time.Hour, NonceValidity: time.Hour},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil", c)
		}
	}
	if err := (Config{Issuer: "https://acme.okta.com/"}).Validate(); err != nil {
		t.Fatal(err)
	}
}

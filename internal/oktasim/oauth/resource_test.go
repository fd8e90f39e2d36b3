package oauth

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const usersURL = testIssuer + "/api/v1/users"

// rendered is what a client sees for a resource error.
type rendered struct {
	status int
	www    string
	nonce  string
	body   string
}

func (f *fixture) render(r *http.Request, err error) rendered {
	w := httptest.NewRecorder()
	f.srv.WriteError(w, r, err)
	return rendered{status: w.Code, www: w.Header().Get("WWW-Authenticate"), nonce: w.Header().Get("DPoP-Nonce"), body: w.Body.String()}
}

func (f *fixture) wantResourceError(r *http.Request, status int, code, desc string) rendered {
	f.t.Helper()
	_, err := f.srv.Authenticate(r)
	var e *Error
	if !errors.As(err, &e) {
		f.t.Fatalf("Authenticate error = %v, want *Error", err)
	}
	got := f.render(r, err)
	if got.status != status || !strings.Contains(got.www, `error="`+code+`"`) || !strings.Contains(got.www, `error_description="`+desc+`"`) ||
		!strings.Contains(got.www, `resource="`+r.URL.Path+`"`) || !strings.Contains(got.www, `realm="`+testIssuer+`"`) {
		f.t.Fatalf("got %d %q, want %d %s %q", got.status, got.www, status, code, desc)
	}
	return got
}

func TestResourceCallWithDPoP(t *testing.T) {
	f := newFixture(t, nil)
	pk := f.newProofKey()
	tok := f.dpopToken(pk, "okta.logs.read okta.users.manage")
	ath := accessTokenHash(tok)
	proof := func(method, htu string, mod func(map[string]any)) string {
		return f.proof(pk, method, htu, func(c map[string]any) {
			c["ath"] = ath
			if mod != nil {
				mod(c)
			}
		})
	}
	// The proof's htu drops the query, as RFC 9449 says and Okta's SDK does.
	ok := f.resourceRequest("GET", usersURL+"?limit=200", "DPoP", tok, proof("GET", usersURL, nil))
	p, err := f.srv.Authenticate(ok)
	if err != nil {
		t.Fatal(err)
	}
	if p.ClientID != testClientID || !p.DPoPBound || p.RateKey != "app:"+testClientID || len(p.Scopes) != 2 || p.TokenID == "" {
		t.Fatalf("principal = %+v", p)
	}

	t.Run("replayed proof", func(t *testing.T) {
		f.wantResourceError(f.resourceRequest("GET", usersURL, "DPoP", tok, ok.Header.Get("DPoP")), 400, "invalid_dpop_proof", "The DPoP proof JWT has already been used.")
	})
	now := f.clock.Now()
	other := f.newProofKey()
	cases := []struct {
		name, method, target, scheme, proof string
		status                              int
		code, desc                          string
	}{
		{"no ath", "GET", usersURL, "DPoP", f.proof(pk, "GET", usersURL, nil), 400, "invalid_dpop_proof", "'ath' claim in the DPoP proof does not match the presented access_token."},
		{"wrong ath", "GET", usersURL, "DPoP", proof("GET", usersURL, func(c map[string]any) { c["ath"] = accessTokenHash(tok + "x") }), 400, "invalid_dpop_proof", "'ath' claim in the DPoP proof does not match the presented access_token."},
		{"wrong htm", "POST", usersURL, "DPoP", proof("GET", usersURL, nil), 400, "invalid_dpop_proof", "'htm' claim in the DPoP proof JWT is invalid."},
		{"wrong htu", "GET", usersURL, "DPoP", proof("GET", testIssuer+"/api/v1/groups", nil), 400, "invalid_dpop_proof", "'htu' claim in the DPoP proof JWT is invalid."},
		{"htu percent-encoded where the path is decoded", "GET", usersURL + "/a%40example.com", "DPoP", proof("GET", usersURL+"/a%40example.com", nil), 400, "invalid_dpop_proof", "'htu' claim in the DPoP proof JWT is invalid."},
		{"stale iat", "GET", usersURL, "DPoP", proof("GET", usersURL, func(c map[string]any) { c["iat"] = now.Add(-6 * time.Minute).Unix() }), 400, "invalid_dpop_proof", "The DPoP proof JWT is issued more than five minutes in the past."},
		{"key not matching cnf.jkt", "GET", usersURL, "DPoP", f.proof(other, "GET", usersURL, func(c map[string]any) { c["ath"] = ath }), 400, "invalid_dpop_proof", "The access_token is not bound to the provided DPoP proof."},
		{"no proof", "GET", usersURL, "DPoP", "", 400, "invalid_request", "The resource request requires a DPoP proof."},
		{"Bearer scheme with a bound token", "GET", usersURL, "Bearer", proof("GET", usersURL, nil), 400, "invalid_request", "The resource request must use the DPoP authentication scheme when using a DPoP bound token."},
		{"token not ours", "GET", usersURL, "DPoP", proof("GET", usersURL, nil), 401, "invalid_token", "The access token is invalid."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			token := tok
			if tc.name == "token not ours" {
				token = strings.Replace(tok, ".", ".x", 1)
			}
			got := f.wantResourceError(f.resourceRequest(tc.method, tc.target, tc.scheme, token, tc.proof), tc.status, tc.code, tc.desc)
			if !strings.HasPrefix(got.www, `DPoP algs="RS256 RS384 RS512 ES256 ES384 ES512", authorization_uri="`+testIssuer+`/oauth2/v1/authorize"`) {
				t.Fatalf("challenge = %q", got.www)
			}
		})
	}
	t.Run("htu with the decoded path", func(t *testing.T) {
		r := f.resourceRequest("GET", usersURL+"/a%40example.com", "DPoP", tok, proof("GET", usersURL+"/a@example.com", nil))
		if _, err := f.srv.Authenticate(r); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a nonce is ignored when not required", func(t *testing.T) {
		r := f.resourceRequest("GET", usersURL, "DPoP", tok, proof("GET", usersURL, func(c map[string]any) { c["nonce"] = "stale" }))
		if _, err := f.srv.Authenticate(r); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("expired token", func(t *testing.T) {
		f.clock.Advance(time.Hour)
		defer f.clock.Advance(-time.Hour)
		got := f.wantResourceError(f.resourceRequest("GET", usersURL, "DPoP", tok, proof("GET", usersURL, nil)), 401, "invalid_token", "The token has expired.")
		var body OktaError
		if err := json.Unmarshal([]byte(got.body), &body); err != nil || body.ErrorCode != "E0000011" || body.ErrorSummary != "Invalid token provided" || body.ErrorID == "" {
			t.Fatalf("body = %q", got.body)
		}
	})
	t.Run("revoked token", func(t *testing.T) {
		if err := f.srv.RevokeToken(tok); err != nil {
			t.Fatal(err)
		}
		f.wantResourceError(f.resourceRequest("GET", usersURL, "DPoP", tok, proof("GET", usersURL, nil)), 401, "invalid_token", "The access token has been revoked.")
	})
}

func TestResourceNonceChallenge(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.ResourceNonceRequired = true })
	pk := f.newProofKey()
	tok := f.dpopToken(pk, "okta.logs.read")
	mk := func(nonce string) *http.Request {
		return f.resourceRequest("GET", usersURL, "DPoP", tok, f.proof(pk, "GET", usersURL, func(c map[string]any) {
			c["ath"] = accessTokenHash(tok)
			if nonce != "" {
				c["nonce"] = nonce
			}
		}))
	}
	got := f.wantResourceError(mk(""), 401, "use_dpop_nonce", "Resource server requires nonce in DPoP proof.")
	if got.nonce == "" || got.body != "" {
		t.Fatalf("challenge: nonce %q body %q", got.nonce, got.body)
	}
	if _, err := f.srv.Authenticate(mk(got.nonce)); err != nil {
		t.Fatal(err)
	}
	f.srv.RotateNonce(true)
	f.wantResourceError(mk(got.nonce), 401, "use_dpop_nonce", "Resource server requires nonce in DPoP proof.")
}

func TestBearerTokens(t *testing.T) {
	f := newFixture(t, nil)
	_ = f.srv.SetDPoPRequired(testClientID, false)
	res := f.do(tokenRequest(assertionForm(f.assertion(nil), "okta.users.manage"), ""))
	if res.status != 200 || res.body["token_type"] != "Bearer" {
		t.Fatalf("got %d %v", res.status, res.body)
	}
	tok := res.body["access_token"].(string)
	p, err := f.srv.Authenticate(f.resourceRequest("GET", usersURL, "Bearer", tok, ""))
	if err != nil || p.DPoPBound {
		t.Fatalf("Bearer call: %+v %v", p, err)
	}
	got := f.wantResourceError(f.resourceRequest("GET", usersURL, "DPoP", tok, ""), 401, "invalid_token", "The presented access_token is not DPoP bound.")
	if !strings.HasPrefix(got.www, "DPoP ") {
		t.Fatalf("challenge = %q", got.www)
	}

	t.Run("no OAuth credentials", func(t *testing.T) {
		for _, h := range []string{"", "SSWS 00abc"} {
			r := httptest.NewRequest("GET", usersURL, nil)
			if h != "" {
				r.Header.Set("Authorization", h)
			}
			if _, err := f.srv.Authenticate(r); !errors.Is(err, ErrNoToken) {
				t.Fatalf("%q: err = %v, want ErrNoToken", h, err)
			}
		}
	})
	t.Run("RevokeTokens", func(t *testing.T) {
		if n := f.srv.RevokeTokens(testClientID); n != 1 {
			t.Fatalf("revoked %d tokens, want 1", n)
		}
		f.wantResourceError(f.resourceRequest("GET", usersURL, "Bearer", tok, ""), 401, "invalid_token", "The access token has been revoked.")
	})
	t.Run("deactivated app", func(t *testing.T) {
		_ = f.srv.DeactivateApp(testClientID)
		defer func() { _ = f.srv.ActivateApp(testClientID) }()
		got := f.wantResourceError(f.resourceRequest("GET", usersURL, "Bearer", tok, ""), 401, "invalid_token", "The access token has been revoked.")
		if !strings.HasPrefix(got.www, "Bearer authorization_uri=") {
			t.Fatalf("challenge = %q", got.www)
		}
	})
}

func TestRequireScope(t *testing.T) {
	f := newFixture(t, nil)
	p := Principal{ClientID: testClientID, Scopes: []string{"okta.users.manage", "okta.logs.read"}, DPoPBound: true}
	for _, ok := range []string{"okta.users.manage", "okta.users.read", "okta.logs.read"} {
		if err := RequireScope(p, ok); err != nil {
			t.Errorf("RequireScope(%s) = %v", ok, err)
		}
	}
	err := RequireScope(p, "okta.groups.read")
	if err == nil {
		t.Fatal("missing scope accepted")
	}
	if RequireScope(p, "okta.logs.manage") == nil {
		t.Fatal("read scope satisfied a manage requirement")
	}
	r := httptest.NewRequest("GET", testIssuer+"/api/v1/groups/00g1", nil)
	got := f.render(r, err)
	want := `DPoP algs="RS256 RS384 RS512 ES256 ES384 ES512", authorization_uri="http://sim.test/oauth2/v1/authorize", realm="http://sim.test", scope="okta.groups.read", error="insufficient_scope", error_description="The access token provided does not contain the required scopes.", resource="/api/v1/groups/00g1"`
	if got.status != 403 || got.www != want || got.body != "" {
		t.Fatalf("got %d %q %q", got.status, got.www, got.body)
	}
}

func TestKeysHandler(t *testing.T) {
	f := newFixture(t, nil)
	w := httptest.NewRecorder()
	f.srv.KeysHandler().ServeHTTP(w, httptest.NewRequest("GET", testIssuer+"/oauth2/v1/keys", nil))
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &set); err != nil || len(set.Keys) != 1 || set.Keys[0]["kty"] != "RSA" || set.Keys[0]["d"] != nil {
		t.Fatalf("keys = %s", w.Body.String())
	}
}

func TestRevokePresented(t *testing.T) {
	f := newFixture(t, nil)
	_ = f.srv.SetDPoPRequired(testClientID, false)
	tok := f.do(tokenRequest(assertionForm(f.assertion(nil), "okta.logs.read"), "")).body["access_token"].(string)
	r := f.resourceRequest("GET", usersURL, "Bearer", tok, "")
	if err := f.srv.RevokePresented(r); err != nil {
		t.Fatal(err)
	}
	f.wantResourceError(r, 401, "invalid_token", "The access token has been revoked.")
	if err := f.srv.RevokePresented(httptest.NewRequest("GET", usersURL, nil)); err == nil {
		t.Fatal("no token, no error")
	}
}

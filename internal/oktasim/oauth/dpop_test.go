package oauth

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// rawJWS assembles a compact JWS from a header and claims with a junk signature.
func rawJWS(header, claims map[string]any) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + ".c2ln"
}

func TestTokenEndpointProofChecks(t *testing.T) {
	f := newFixture(t, nil)
	pk := f.newProofKey()
	nonce := f.srv.CurrentNonce()
	now := f.clock.Now()
	withNonce := func(mod func(map[string]any)) func(map[string]any) {
		return func(c map[string]any) {
			c["nonce"] = nonce
			if mod != nil {
				mod(c)
			}
		}
	}
	good := func(mod func(map[string]any)) string { return f.proof(pk, "POST", tokenURL, withNonce(mod)) }
	ecJWK := jose.JSONWebKey{Key: pk.key.Public()}
	jwkJSON, _ := ecJWK.MarshalJSON()
	var jwkMap map[string]any
	_ = json.Unmarshal(jwkJSON, &jwkMap)
	privJWK, _ := (&jose.JSONWebKey{Key: pk.key}).MarshalJSON()
	var privMap map[string]any
	_ = json.Unmarshal(privJWK, &privMap)
	claims := map[string]any{"htm": "POST", "htu": tokenURL, "iat": now.Unix(), "jti": "x", "nonce": nonce}

	wrongTyp := sign(t, jose.ES256, pk.key, (&jose.SignerOptions{EmbedJWK: true}).WithType("JWT"), claims)
	noJWK := sign(t, jose.ES256, pk.key, (&jose.SignerOptions{}).WithType("dpop+jwt"), claims)
	tampered := func() string {
		p := strings.Split(good(nil), ".")
		other := strings.Split(good(func(c map[string]any) { c["htm"] = "GET" }), ".")
		return p[0] + "." + other[1] + "." + p[2]
	}()
	sameAsAssertion := sign(t, jose.RS256, clientRSA, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"),
		map[string]any{"htm": "POST", "htu": tokenURL, "iat": now.Unix(), "jti": "same-key", "nonce": nonce})

	cases := []struct {
		name, proof, desc string
	}{
		{"typ not dpop+jwt", wrongTyp, "'typ' must be 'dpop+jwt' in the DPoP proof JWT."},
		{"alg HS256", rawJWS(map[string]any{"typ": "dpop+jwt", "alg": "HS256", "jwk": jwkMap}, claims), "The DPoP proof JWT signature algorithm is invalid."},
		{"alg none", rawJWS(map[string]any{"typ": "dpop+jwt", "alg": "none", "jwk": jwkMap}, claims), "The DPoP proof JWT signature algorithm is invalid."},
		{"private jwk", rawJWS(map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": privMap}, claims), "The DPoP proof JWT cannot be parsed."},
		{"no jwk", noJWK, "The DPoP proof JWT is invalid."},
		{"garbage", "garbage", "The DPoP proof JWT cannot be parsed."},
		{"bad signature", tampered, "The DPoP proof JWT signature is invalid."},
		{"wrong htm", good(func(c map[string]any) { c["htm"] = "GET" }), "'htm' claim in the DPoP proof JWT is invalid."},
		{"lower-case htm", good(func(c map[string]any) { c["htm"] = "post" }), "'htm' claim in the DPoP proof JWT is invalid."},
		{"wrong htu path", good(func(c map[string]any) { c["htu"] = testIssuer + "/oauth2/default/v1/token" }), "'htu' claim in the DPoP proof JWT is invalid."},
		{"wrong htu host", good(func(c map[string]any) { c["htu"] = "http://other.test/oauth2/v1/token" }), "'htu' claim in the DPoP proof JWT is invalid."},
		{"wrong htu scheme", good(func(c map[string]any) { c["htu"] = "https://" + testHost + "/oauth2/v1/token" }), "'htu' claim in the DPoP proof JWT is invalid."},
		{"relative htu", good(func(c map[string]any) { c["htu"] = "/oauth2/v1/token" }), "'htu' claim in the DPoP proof JWT is invalid."},
		{"no iat", good(func(c map[string]any) { delete(c, "iat") }), "'iat' claim in the DPoP proof JWT is invalid."},
		{"stale iat", good(func(c map[string]any) { c["iat"] = now.Add(-6 * time.Minute).Unix() }), "The DPoP proof JWT is issued more than five minutes in the past."},
		{"future iat", good(func(c map[string]any) { c["iat"] = now.Add(5 * time.Minute).Unix() }), "The DPoP proof JWT is issued in the future."},
		{"expired", good(func(c map[string]any) { c["exp"] = now.Add(-time.Second).Unix() }), "The DPoP proof JWT is expired."},
		{"no jti", good(func(c map[string]any) { delete(c, "jti") }), "'jti' claim in the DPoP proof JWT is invalid."},
		{"huge jti", good(func(c map[string]any) { c["jti"] = strings.Repeat("j", 300) }), "'jti' claim in the DPoP proof JWT is invalid."},
		{"assertion key reused", sameAsAssertion, "The DPoP proof JWT is invalid."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.do(tokenRequest(assertionForm(f.assertion(nil), "okta.logs.read"), tc.proof)).wantError(t, 400, "invalid_dpop_proof", tc.desc)
		})
	}
	t.Run("two DPoP headers", func(t *testing.T) {
		r := tokenRequest(assertionForm(f.assertion(nil), "okta.logs.read"), good(nil))
		r.Header.Add("DPoP", good(nil))
		f.do(r).wantError(t, 400, "invalid_dpop_proof", "Multiple DPoP proof JWT headers are not allowed.")
	})
	t.Run("unknown nonce", func(t *testing.T) {
		res := f.do(tokenRequest(assertionForm(f.assertion(nil), "okta.logs.read"), good(func(c map[string]any) { c["nonce"] = "made-up" })))
		res.wantError(t, 400, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof.")
		if res.header.Get("DPoP-Nonce") != nonce {
			t.Fatalf("DPoP-Nonce = %q", res.header.Get("DPoP-Nonce"))
		}
	})
	accepted := []struct {
		name string
		mod  func(map[string]any)
	}{
		{"htu with query and fragment", func(c map[string]any) { c["htu"] = tokenURL + "?x=1#f" }},
		{"htu host in upper case with default port", func(c map[string]any) { c["htu"] = "HTTP://SIM.TEST:80/oauth2/v1/token" }},
		{"iat 4 minutes old", func(c map[string]any) { c["iat"] = now.Add(-4 * time.Minute).Unix() }},
	}
	for _, tc := range accepted {
		t.Run(tc.name, func(t *testing.T) {
			if res := f.do(tokenRequest(assertionForm(f.assertion(nil), "okta.logs.read"), good(tc.mod))); res.status != 200 {
				t.Fatalf("got %d %v", res.status, res.body)
			}
		})
	}
	t.Run("RS256 proof key", func(t *testing.T) {
		rk := proofKey{alg: jose.RS256, key: otherRSA}
		p := f.proof(rk, "POST", tokenURL, withNonce(nil))
		if res := f.do(tokenRequest(assertionForm(f.assertion(nil), "okta.logs.read"), p)); res.status != 200 || res.body["token_type"] != "DPoP" {
			t.Fatalf("got %d %v", res.status, res.body)
		}
	})
}

func TestNonceRotation(t *testing.T) {
	f := newFixture(t, nil)
	pk := f.newProofKey()
	try := func(nonce string) result {
		return f.do(tokenRequest(assertionForm(f.assertion(nil), "okta.logs.read"),
			f.proof(pk, "POST", tokenURL, func(c map[string]any) { c["nonce"] = nonce })))
	}
	first := f.srv.CurrentNonce()
	f.clock.Advance(24 * time.Hour)
	second := f.srv.CurrentNonce()
	if second == first {
		t.Fatal("nonce did not rotate after 24 h")
	}
	if res := try(first); res.status != 200 {
		t.Fatalf("a 24 h old nonce was refused: %d %v", res.status, res.body)
	}
	f.clock.Advance(48 * time.Hour) // first is now 72 h old
	res := try(first)
	res.wantError(t, 400, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof.")
	if got := res.header.Get("DPoP-Nonce"); got == first || got == "" {
		t.Fatalf("challenge nonce = %q", got)
	}
	if res := try(second); res.status != 200 {
		t.Fatalf("a 48 h old nonce was refused: %d %v", res.status, res.body)
	}

	t.Run("on demand keeps old nonces", func(t *testing.T) {
		old := f.srv.CurrentNonce()
		if n := f.srv.RotateNonce(false); n == old || n != f.srv.CurrentNonce() {
			t.Fatal("RotateNonce did not make a new current nonce")
		}
		if res := try(old); res.status != 200 {
			t.Fatalf("old nonce refused after a soft rotation: %d %v", res.status, res.body)
		}
	})
	t.Run("on demand with invalidation", func(t *testing.T) {
		old := f.srv.CurrentNonce()
		n := f.srv.RotateNonce(true)
		res := try(old)
		res.wantError(t, 400, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof.")
		if res.header.Get("DPoP-Nonce") != n {
			t.Fatalf("challenge nonce = %q, want %q", res.header.Get("DPoP-Nonce"), n)
		}
		if res := try(n); res.status != 200 {
			t.Fatalf("new nonce refused: %d %v", res.status, res.body)
		}
	})
}

func TestReplayCache(t *testing.T) {
	c := newReplayCache(2)
	t0 := time.Unix(1000, 0)
	if ok, err := c.claim("a", t0.Add(time.Minute), t0); !ok || err != nil {
		t.Fatal("first claim refused")
	}
	if ok, _ := c.claim("a", t0.Add(time.Minute), t0); ok {
		t.Fatal("replay accepted")
	}
	if !c.seenBefore("a", t0) {
		t.Fatal("seenBefore = false")
	}
	_, _ = c.claim("b", t0.Add(2*time.Minute), t0)
	if _, err := c.claim("c", t0.Add(time.Minute), t0); err == nil {
		t.Fatal("claim beyond capacity accepted")
	}
	// After a's expiry it is forgotten and room is made.
	if ok, err := c.claim("c", t0.Add(3*time.Minute), t0.Add(time.Minute)); !ok || err != nil {
		t.Fatalf("claim after expiry: %v %v", ok, err)
	}
	if c.seenBefore("a", t0.Add(time.Minute)) || c.size() != 2 {
		t.Fatalf("expired entry kept; size %d", c.size())
	}
}

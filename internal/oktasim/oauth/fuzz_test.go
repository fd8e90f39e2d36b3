package oauth

import (
	"net/http/httptest"
	"net/url"
	"testing"
)

// FuzzParseAssertion feeds arbitrary client assertions to the parser and the full check;
// neither may panic, and every refusal must be a catalog error.
func FuzzParseAssertion(f *testing.F) {
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	fx := newFixture(f, nil)
	f.Add(fx.assertion(nil))
	f.Fuzz(func(t *testing.T, raw string) {
		if _, e := parseAssertion(raw); e != nil && e.Code != "invalid_client" {
			t.Fatalf("parse error code %q", e.Code)
		}
		if _, e := fx.srv.verifyAssertion(raw, tokenURL, "", fx.clock.Now()); e != nil && e.Status == 0 {
			t.Fatalf("error without status: %v", e)
		}
	})
}

// FuzzParseProof feeds arbitrary DPoP proofs to the parser and the request checks.
func FuzzParseProof(f *testing.F) {
	f.Add("eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2In0.e30.sig")
	f.Add("...")
	fx := newFixture(f, nil)
	f.Add(fx.proof(fx.newProofKey(), "POST", tokenURL, nil))
	endpoint, _ := url.Parse(tokenURL)
	f.Fuzz(func(t *testing.T, raw string) {
		p, e := ParseProof(raw)
		if e != nil {
			if e.Code != "invalid_dpop_proof" {
				t.Fatalf("parse error code %q", e.Code)
			}
			return
		}
		_ = fx.srv.checkRequest(p, "POST", endpoint, fx.clock.Now())
	})
}

// FuzzAuthenticate feeds arbitrary Authorization and DPoP headers to Authenticate.
func FuzzAuthenticate(f *testing.F) {
	f.Add("DPoP abc", "x.y.z")
	f.Add("Bearer ", "")
	f.Add("SSWS 00t", "")
	fx := newFixture(f, nil)
	f.Fuzz(func(t *testing.T, authz, dpop string) {
		r := httptest.NewRequest("GET", usersURL, nil)
		r.Header["Authorization"] = []string{authz}
		if dpop != "" {
			r.Header["Dpop"] = []string{dpop}
		}
		_, _ = fx.srv.Authenticate(r)
	})
}

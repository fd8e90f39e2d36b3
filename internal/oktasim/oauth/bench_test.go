package oauth

import (
	"net/url"
	"testing"
)

func BenchmarkParseProof(b *testing.B) {
	f := newFixture(b, nil)
	p := f.proof(f.newProofKey(), "GET", usersURL, nil)
	for b.Loop() {
		if _, e := ParseProof(p); e != nil {
			b.Fatal(e)
		}
	}
}

func BenchmarkAuthenticateBearer(b *testing.B) {
	f := newFixture(b, nil)
	_ = f.srv.SetDPoPRequired(testClientID, false)
	tok := f.do(tokenRequest(assertionForm(f.assertion(nil), "okta.logs.read"), "")).body["access_token"].(string)
	r := f.resourceRequest("GET", usersURL, "Bearer", tok, "")
	for b.Loop() {
		if _, err := f.srv.Authenticate(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyAssertion(b *testing.B) {
	f := newFixture(b, nil)
	a := f.assertion(nil)
	endpoint, _ := url.Parse(tokenURL)
	for b.Loop() {
		if _, e := f.srv.verifyAssertion(a, endpoint.String(), "", f.clock.Now()); e != nil {
			b.Fatal(e)
		}
	}
}

package oauth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/oktasim/fault"
)

// faultedOrg wires the fault injector to this server the way oktasim does, so tests see
// what a client sees when a revocation or nonce rotation fault fires.
func faultedOrg(f *fixture) (http.Handler, *fault.Injector) {
	inj := fault.New(fault.Config{
		Clock: f.clock,
		Revoke: func(rr fault.RevokeRequest) error {
			switch {
			case rr.Target == fault.TargetKey:
				return f.srv.RevokeKey(rr.ClientID, rr.KeyID)
			case rr.Target == fault.TargetApp:
				return f.srv.DeactivateApp(rr.ClientID)
			case rr.ClientID != "":
				f.srv.RevokeTokens(rr.ClientID)
				return nil
			default:
				return f.srv.RevokePresented(rr.Request)
			}
		},
		RotateNonce: func(invalidate bool) { f.srv.RotateNonce(invalidate) },
	})
	mux := http.NewServeMux()
	mux.Handle("/oauth2/v1/token", f.srv.TokenHandler())
	mux.HandleFunc("/api/v1/users", func(w http.ResponseWriter, r *http.Request) {
		if _, err := f.srv.Authenticate(r); err != nil {
			f.srv.WriteError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	return inj.Handler(mux), inj
}

func TestFaultRevokesPresentedToken(t *testing.T) {
	f := newFixture(t, nil)
	h, inj := faultedOrg(f)
	pk := f.newProofKey()
	tok := f.dpopToken(pk, "okta.users.manage")
	call := func() *httptest.ResponseRecorder {
		r := f.resourceRequest("GET", usersURL, "DPoP", tok, f.proof(pk, "GET", usersURL, func(c map[string]any) { c["ath"] = accessTokenHash(tok) }))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if w := call(); w.Code != 200 {
		t.Fatalf("before the fault: %d", w.Code)
	}
	if _, err := inj.Add(fault.Rule{Kind: fault.KindRevoke, Target: fault.TargetToken, Path: "/api/v1/users", Count: 1}); err != nil {
		t.Fatal(err)
	}
	w := call()
	if w.Code != 401 || w.Header().Get("WWW-Authenticate") == "" {
		t.Fatalf("after the fault: %d %v", w.Code, w.Header())
	}
}

func TestFaultRevokesKey(t *testing.T) {
	f := newFixture(t, nil)
	h, inj := faultedOrg(f)
	_ = f.srv.SetDPoPRequired(testClientID, false)
	if _, err := inj.Add(fault.Rule{Kind: fault.KindRevoke, Target: fault.TargetKey, ClientID: testClientID, KeyID: testKid, Path: "/oauth2/v1/token", Count: 1}); err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, tokenRequest(assertionForm(f.assertion(nil), "okta.logs.read"), ""))
	if w.Code != 401 || !strings.Contains(w.Body.String(), "The client_assertion JWT kid is invalid.") {
		t.Fatalf("got %d %s", w.Code, w.Body)
	}
}

func TestFaultRotatesNonce(t *testing.T) {
	f := newFixture(t, nil)
	h, inj := faultedOrg(f)
	pk := f.newProofKey()
	nonce := f.srv.CurrentNonce()
	if _, err := inj.Add(fault.Rule{Kind: fault.KindNonceRotate, Invalidate: true, Path: "/oauth2/v1/token", Count: 1}); err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, tokenRequest(assertionForm(f.assertion(nil), "okta.logs.read"),
		f.proof(pk, "POST", tokenURL, func(c map[string]any) { c["nonce"] = nonce })))
	if w.Code != 400 || !strings.Contains(w.Body.String(), `"use_dpop_nonce"`) || w.Header().Get("DPoP-Nonce") == nonce || w.Header().Get("DPoP-Nonce") == "" {
		t.Fatalf("got %d %s %v", w.Code, w.Body, w.Header())
	}
}

func TestFaultClockSkewExpiresTokens(t *testing.T) {
	var base *clock.Manual
	var inj *fault.Injector
	f := newFixture(t, func(c *Config) {
		base = c.Clock.(*clock.Manual)
		inj = fault.New(fault.Config{Clock: base})
		c.Clock = inj.Clock(base)
	})
	_ = f.srv.SetDPoPRequired(testClientID, false)
	tok := f.do(tokenRequest(assertionForm(f.assertion(nil), "okta.logs.read"), "")).body["access_token"].(string)
	if _, err := inj.Add(fault.Rule{Kind: fault.KindSkew, Skew: fault.Duration(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	_, err := f.srv.Authenticate(f.resourceRequest("GET", usersURL, "Bearer", tok, ""))
	var e *Error
	if !errors.As(err, &e) || e.Description != "The token has expired." {
		t.Fatalf("err = %v", err)
	}
}

package okta

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestDecodeError(t *testing.T) {
	cases := []struct {
		name    string
		status  int
		wwwAuth string
		body    string
		kind    ErrorKind
		fix     string
	}{
		{"invalid token", 401, "", `{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorLink":"E0000011","errorId":"oaeX","errorCauses":[]}`, KindInvalidToken, "Security > API > Tokens"},
		{"permission", 403, "", `{"errorCode":"E0000006","errorSummary":"You do not have permission to perform the requested action","errorId":"oaeY","errorCauses":[]}`, KindPermission, "Read-Only Administrator"},
		{"insufficient scope", 403, `Bearer realm="IdpMyAccountAPI", error="insufficient_scope", error_description="The access token provided does not contain the required scopes.", scope="okta.logs.read"`, `{"errorCode":"E0000006"}`, KindScope, "okta.logs.read"},
		{"no scopes", 400, "", `{"error":"invalid_scope","error_description":"No scopes were requested."}`, KindScope, "give the integration okta.logs.read"},
		{"invalid client kid", 401, "", `{"error":"invalid_client","error_description":"The client_assertion token has an invalid kid."}`, KindInvalidClient, "KID"},
		{"client secret app", 401, "", `{"error":"invalid_client","error_description":"Client Credentials requests to the Org Authorization Server must use the private_key_jwt token_endpoint_auth_method."}`, KindInvalidClient, "Public key / Private key"},
		{"rate limited", 429, "", `{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests.","errorId":"oaeZ","errorCauses":[]}`, KindRateLimited, "rate-limit percentage"},
		{"dpop missing", 400, "", `{"error":"invalid_dpop_proof","error_description":"The DPoP proof JWT header is missing."}`, KindDPoP, "requires DPoP"},
		{"dpop nonce resource", 401, `DPoP algs="RS256 ES256", error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof."`, ``, KindDPoP, "DPoP"},
		{"dpop bearer scheme", 400, "", `{"error":"invalid_request","error_description":"dpop_authentication_scheme_required"}`, KindDPoP, "DPoP"},
		{"dpop too old", 400, "", `{"error":"invalid_dpop_proof","error_description":"The DPoP proof JWT is too old."}`, KindDPoP, "clock"},
		{"not found", 404, "", `{"errorCode":"E0000007","errorSummary":"Not found: Resource not found: 00u1 (User)"}`, KindNotFound, "no object"},
		{"validation", 400, "", `{"errorCode":"E0000001","errorSummary":"Api validation failed: 'until': The date format in your query is not recognized.","errorCauses":[{"errorSummary":"until: bad date"}]}`, KindValidation, "filter syntax"},
		{"scim filter", 400, "", `{"errorCode":"E0000053","errorSummary":"Invalid search criteria"}`, KindValidation, "correct the query"},
		{"search criteria", 400, "", `{"errorCode":"E0000031","errorSummary":"Invalid search criteria."}`, KindValidation, "query"},
		{"server", 500, "", `{"errorCode":"E0000009","errorSummary":"Internal Server Error"}`, KindServer, "retries automatically"},
		{"html gateway", 502, "", `<html>bad gateway</html>`, KindServer, "retries"},
		{"bare 401", 401, "", ``, KindInvalidToken, "API token"},
		{"teapot", 418, "", `nope`, KindOther, "proxy"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.wwwAuth != "" {
				h.Set("WWW-Authenticate", tc.wwwAuth)
			}
			h.Set("X-Okta-Request-Id", "rid1")
			e := DecodeError(tc.status, h, []byte(tc.body))
			e.Method, e.Path = "GET", "/api/v1/logs"
			if e.Kind != tc.kind {
				t.Fatalf("kind = %v, want %v (%+v)", e.Kind, tc.kind, e)
			}
			if !strings.Contains(e.Fix(), tc.fix) {
				t.Errorf("Fix() = %q, want it to mention %q", e.Fix(), tc.fix)
			}
			wrapped := fmt.Errorf("poll acme: %w", e)
			var got *APIError
			if !errors.As(wrapped, &got) || !errors.Is(wrapped, tc.kind) || e.RequestID != "rid1" {
				t.Error("errors.As / errors.Is do not see through wrapping")
			}
			if tc.kind != KindOther && errors.Is(wrapped, KindOther) {
				t.Error("matches a kind it is not")
			}
		})
	}
	e := DecodeError(400, http.Header{}, []byte(`{"errorCode":"E0000001","errorSummary":"bad","errorId":"oae1","errorCauses":[{"errorSummary":"login: exists"},"x",{}]}`))
	e.Method, e.Path = "POST", "/api/v1/users"
	if want := "okta POST /api/v1/users: 400 E0000001: bad (login: exists) [errorId oae1]"; e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
}

func TestParseChallenges(t *testing.T) {
	chs := ParseChallenges([]string{`Bearer realm="a, b", error="invalid_token", DPoP algs="ES256 RS256", error="use_dpop_nonce"`, `Basic abc==`})
	if len(chs) != 3 || chs[0].Scheme != "Bearer" || chs[0].Params["realm"] != "a, b" || chs[1].Scheme != "DPoP" || chs[1].Params["error"] != "use_dpop_nonce" || chs[2].Scheme != "Basic" {
		t.Fatalf("challenges = %#v", chs)
	}
	if ch, _ := challengeError(chs); ch.Scheme != "DPoP" {
		t.Errorf("challengeError picked %q, want the DPoP challenge", ch.Scheme)
	}
}

func FuzzDecodeError(f *testing.F) {
	f.Add(401, `{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorCauses":[]}`, ``)
	f.Add(400, `{"error":"use_dpop_nonce","error_description":"x"}`, `DPoP error="use_dpop_nonce", algs="ES256"`)
	f.Add(403, `{"errorCode":"E0000006","errorCauses":[{"errorSummary":"a"},1,null]}`, `Bearer error="insufficient_scope", scope="okta.logs.read"`)
	f.Add(429, `not json`, `,,=="\`)
	f.Fuzz(func(t *testing.T, status int, body, wwwAuth string) {
		h := http.Header{}
		h.Set("WWW-Authenticate", wwwAuth)
		e := DecodeError(status, h, []byte(body))
		if e.Fix() == "" || e.Error() == "" || e.Kind.String() == "unknown" {
			t.Fatalf("incomplete error %+v", e)
		}
		for _, s := range append([]string{e.Summary, e.OAuthDescription, e.Code, e.ErrorID}, e.Causes...) {
			if strings.ContainsAny(s, "\n\r\x00") {
				t.Fatalf("control characters survive in %q", s)
			}
		}
		if status == 429 && e.Kind != KindRateLimited {
			t.Fatalf("429 classified as %v", e.Kind)
		}
	})
}

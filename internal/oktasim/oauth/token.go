package oauth

import (
	"crypto"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// jwtBearerType is the only client_assertion_type Okta accepts.
const jwtBearerType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// maxFormBytes bounds a token request body.
const maxFormBytes = 64 << 10

// tokenResponse is the token endpoint's success body.
type tokenResponse struct {
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	AccessToken string `json:"access_token"`
	Scope       string `json:"scope"`
}

// accessClaims are the claims of the access tokens this server mints.
type accessClaims struct {
	Version  int              `json:"ver"`
	ID       string           `json:"jti"`
	Issuer   string           `json:"iss"`
	Audience string           `json:"aud"`
	Subject  string           `json:"sub"`
	IssuedAt *jwt.NumericDate `json:"iat"`
	Expiry   *jwt.NumericDate `json:"exp"`
	ClientID string           `json:"cid"`
	Scopes   []string         `json:"scp"`
	Cnf      *confirmation    `json:"cnf,omitempty"`
}

// confirmation binds a token to a DPoP key (RFC 9449 §6).
type confirmation struct {
	JKT string `json:"jkt"`
}

// TokenHandler serves POST /oauth2/v1/token: the client_credentials grant with a
// private_key_jwt client assertion, and DPoP per app. Parameters are read from the form
// body and, because Okta's Go SDK sends them there, from the query string. A DPoP proof sent
// for an app that does not require DPoP is still checked, and binds the token (RFC 9449).
func (s *Server) TokenHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev := TokenEvent{Time: s.now(), RemoteIP: remoteIP(r)}
		res, e := s.token(r, &ev)
		ev.Outcome = "SUCCESS"
		if e != nil {
			ev.Outcome, ev.Reason = "FAILURE", e.Internal
			if e.Code == "use_dpop_nonce" {
				ev.Outcome = "CHALLENGE"
			}
		}
		if s.cfg.OnToken != nil {
			s.cfg.OnToken(ev)
		}
		h := w.Header()
		h.Set("Cache-Control", "no-cache, no-store")
		h.Set("Pragma", "no-cache")
		if e != nil {
			if e.Status == http.StatusMethodNotAllowed {
				h.Set("Allow", http.MethodPost)
			}
			writeOAuthError(w, e)
			return
		}
		h.Set("Content-Type", "application/json")
		if res.TokenType == "DPoP" {
			h.Set("DPoP-Nonce", s.CurrentNonce())
		}
		_ = json.NewEncoder(w).Encode(res)
	})
}

// writeOAuthError writes a token-endpoint error body, with DPoP-Nonce when it has one.
func writeOAuthError(w http.ResponseWriter, e *Error) {
	if e.Nonce != "" {
		w.Header().Set("DPoP-Nonce", e.Nonce)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": e.Code, "error_description": e.Description})
}

// token runs one token request and fills ev as it learns about the client.
func (s *Server) token(r *http.Request, ev *TokenEvent) (*tokenResponse, *Error) {
	if r.Method != http.MethodPost {
		return nil, &Error{Status: http.StatusMethodNotAllowed, Code: "invalid_request", Internal: codeInvalidRequest, Description: "Invalid request"}
	}
	params, e := tokenParams(r)
	if e != nil {
		return nil, e
	}
	switch gt := params.Get("grant_type"); gt {
	case "":
		return nil, oerr(codeMissingGrantType)
	case "client_credentials":
	default:
		return nil, oerr(codeUnsupportedGrantType)
	}
	_, _, hasBasic := r.BasicAuth()
	creds := 0
	for _, present := range []bool{hasBasic, params.Has("client_secret"), params.Has("client_assertion")} {
		if present {
			creds++
		}
	}
	switch {
	case creds > 1:
		return nil, oerr(codeMultipleClientCredentials)
	case creds == 0:
		return nil, oerr(codeMissingClientCredentials)
	case !params.Has("client_assertion"):
		return nil, s.secretAuthError(r, params, ev)
	}
	if params.Get("client_assertion_type") != jwtBearerType {
		return nil, oerr(codeAssertionTypeInvalid)
	}
	now := s.now()
	endpoint := requestURL(r)
	va, e := s.verifyAssertion(params.Get("client_assertion"), endpoint.String(), params.Get("client_id"), now)
	if e != nil {
		return nil, e
	}
	ev.ClientID = va.app.ClientID

	var jkt string
	if va.app.DPoPRequired || len(r.Header.Values("DPoP")) > 0 {
		if jkt, e = s.tokenProof(r, endpoint, va, now); e != nil {
			return nil, e
		}
	}
	scopes, e := grantedScopes(params.Get("scope"), va.app.Scopes)
	if e != nil {
		return nil, e
	}
	if e := s.spendAssertion(va, now); e != nil {
		return nil, e
	}
	res, id, e := s.mint(va.app.ClientID, scopes, jkt, now)
	if e != nil {
		return nil, e
	}
	ev.Scopes, ev.TokenID, ev.DPoPBound = scopes, id, jkt != ""
	return res, nil
}

// secretAuthError answers a client-secret token request: a known service app is told it
// must use private_key_jwt, anything else that the client is invalid.
func (s *Server) secretAuthError(r *http.Request, params url.Values, ev *TokenEvent) *Error {
	id, _, ok := r.BasicAuth()
	if !ok {
		id = params.Get("client_id")
	}
	if a, found := s.App(id); found && a.Active && a.HasClientSecret {
		ev.ClientID = a.ClientID
		return oerr(codeUnsupportedAuthClientCreds)
	}
	return oerr(codeInvalidClient)
}

// tokenProof validates the DPoP proof of a token request and returns the key thumbprint
// to bind. A proof without a valid nonce gets use_dpop_nonce with the current nonce.
func (s *Server) tokenProof(r *http.Request, endpoint *url.URL, va *verifiedAssertion, now time.Time) (string, *Error) {
	raw, e := proofHeader(r)
	if e != nil {
		return "", e
	}
	p, e := ParseProof(raw)
	if e != nil {
		return "", e
	}
	if e := s.checkRequest(p, r.Method, endpoint, now); e != nil {
		return "", e
	}
	if assertionJKT, err := va.key.Thumbprint(crypto.SHA256); err == nil &&
		base64.RawURLEncoding.EncodeToString(assertionJKT) == p.JKT {
		// Okta requires the DPoP key to differ from the client-assertion key.
		return "", oerr(codeDPoP)
	}
	if !s.nonces.valid(p.claims.Nonce, now) {
		e := oerr(codeUseDPoPNonce)
		e.Nonce = s.nonces.current(now)
		return "", e
	}
	if e := s.spendProof(p, now); e != nil {
		return "", e
	}
	return p.JKT, nil
}

// tokenParams merges the form body and query, refusing duplicate parameters.
func tokenParams(r *http.Request) (url.Values, *Error) {
	out := url.Values{}
	add := func(vals url.Values) *Error {
		for k, vs := range vals {
			if len(vs) > 1 || out.Has(k) {
				return oerr(codeDuplicateParams)
			}
			out.Set(k, vs[0])
		}
		return nil
	}
	if r.Body != nil {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxFormBytes))
		if err != nil {
			return nil, oerr(codeInvalidRequest)
		}
		if len(body) > 0 {
			if ct != "application/x-www-form-urlencoded" {
				return nil, oerr(codeInvalidRequest)
			}
			vals, err := url.ParseQuery(string(body))
			if err != nil {
				return nil, oerr(codeInvalidRequest)
			}
			if e := add(vals); e != nil {
				return nil, e
			}
		}
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, oerr(codeInvalidRequest)
	}
	if e := add(q); e != nil {
		return nil, e
	}
	return out, nil
}

// grantedScopes checks the requested scopes against the app's grants.
func grantedScopes(requested string, granted []string) ([]string, *Error) {
	scopes := strings.Fields(requested)
	if len(scopes) == 0 {
		return nil, oerr(codeMissingScopes)
	}
	var out []string
	for _, sc := range scopes {
		if sc == "openid" {
			return nil, oerr(codeOpenIDNotAllowed)
		}
		if !slices.Contains(granted, sc) {
			return nil, oerr(codeInvalidScope)
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

// mint signs an access token for the client, bound to jkt when it is set.
func (s *Server) mint(clientID string, scopes []string, jkt string, now time.Time) (*tokenResponse, string, *Error) {
	id := "AT." + randomID(24)
	exp := now.Add(s.cfg.TokenTTL)
	c := accessClaims{
		Version: 1, ID: id, Issuer: s.cfg.Issuer, Audience: s.cfg.Issuer, Subject: clientID,
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(exp), ClientID: clientID, Scopes: scopes,
	}
	typ := "Bearer"
	if jkt != "" {
		c.Cnf, typ = &confirmation{JKT: jkt}, "DPoP"
	}
	tok, err := jwt.Signed(s.signer).Claims(c).Serialize()
	if err != nil {
		s.cfg.Logger.Error("oauth: sign access token", "err", err)
		return nil, "", oerr(codeServerError)
	}
	s.recordToken(id, clientID, exp, now)
	return &tokenResponse{TokenType: typ, ExpiresIn: int64(s.cfg.TokenTTL / time.Second), AccessToken: tok, Scope: strings.Join(scopes, " ")}, id, nil
}

// remoteIP is the client address without its port.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

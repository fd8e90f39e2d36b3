package oauth

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// ErrNoToken means the request carries no OAuth access token (no Authorization header, or
// another scheme such as SSWS); the caller tries its other authentication methods.
var ErrNoToken = errors.New("oauth: request carries no OAuth access token")

// Principal is the client an access token authenticates.
type Principal struct {
	ClientID string
	Scopes   []string
	// RateKey identifies the client for per-app rate-limit shares.
	RateKey string
	// TokenID is the access token's jti.
	TokenID   string
	DPoPBound bool
	Expires   time.Time
}

// scheme is the challenge scheme errors about this principal's token use.
func (p Principal) scheme() string {
	if p.DPoPBound {
		return "DPoP"
	}
	return "Bearer"
}

// Authenticate checks the OAuth credentials of a resource call: an access token this
// server issued, live and not revoked, and for DPoP-bound tokens the DPoP scheme with a
// fresh proof (htm, htu, iat, jti, ath, and the key matching cnf.jkt). Errors are *Error,
// rendered with WriteError, or ErrNoToken.
//
// A DPoP-bound token presented with the Bearer scheme gets 400 invalid_request, as Okta's
// error catalog says; a field report saw 403 instead, which nothing in Okta's docs confirms.
func (s *Server) Authenticate(r *http.Request) (Principal, error) {
	auths := r.Header.Values("Authorization")
	if len(auths) == 0 {
		return Principal{}, ErrNoToken
	}
	scheme, tok, _ := strings.Cut(strings.TrimSpace(auths[0]), " ")
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		scheme = "Bearer"
	case strings.EqualFold(scheme, "DPoP"):
		scheme = "DPoP"
	default:
		return Principal{}, ErrNoToken
	}
	if len(auths) > 1 {
		return Principal{}, resourceErr(codeInvalidRequest, scheme)
	}
	tok = strings.TrimSpace(tok)
	now := s.now()
	c, e := s.liveToken(tok, scheme, now)
	if e != nil {
		return Principal{}, e
	}
	p := Principal{
		ClientID: c.ClientID, Scopes: slices.Clone(c.Scopes), RateKey: "app:" + c.ClientID,
		TokenID: c.ID, DPoPBound: c.Cnf != nil, Expires: c.Expiry.Time(),
	}
	switch {
	case c.Cnf == nil && scheme == "DPoP":
		return Principal{}, resourceErr(codeNotDPoPBound, "DPoP")
	case c.Cnf != nil && scheme == "Bearer":
		return Principal{}, resourceErr(codeDPoPSchemeRequired, "DPoP")
	case c.Cnf != nil:
		if e := s.resourceProof(r, tok, c.Cnf.JKT, now); e != nil {
			return Principal{}, e
		}
	}
	return p, nil
}

// resourceProof checks the DPoP proof of a resource call made with a bound token.
func (s *Server) resourceProof(r *http.Request, tok, jkt string, now time.Time) *Error {
	if len(r.Header.Values("DPoP")) == 0 {
		return resourceErr(codeDPoPRequiredForToken, "DPoP")
	}
	raw, e := proofHeader(r)
	if e == nil {
		var p *Proof
		if p, e = ParseProof(raw); e == nil {
			e = s.checkBoundProof(p, r, tok, jkt, now)
		}
	}
	if e != nil {
		e.Scheme = "DPoP"
		if e.Status == http.StatusUnauthorized && e.Code == "invalid_token" {
			e.OktaCode = "E0000011"
		}
	}
	return e
}

// checkBoundProof checks the request claims, ath, key binding, nonce and replay.
func (s *Server) checkBoundProof(p *Proof, r *http.Request, tok, jkt string, now time.Time) *Error {
	if e := s.checkRequest(p, r.Method, requestURL(r), now); e != nil {
		return e
	}
	if p.claims.ATH == "" || !constantEq(p.claims.ATH, accessTokenHash(tok)) {
		return oerr(codeDPoPAth)
	}
	if !constantEq(p.JKT, jkt) {
		return oerr(codeDPoPBinding)
	}
	if s.cfg.ResourceNonceRequired && !s.nonces.valid(p.claims.Nonce, now) {
		return &Error{
			Status: http.StatusUnauthorized, Code: "use_dpop_nonce", Internal: codeUseDPoPNonce,
			Description: "Resource server requires nonce in DPoP proof.", Nonce: s.nonces.current(now),
		}
	}
	return s.spendProof(p, now)
}

// parseAccessToken verifies the signature of an access token this server minted.
func (s *Server) parseAccessToken(tok string) (*accessClaims, error) {
	t, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, err
	}
	var c accessClaims
	if err := t.Claims(s.pubJWK.Key, &c); err != nil {
		return nil, err
	}
	if c.ID == "" || c.Expiry == nil || c.Issuer != s.cfg.Issuer {
		return nil, errors.New("oauth: not an access token of this server")
	}
	return &c, nil
}

// liveToken verifies the token and checks it is neither expired nor revoked.
func (s *Server) liveToken(tok, scheme string, now time.Time) (*accessClaims, *Error) {
	if tok == "" || len(tok) > maxJWTLen {
		return nil, resourceErr(codeTokenInvalid, scheme)
	}
	c, err := s.parseAccessToken(tok)
	if err != nil {
		return nil, resourceErr(codeTokenInvalid, scheme)
	}
	if !now.Before(c.Expiry.Time()) {
		return nil, resourceErr(codeTokenExpired, scheme)
	}
	s.mu.RLock()
	rec, known := s.tokens[c.ID]
	revoked := known && rec.revoked
	a, appOK := s.apps[c.ClientID]
	appActive := appOK && a.Active
	s.mu.RUnlock()
	switch {
	case !known:
		return nil, resourceErr(codeTokenInvalid, scheme)
	case revoked || !appActive:
		return nil, resourceErr(codeTokenRevoked, scheme)
	}
	return c, nil
}

// HasScope reports whether the principal may act with scope: it holds the scope, or for an
// okta.<resource>.read scope, the matching okta.<resource>.manage scope.
func HasScope(p Principal, scope string) bool {
	if slices.Contains(p.Scopes, scope) {
		return true
	}
	if base, ok := strings.CutSuffix(scope, ".read"); ok {
		return slices.Contains(p.Scopes, base+".manage")
	}
	return false
}

// RequireScope returns nil when the principal holds scope (see HasScope), otherwise the
// 403 insufficient_scope error Okta answers with: a WWW-Authenticate challenge naming the
// scope, and no body.
func RequireScope(p Principal, scope string) error {
	if HasScope(p, scope) {
		return nil
	}
	e := oerr(codeInsufficientScope)
	e.Scheme, e.Scope = p.scheme(), scope
	return e
}

// WriteError renders an error from Authenticate or RequireScope as Okta does: the status,
// a WWW-Authenticate challenge for the request path, DPoP-Nonce when there is one, and for
// rejected tokens (401) an Okta E0000011 error object. Any other error becomes a 500.
func (s *Server) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = oerr(codeServerError)
	}
	h := w.Header()
	h.Set("WWW-Authenticate", e.Challenge(s.cfg.Issuer, r.URL.Path))
	if e.Nonce != "" {
		h.Set("DPoP-Nonce", e.Nonce)
	}
	if e.OktaCode == "" {
		w.WriteHeader(e.Status)
		return
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(OktaError{
		ErrorCode: e.OktaCode, ErrorSummary: "Invalid token provided", ErrorLink: e.OktaCode,
		ErrorID: "oae" + randomID(16)[:22], ErrorCauses: []OktaErrorCause{},
	})
}

// OktaError is Okta's management-API error object.
type OktaError struct {
	ErrorCode    string           `json:"errorCode"`
	ErrorSummary string           `json:"errorSummary"`
	ErrorLink    string           `json:"errorLink"`
	ErrorID      string           `json:"errorId"`
	ErrorCauses  []OktaErrorCause `json:"errorCauses"`
}

// OktaErrorCause is one entry of an Okta error's errorCauses.
type OktaErrorCause struct {
	ErrorSummary string `json:"errorSummary"`
}

package oauth

import (
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// assertionClaims are the claims of a private_key_jwt client assertion.
type assertionClaims struct {
	Issuer    string           `json:"iss"`
	Subject   string           `json:"sub"`
	Audience  jwt.Audience     `json:"aud"`
	Expiry    *jwt.NumericDate `json:"exp"`
	IssuedAt  *jwt.NumericDate `json:"iat"`
	NotBefore *jwt.NumericDate `json:"nbf"`
	ID        string           `json:"jti"`
}

// parsedAssertion is a client assertion that parsed, before any check against an app.
type parsedAssertion struct {
	tok    *jwt.JSONWebToken
	header jose.Header
	claims assertionClaims
}

// parseAssertion parses a client assertion without verifying it.
func parseAssertion(raw string) (*parsedAssertion, *Error) {
	tok, hdr, err := parseCompact(raw)
	if err == errBadAlg {
		return nil, oerr(codeAssertionInvalidAlg)
	}
	if err != nil {
		return nil, oerr(codeAssertionInvalidJWT)
	}
	var c assertionClaims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return nil, oerr(codeAssertionInvalidJWT)
	}
	return &parsedAssertion{tok: tok, header: hdr, claims: c}, nil
}

// verifiedAssertion is a client assertion that passed every check.
type verifiedAssertion struct {
	app    App
	key    jose.JSONWebKey
	claims assertionClaims
}

// replayKey is the assertion's identity in the replay cache.
func (v *verifiedAssertion) replayKey() string {
	return "assertion\x00" + v.app.ClientID + "\x00" + v.claims.ID
}

// verifyAssertion checks a client assertion as Okta does: issuer and subject are the
// client id, a registered signing key (by kid) made the signature, aud is exactly the
// endpoint invoked, exp is present and at most MaxAssertionLifetime ahead, iat/nbf are
// not in the future, and the jti has not been spent. It does not spend the jti.
func (s *Server) verifyAssertion(raw, endpoint, clientIDParam string, now time.Time) (*verifiedAssertion, *Error) {
	pa, e := parseAssertion(raw)
	if e != nil {
		return nil, e
	}
	c := pa.claims
	a, ok := s.App(c.Issuer)
	if !ok || c.Issuer == "" {
		return nil, oerr(codeAssertionInvalidIssuer)
	}
	if c.Subject != c.Issuer {
		return nil, oerr(codeAssertionInvalidSubject)
	}
	if clientIDParam != "" && clientIDParam != c.Issuer {
		return nil, oerr(codeInvalidClientID)
	}
	if !a.Active {
		return nil, oerr(codeInvalidClient)
	}
	if len(a.Keys) == 0 {
		return nil, oerr(codeAssertionJWKSNotConfigured)
	}
	kid := pa.header.KeyID
	i := slices.IndexFunc(a.Keys, func(k jose.JSONWebKey) bool { return k.KeyID == kid })
	if kid == "" || i < 0 {
		return nil, oerr(codeAssertionInvalidKid)
	}
	key := a.Keys[i]
	if key.Use != "" && key.Use != "sig" {
		return nil, oerr(codeAssertionInvalidKeyUse)
	}
	alg := pa.header.Algorithm
	if (key.Algorithm != "" && key.Algorithm != alg) || !keyFitsAlg(key.Key, alg) {
		return nil, oerr(codeAssertionInvalidAlg)
	}
	if err := pa.tok.Claims(key.Key, &c); err != nil {
		return nil, oerr(codeAssertionInvalidSignature)
	}
	if len(c.Audience) != 1 || c.Audience[0] != endpoint {
		return nil, oerr(codeAssertionInvalidAudience)
	}
	lw := s.cfg.Leeway
	if c.Expiry == nil {
		return nil, oerr(codeAssertionExpRequired)
	}
	exp := c.Expiry.Time()
	if !now.Before(exp.Add(lw)) {
		return nil, oerr(codeAssertionExpired)
	}
	if exp.After(now.Add(s.cfg.MaxAssertionLifetime + lw)) {
		return nil, oerr(codeAssertionTooFar)
	}
	if c.IssuedAt != nil && c.IssuedAt.Time().After(now.Add(lw)) {
		return nil, oerr(codeAssertionIatFuture)
	}
	if c.NotBefore != nil && c.NotBefore.Time().After(now.Add(lw)) {
		return nil, oerr(codeInvalidClient)
	}
	v := &verifiedAssertion{app: a, key: key, claims: c}
	if c.ID != "" && s.replay.seenBefore(v.replayKey(), now) {
		return nil, oerr(codeAssertionAlreadyUsed)
	}
	return v, nil
}

// spendAssertion records the assertion's jti so it cannot be used again; it reports
// already-used when a concurrent request spent it first.
func (s *Server) spendAssertion(v *verifiedAssertion, now time.Time) *Error {
	if v.claims.ID == "" {
		return nil
	}
	exp := v.claims.Expiry.Time().Add(s.cfg.Leeway)
	ok, err := s.replay.claim(v.replayKey(), exp, now)
	if err != nil {
		return oerr(codeTemporarilyUnavailable)
	}
	if !ok {
		return oerr(codeAssertionAlreadyUsed)
	}
	return nil
}

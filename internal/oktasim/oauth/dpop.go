package oauth

import (
	"crypto"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// maxJTILen bounds a proof's jti so the replay cache cannot be fed huge keys.
const maxJTILen = 256

// proofClaims are the claims of a DPoP proof (RFC 9449 §4.2).
type proofClaims struct {
	ID       string           `json:"jti"`
	Method   string           `json:"htm"`
	URL      string           `json:"htu"`
	IssuedAt *jwt.NumericDate `json:"iat"`
	Expiry   *jwt.NumericDate `json:"exp"`
	Nonce    string           `json:"nonce"`
	ATH      string           `json:"ath"`
}

// Proof is a DPoP proof whose signature verified with its embedded key.
type Proof struct {
	claims proofClaims
	// JKT is the RFC 7638 SHA-256 thumbprint of the proof key, base64url.
	JKT string
}

// ParseProof parses a DPoP proof and verifies it is a dpop+jwt signed, with an accepted
// asymmetric algorithm, by the public key in its own jwk header. It checks nothing about
// the request; that is CheckRequest's job.
func ParseProof(raw string) (*Proof, *Error) {
	tok, hdr, err := parseCompact(raw)
	if err == errBadAlg {
		return nil, oerr(codeDPoPAlg)
	}
	if err != nil {
		// go-jose refuses an embedded private key at parse time; that is a bad proof too.
		return nil, oerr(codeDPoPJWT)
	}
	if typ, _ := hdr.ExtraHeaders["typ"].(string); !strings.EqualFold(typ, "dpop+jwt") {
		return nil, oerr(codeDPoPType)
	}
	jwk := hdr.JSONWebKey
	if jwk == nil || !jwk.Valid() || !jwk.IsPublic() {
		return nil, oerr(codeDPoP)
	}
	if !keyFitsAlg(jwk.Key, hdr.Algorithm) {
		return nil, oerr(codeDPoPAlg)
	}
	var c proofClaims
	if err := tok.Claims(jwk.Key, &c); err != nil {
		if tok.UnsafeClaimsWithoutVerification(&c) != nil {
			return nil, oerr(codeDPoPJWT)
		}
		return nil, oerr(codeDPoPSignature)
	}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, oerr(codeDPoP)
	}
	return &Proof{claims: c, JKT: base64.RawURLEncoding.EncodeToString(tp)}, nil
}

// checkRequest checks the proof against the request it came with: htm equals the method,
// htu names the endpoint (scheme and host compared case-insensitively with default ports
// dropped, query and fragment ignored, and the path compared literally with the request's
// percent-decoded path, as Okta does), iat within [now-ProofMaxAge, now+Leeway], exp if
// present not passed, and a usable jti.
func (s *Server) checkRequest(p *Proof, method string, endpoint *url.URL, now time.Time) *Error {
	c := p.claims
	if c.Method != method {
		return oerr(codeDPoPHTM)
	}
	if !htuMatches(c.URL, endpoint) {
		return oerr(codeDPoPHTU)
	}
	if c.IssuedAt == nil {
		return oerr(codeDPoPIat)
	}
	iat := c.IssuedAt.Time()
	if iat.After(now.Add(s.cfg.Leeway)) {
		return oerr(codeDPoPFuture)
	}
	if iat.Before(now.Add(-s.cfg.ProofMaxAge)) {
		return oerr(codeDPoPTooOld)
	}
	if c.Expiry != nil && !now.Before(c.Expiry.Time()) {
		return oerr(codeDPoPExpired)
	}
	if c.ID == "" || len(c.ID) > maxJTILen {
		return oerr(codeDPoPJti)
	}
	return nil
}

// spendProof records the proof's jti; a proof is single-use.
func (s *Server) spendProof(p *Proof, now time.Time) *Error {
	exp := p.claims.IssuedAt.Time().Add(s.cfg.ProofMaxAge + s.cfg.Leeway)
	ok, err := s.replay.claim("dpop\x00"+p.claims.ID, exp, now)
	if err != nil {
		return oerr(codeTemporarilyUnavailable)
	}
	if !ok {
		return oerr(codeDPoPReplay)
	}
	return nil
}

// htuMatches compares a proof's htu with the endpoint the request invoked.
func htuMatches(htu string, endpoint *url.URL) bool {
	u, err := url.Parse(htu)
	if err != nil || u.Opaque != "" || u.User != nil {
		return false
	}
	if !strings.EqualFold(u.Scheme, endpoint.Scheme) || normalHost(u) != normalHost(endpoint) {
		return false
	}
	got := u.EscapedPath()
	if got == "" {
		got = "/"
	}
	want := endpoint.Path
	if want == "" {
		want = "/"
	}
	return got == want
}

// normalHost lower-cases the host and drops the scheme's default port.
func normalHost(u *url.URL) string {
	host := strings.ToLower(u.Host)
	switch {
	case strings.EqualFold(u.Scheme, "https") && strings.HasSuffix(host, ":443"):
		host = strings.TrimSuffix(host, ":443")
	case strings.EqualFold(u.Scheme, "http") && strings.HasSuffix(host, ":80"):
		host = strings.TrimSuffix(host, ":80")
	}
	return host
}

// accessTokenHash is the ath value for a token: base64url(SHA-256(token)).
func accessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// constantEq compares two strings without leaking where they differ.
func constantEq(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// requestURL is the endpoint a request invoked: its scheme and Host, and its decoded path.
func requestURL(r *http.Request) *url.URL {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return &url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path}
}

// proofHeader returns the request's single DPoP header, or the error for none or several.
func proofHeader(r *http.Request) (string, *Error) {
	vals := r.Header.Values("DPoP")
	switch {
	case len(vals) == 0:
		return "", oerr(codeDPoPMissing)
	case len(vals) > 1:
		return "", oerr(codeDPoPMultiple)
	}
	return vals[0], nil
}

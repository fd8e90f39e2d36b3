package oauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// clientAlgs are the signature algorithms Okta accepts for client assertions and DPoP
// proofs. Symmetric algorithms and "none" are refused.
var clientAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512,
}

// maxJWTLen bounds the size of a client assertion or proof a request may carry.
const maxJWTLen = 16 << 10

// errBadAlg and errBadJWT classify parse failures for the error catalog.
var (
	errBadAlg = errors.New("signature algorithm not accepted")
	errBadJWT = errors.New("not a compact signed JWT")
)

// parseCompact parses a compact JWS with one of the accepted algorithms and returns the
// token and its single header. It reads nothing it has not verified yet except the header.
func parseCompact(raw string) (*jwt.JSONWebToken, jose.Header, error) {
	if raw == "" || len(raw) > maxJWTLen {
		return nil, jose.Header{}, errBadJWT
	}
	tok, err := jwt.ParseSigned(raw, clientAlgs)
	if err != nil {
		var algErr *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &algErr) {
			return nil, jose.Header{}, errBadAlg
		}
		return nil, jose.Header{}, errBadJWT
	}
	if len(tok.Headers) != 1 {
		return nil, jose.Header{}, errBadJWT
	}
	return tok, tok.Headers[0], nil
}

// keyFitsAlg reports whether key can verify signatures made with alg, curve included.
func keyFitsAlg(key any, alg string) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return (alg == "RS256" || alg == "RS384" || alg == "RS512") && k.N.BitLen() >= 2048
	case *ecdsa.PublicKey:
		switch alg {
		case "ES256":
			return k.Curve == elliptic.P256()
		case "ES384":
			return k.Curve == elliptic.P384()
		case "ES512":
			return k.Curve == elliptic.P521()
		}
	}
	return false
}

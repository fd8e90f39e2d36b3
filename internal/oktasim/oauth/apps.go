package oauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// maxKeysPerApp is Okta's limit on keys saved for one app.
const maxKeysPerApp = 50

// AppSpec describes a service app to register.
type AppSpec struct {
	// ClientID is the app's client id; empty generates an Okta-style "0oa…" id.
	ClientID string
	// Name is the app's label.
	Name string
	// Keys are the app's public signing keys; each needs a unique kid. RSA keys must be at
	// least 2048 bits; EC keys must be on P-256, P-384 or P-521.
	Keys []jose.JSONWebKey
	// Scopes are the Okta API scopes granted to the app.
	Scopes []string
	// DPoPRequired requires DPoP-bound tokens; nil means true, as for new service apps.
	DPoPRequired *bool
	// HasClientSecret records that the app also has a client secret, so a client-secret
	// token request is recognised and refused as Okta refuses it.
	HasClientSecret bool
}

// App is a registered service app as the registry reports it.
type App struct {
	ClientID        string
	Name            string
	Keys            []jose.JSONWebKey
	Scopes          []string
	DPoPRequired    bool
	Active          bool
	HasClientSecret bool
	Created         time.Time
}

// app is the registry's mutable record; guarded by Server.mu.
type app struct {
	App
}

// issuedToken is the server's record of an access token it minted.
type issuedToken struct {
	clientID string
	exp      time.Time
	revoked  bool
}

// AddApp registers a service app and returns it.
func (s *Server) AddApp(spec AppSpec) (App, error) {
	if spec.ClientID == "" {
		spec.ClientID = "0oa" + strings.NewReplacer("-", "x", "_", "y").Replace(randomID(13))[:17]
	}
	if strings.ContainsAny(spec.ClientID, " \t\r\n\x00") {
		return App{}, fmt.Errorf("oauth: client id %q must not contain whitespace", spec.ClientID)
	}
	seen := map[string]bool{}
	keys := make([]jose.JSONWebKey, 0, len(spec.Keys))
	for _, k := range spec.Keys {
		pub, err := validatePublicKey(k)
		if err != nil {
			return App{}, err
		}
		if seen[pub.KeyID] {
			return App{}, fmt.Errorf("oauth: key id %q is used twice; every key of an app needs a unique kid", pub.KeyID)
		}
		seen[pub.KeyID] = true
		keys = append(keys, pub)
	}
	if len(keys) > maxKeysPerApp {
		return App{}, fmt.Errorf("oauth: %d keys given; an app can hold at most %d", len(keys), maxKeysPerApp)
	}
	for _, sc := range spec.Scopes {
		if sc == "" || strings.ContainsAny(sc, " \t\r\n") {
			return App{}, fmt.Errorf("oauth: scope %q is not a single scope token", sc)
		}
	}
	dpop := spec.DPoPRequired == nil || *spec.DPoPRequired
	a := &app{App{
		ClientID: spec.ClientID, Name: spec.Name, Keys: keys, Scopes: slices.Clone(spec.Scopes),
		DPoPRequired: dpop, Active: true, HasClientSecret: spec.HasClientSecret, Created: s.now(),
	}}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.apps[a.ClientID]; dup {
		return App{}, fmt.Errorf("oauth: client id %q is already registered", a.ClientID)
	}
	s.apps[a.ClientID] = a
	return a.snapshot(), nil
}

// validatePublicKey checks a key an app registers and returns its public form.
func validatePublicKey(k jose.JSONWebKey) (jose.JSONWebKey, error) {
	if k.KeyID == "" {
		return k, errors.New("oauth: every app key needs a kid")
	}
	if !k.Valid() {
		return k, fmt.Errorf("oauth: key %q is not a valid JWK", k.KeyID)
	}
	if k.Use != "" && k.Use != "sig" {
		return k, fmt.Errorf("oauth: key %q has use %q; client assertion keys must be signing keys (use \"sig\")", k.KeyID, k.Use)
	}
	pub := k.Public()
	switch key := pub.Key.(type) {
	case *rsa.PublicKey:
		if key.N.BitLen() < 2048 {
			return k, fmt.Errorf("oauth: RSA key %q has %d bits; use at least 2048", k.KeyID, key.N.BitLen())
		}
	case *ecdsa.PublicKey:
		switch key.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return k, fmt.Errorf("oauth: EC key %q must be on P-256, P-384 or P-521", k.KeyID)
		}
	default:
		return k, fmt.Errorf("oauth: key %q must be an RSA or EC public key", k.KeyID)
	}
	return pub, nil
}

// snapshot copies the record for callers.
func (a *app) snapshot() App {
	c := a.App
	c.Keys = slices.Clone(a.Keys)
	c.Scopes = slices.Clone(a.Scopes)
	return c
}

// App returns the registered app with clientID.
func (s *Server) App(clientID string) (App, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.apps[clientID]
	if !ok {
		return App{}, false
	}
	return a.snapshot(), true
}

// Apps lists the registered apps, ordered by client id.
func (s *Server) Apps() []App {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]App, 0, len(s.apps))
	for _, a := range s.apps {
		out = append(out, a.snapshot())
	}
	slices.SortFunc(out, func(x, y App) int { return strings.Compare(x.ClientID, y.ClientID) })
	return out
}

// update runs fn on the app under the write lock.
func (s *Server) update(clientID string, fn func(a *app) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[clientID]
	if !ok {
		return fmt.Errorf("oauth: no app with client id %q", clientID)
	}
	return fn(a)
}

// AddKey registers another public key for the app.
func (s *Server) AddKey(clientID string, k jose.JSONWebKey) error {
	pub, err := validatePublicKey(k)
	if err != nil {
		return err
	}
	return s.update(clientID, func(a *app) error {
		if slices.ContainsFunc(a.Keys, func(x jose.JSONWebKey) bool { return x.KeyID == pub.KeyID }) {
			return fmt.Errorf("oauth: app %q already has a key with kid %q", clientID, pub.KeyID)
		}
		if len(a.Keys) >= maxKeysPerApp {
			return fmt.Errorf("oauth: app %q already holds %d keys", clientID, maxKeysPerApp)
		}
		a.Keys = append(a.Keys, pub)
		return nil
	})
}

// RevokeKey removes a key from the app; assertions signed with it are refused from now on
// (client_assertion_invalid_kid). Tokens already issued stay valid, as in Okta.
func (s *Server) RevokeKey(clientID, kid string) error {
	return s.update(clientID, func(a *app) error {
		i := slices.IndexFunc(a.Keys, func(x jose.JSONWebKey) bool { return x.KeyID == kid })
		if i < 0 {
			return fmt.Errorf("oauth: app %q has no key with kid %q", clientID, kid)
		}
		a.Keys = slices.Delete(a.Keys, i, i+1)
		return nil
	})
}

// SetScopes replaces the scopes granted to the app. Tokens already issued keep theirs.
func (s *Server) SetScopes(clientID string, scopes []string) error {
	return s.update(clientID, func(a *app) error {
		a.Scopes = slices.Clone(scopes)
		return nil
	})
}

// SetDPoPRequired turns the app's "Require DPoP" setting on or off.
func (s *Server) SetDPoPRequired(clientID string, required bool) error {
	return s.update(clientID, func(a *app) error {
		a.DPoPRequired = required
		return nil
	})
}

// DeactivateApp deactivates the app: token requests fail with invalid_client and every
// token it holds is revoked.
func (s *Server) DeactivateApp(clientID string) error {
	if err := s.update(clientID, func(a *app) error {
		a.Active = false
		return nil
	}); err != nil {
		return err
	}
	s.RevokeTokens(clientID)
	return nil
}

// ActivateApp reactivates a deactivated app.
func (s *Server) ActivateApp(clientID string) error {
	return s.update(clientID, func(a *app) error {
		a.Active = true
		return nil
	})
}

// RevokeTokens revokes every live access token issued to the app and returns how many.
func (s *Server) RevokeTokens(clientID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, t := range s.tokens {
		if t.clientID == clientID && !t.revoked {
			t.revoked = true
			n++
		}
	}
	return n
}

// RevokeToken revokes one access token, given as the token string or its jti.
func (s *Server) RevokeToken(tokenOrID string) error {
	id := tokenOrID
	if strings.Count(tokenOrID, ".") == 2 {
		c, err := s.parseAccessToken(tokenOrID)
		if err != nil {
			return errors.New("oauth: the token is not one this server issued")
		}
		id = c.ID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[id]
	if !ok {
		return errors.New("oauth: no live token with that id")
	}
	t.revoked = true
	return nil
}

// recordToken remembers a minted token and forgets expired ones now and then.
func (s *Server) recordToken(id, clientID string, exp, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.After(s.sweepAt) {
		for k, t := range s.tokens {
			if !now.Before(t.exp) {
				delete(s.tokens, k)
			}
		}
		s.sweepAt = now.Add(time.Minute)
	}
	s.tokens[id] = &issuedToken{clientID: clientID, exp: exp}
}

// RevokePresented revokes the access token a request presents (Authorization: Bearer or
// DPoP), for "revoke the token in use" faults.
func (s *Server) RevokePresented(r *http.Request) error {
	scheme, tok, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, "DPoP") {
		return errors.New("oauth: the request presents no OAuth access token")
	}
	return s.RevokeToken(strings.TrimSpace(tok))
}

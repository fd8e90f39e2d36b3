package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// KeyPrefix starts every API key, so that a leaked key is recognisable (secret scanners).
const KeyPrefix = "idw_"

// Principal is who a request acts as: the API key that authenticated it.
type Principal struct {
	KeyID int64
	// Name is the key's name, recorded as the actor of changes.
	Name string
	Role store.Role
}

// Can reports whether the principal's role includes role.
func (p Principal) Can(role store.Role) bool { return p.Role.Rank() >= role.Rank() && role.Rank() > 0 }

type principalKey struct{}

func withPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the request's principal; ok is false on public routes.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// NewKey returns a fresh API key (256 random bits, KeyPrefix + base64url) and the hash to store.
func NewKey() (key string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it crashes the program instead)
	key = KeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	return key, HashKey(key)
}

// HashKey is the SHA-256 of a key, what the store keeps.
func HashKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// CreateKey creates an API key record and returns the key, which is shown once and never stored.
func CreateKey(ctx context.Context, st store.APIKeys, name string, role store.Role) (string, store.APIKey, error) {
	if strings.TrimSpace(name) == "" || len(name) > 100 {
		return "", store.APIKey{}, fmt.Errorf("%w: an API key needs a name of 1 to 100 characters", store.ErrInvalid)
	}
	if err := role.Validate(); err != nil {
		return "", store.APIKey{}, err
	}
	key, hash := NewKey()
	rec, err := st.CreateAPIKey(ctx, store.APIKey{Name: name, Role: role, Hash: hash})
	return key, rec, err
}

// ErrBadKey is returned (wrapped) by Authenticate for a missing, malformed, unknown or revoked key.
var ErrBadKey = errors.New("API key not accepted")

// Authenticate returns the principal of an active API key (as sent after "Bearer "). Keys are
// looked up by their SHA-256, so the look-up's timing says nothing about the key itself.
func (s *Server) Authenticate(ctx context.Context, bearerKey string) (Principal, error) {
	if !strings.HasPrefix(bearerKey, KeyPrefix) || len(bearerKey) > 200 {
		return Principal{}, ErrBadKey
	}
	hash := HashKey(bearerKey)
	k, err := s.st.APIKeyByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrBadKey
	}
	if err != nil {
		return Principal{}, err
	}
	if subtle.ConstantTimeCompare(k.Hash, hash) != 1 || !k.Active() {
		return Principal{}, ErrBadKey
	}
	s.touch(ctx, k.ID)
	return Principal{KeyID: k.ID, Name: k.Name, Role: k.Role}, nil
}

// touch records the key's last use at most once a minute, so reads do not turn into writes.
func (s *Server) touch(ctx context.Context, id int64) {
	now := s.now()
	s.mu.Lock()
	last, seen := s.touched[id]
	if seen && now.Sub(last) < time.Minute {
		s.mu.Unlock()
		return
	}
	s.touched[id] = now
	s.mu.Unlock()
	if err := s.st.TouchAPIKey(ctx, id, now); err != nil {
		s.log.Warn("could not record an API key's last use", "key_id", id, "err", err)
	}
}

// bearer returns the key of an "Authorization: Bearer <key>" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, key, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	key = strings.TrimSpace(key)
	return key, key != ""
}

// authorize checks the request's key against role, answering 401 or 403 itself when it fails.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, role store.Role) (Principal, bool) {
	key, ok := bearer(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="idwatch"`)
		WriteError(w, http.StatusUnauthorized, CodeUnauthorized, "this route needs an API key",
			"send the header Authorization: Bearer <key>; an admin creates keys with: idwatch apikeys create --name N --role "+string(role), "")
		return Principal{}, false
	}
	p, err := s.Authenticate(r.Context(), key)
	if errors.Is(err, ErrBadKey) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="idwatch", error="invalid_token"`)
		WriteError(w, http.StatusUnauthorized, CodeUnauthorized, "the API key is unknown, malformed or revoked",
			"check the key you send (it starts with "+KeyPrefix+"); idwatch apikeys list shows the active ones, idwatch apikeys create makes a new one", "")
		return Principal{}, false
	}
	if err != nil {
		s.writeErr(w, r, err)
		return Principal{}, false
	}
	if !p.Can(role) {
		WriteError(w, http.StatusForbidden, CodeForbidden,
			fmt.Sprintf("this route needs the %s role; key %q has the %s role", role, p.Name, p.Role),
			fmt.Sprintf("use a key with the %s role (idwatch apikeys create --name N --role %s)", role, role), "")
		return Principal{}, false
	}
	return p, true
}

// whoami returns the caller's key name and role.
func (s *Server) whoami(w http.ResponseWriter, r *http.Request) error {
	p, _ := PrincipalFrom(r.Context())
	WriteJSON(w, http.StatusOK, map[string]any{"name": p.Name, "role": p.Role})
	return nil
}

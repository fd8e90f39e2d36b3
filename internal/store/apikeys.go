package store

import (
	"context"
	"fmt"
	"time"
)

// Role is what an API key may do; each role includes the ones below it.
type Role string

// The roles, from least to most privileged.
const (
	RoleViewer  Role = "viewer"
	RoleAnalyst Role = "analyst"
	RoleAdmin   Role = "admin"
)

// Validate checks that r is a known role.
func (r Role) Validate() error {
	if r.Rank() == 0 {
		return fmt.Errorf("%w: role %q is not admin, analyst or viewer", ErrInvalid, string(r))
	}
	return nil
}

// Rank orders the roles (viewer 1 < analyst 2 < admin 3); an unknown role ranks 0.
func (r Role) Rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleAnalyst:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// APIKey is one API key's record. The key itself is never stored, only its SHA-256 hash.
type APIKey struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Role Role   `json:"role"`
	// Hash is the SHA-256 of the key; it never leaves the store's callers in responses.
	Hash      []byte    `json:"-"`
	CreatedAt time.Time `json:"createdAt"`
	// LastUsedAt is when the key last authenticated a request (zero: never).
	LastUsedAt time.Time `json:"lastUsedAt,omitzero"`
	// RevokedAt is when the key was revoked (zero: active).
	RevokedAt time.Time `json:"revokedAt,omitzero"`
}

// Active reports whether the key has not been revoked.
func (k APIKey) Active() bool { return k.RevokedAt.IsZero() }

// APIKeys stores the API server's keys.
type APIKeys interface {
	// CreateAPIKey stores a key record (Name, Role, Hash) and returns it with its id and time; a
	// name already used (revoked keys included) is ErrConflict.
	CreateAPIKey(ctx context.Context, k APIKey) (APIKey, error)
	// APIKeyByHash returns the active key with that hash, or ErrNotFound.
	APIKeyByHash(ctx context.Context, hash []byte) (APIKey, error)
	// ListAPIKeys returns every key record, revoked ones included, by id.
	ListAPIKeys(ctx context.Context) ([]APIKey, error)
	// RevokeAPIKey revokes the named key; ErrNotFound when there is none, ErrChanged when it is
	// already revoked.
	RevokeAPIKey(ctx context.Context, name string) (APIKey, error)
	// TouchAPIKey records that the key authenticated a request at at.
	TouchAPIKey(ctx context.Context, id int64, at time.Time) error
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

const apiKeyColumns = `id, name, role, key_hash, created_at, last_used_at, revoked_at`

// CreateAPIKey implements store.APIKeys.
func (s *Store) CreateAPIKey(ctx context.Context, k store.APIKey) (store.APIKey, error) {
	if k.Name == "" || len(k.Hash) != 32 {
		return store.APIKey{}, s.wrap("create api key", fmt.Errorf("%w: an API key needs a name and a 32-byte hash", store.ErrInvalid))
	}
	if err := k.Role.Validate(); err != nil {
		return store.APIKey{}, s.wrap("create api key", err)
	}
	k.CreatedAt = s.now().UTC()
	err := s.write(ctx, "create api key", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO api_keys (name, role, key_hash, created_at) VALUES ($1, $2, $3, $4)`,
			k.Name, string(k.Role), k.Hash, k.CreatedAt.UnixNano())
		if isUnique(err) {
			return fmt.Errorf("%w: an API key named %q exists (revoked keys keep their names)", store.ErrConflict, k.Name)
		}
		if err != nil {
			return err
		}
		k.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return store.APIKey{}, err
	}
	return k, nil
}

// APIKeyByHash implements store.APIKeys.
func (s *Store) APIKeyByHash(ctx context.Context, hash []byte) (store.APIKey, error) {
	k, err := scanAPIKey(s.r.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return store.APIKey{}, fmt.Errorf("api key: %w", store.ErrNotFound)
	}
	return k, s.wrap("look up api key", err)
}

// ListAPIKeys implements store.APIKeys.
func (s *Store) ListAPIKeys(ctx context.Context) ([]store.APIKey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys ORDER BY id`)
	if err != nil {
		return nil, s.wrap("list api keys", err)
	}
	defer rows.Close()
	var out []store.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, s.wrap("list api keys", err)
		}
		out = append(out, k)
	}
	return out, s.wrap("list api keys", rows.Err())
}

// RevokeAPIKey implements store.APIKeys.
func (s *Store) RevokeAPIKey(ctx context.Context, name string) (store.APIKey, error) {
	var k store.APIKey
	err := s.write(ctx, "revoke api key", func(tx *sql.Tx) error {
		var err error
		k, err = scanAPIKey(tx.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE name = $1`, name))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: no API key named %q", store.ErrNotFound, name)
		}
		if err != nil {
			return err
		}
		if !k.Active() {
			return fmt.Errorf("%w: API key %q was revoked at %s", store.ErrChanged, name, k.RevokedAt.Format(time.RFC3339))
		}
		k.RevokedAt = s.now().UTC()
		_, err = tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE id = $2`, k.RevokedAt.UnixNano(), k.ID)
		return err
	})
	return k, err
}

// TouchAPIKey implements store.APIKeys.
func (s *Store) TouchAPIKey(ctx context.Context, id int64, at time.Time) error {
	return s.write(ctx, "touch api key", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE api_keys SET last_used_at = $1 WHERE id = $2`, at.UnixNano(), id)
		return err
	})
}

func scanAPIKey(r rowScanner) (store.APIKey, error) {
	var (
		k             store.APIKey
		role          string
		created       int64
		used, revoked sql.NullInt64
	)
	if err := r.Scan(&k.ID, &k.Name, &role, &k.Hash, &created, &used, &revoked); err != nil {
		return store.APIKey{}, err
	}
	k.Role = store.Role(role)
	k.CreatedAt = time.Unix(0, created).UTC()
	k.LastUsedAt, k.RevokedAt = fromNanos(used), fromNanos(revoked)
	return k, nil
}

package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
)

// errNoSealer explains a secret operation on a store opened without a master key.
var errNoSealer = errors.New("no master key loaded, so secrets cannot be stored or read: set " + secret.EnvMasterKey + " or let idwatch create its key file in the data directory")

// secretColumns are the sealed columns, in the order sealAll and openAll use.
var secretColumns = [3]string{"api_token", "private_key", "dpop_key"}

// aad binds a sealed secret to its integration and column.
func aad(id int64, column string) []byte {
	return []byte("idwatch/integrations/" + strconv.FormatInt(id, 10) + "/" + column)
}

// secretsOf lists an integration's secrets in secretColumns order.
func secretsOf(c *store.Credentials) [3]*secret.Value {
	return [3]*secret.Value{&c.APIToken, &c.PrivateKeyPEM, &c.DPoPKeyPEM}
}

// sealAll seals each non-empty secret; empty ones are stored as NULL.
func (s *Store) sealAll(id int64, c store.Credentials) ([3]any, error) {
	var out [3]any
	for i, v := range secretsOf(&c) {
		if v.IsZero() {
			continue
		}
		if s.sealer == nil {
			return out, errNoSealer
		}
		ct, err := s.sealer.Seal([]byte(v.Reveal()), aad(id, secretColumns[i]))
		if err != nil {
			return out, err
		}
		out[i] = ct
	}
	return out, nil
}

// openAll decrypts the sealed columns into c. A secret that cannot be opened is
// store.ErrCredentialsUnreadable with the reason (and c is left empty).
func (s *Store) openAll(id int64, sealed [3][]byte, c *store.Credentials) error {
	var out store.Credentials
	for i, v := range secretsOf(&out) {
		if sealed[i] == nil {
			continue
		}
		if s.sealer == nil {
			return &unreadable{reason: unreadableReason(sealed[i], errNoSealer), err: secret.ErrUnknownKey}
		}
		pt, err := s.sealer.Open(sealed[i], aad(id, secretColumns[i]))
		if err != nil {
			return &unreadable{reason: unreadableReason(sealed[i], err), err: err}
		}
		*v = secret.New(string(pt))
	}
	*c = out
	return nil
}

// unreadable is store.ErrCredentialsUnreadable with its reason; it unwraps to the secret error.
type unreadable struct {
	reason string
	err    error
}

func (u *unreadable) Error() string { return store.ErrCredentialsUnreadable.Error() + ": " + u.reason }

func (u *unreadable) Unwrap() []error { return []error{store.ErrCredentialsUnreadable, u.err} }

// unreadableReason says in words why a sealed secret did not open, naming the key by its id.
func unreadableReason(ct []byte, err error) string {
	id, idErr := secret.SealedKeyID(ct)
	switch {
	case idErr != nil || errors.Is(err, secret.ErrCorrupt):
		return "the stored ciphertext is damaged or belongs to another record"
	case errors.Is(err, errNoSealer):
		return fmt.Sprintf("sealed under master key %08x, and no master key is loaded", id)
	default:
		return fmt.Sprintf("sealed under master key %08x, which is not loaded", id)
	}
}

// CreateIntegration implements store.Integrations. The row is inserted first to learn its id,
// which the secrets' aad needs, then the sealed secrets are written in the same transaction.
func (s *Store) CreateIntegration(ctx context.Context, in store.Integration) (store.Integration, error) {
	if err := in.Validate(); err != nil {
		return store.Integration{}, s.wrap("create integration", err)
	}
	now := s.now()
	in.CreatedAt, in.UpdatedAt = now.UTC(), now.UTC()
	scopes, attrs, features, err := encodeLists(in)
	if err != nil {
		return store.Integration{}, s.wrap("create integration", err)
	}
	err = s.write(ctx, "create integration", func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO integrations (name, org_url, auth_kind, client_id, key_id, scopes,
			custom_attributes, enabled, created_at, updated_at, features, org_id, custom_domain, ca_pem)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
			in.Name, in.OrgURL, string(in.AuthKind), in.ClientID, in.KeyID, scopes, attrs, in.Enabled,
			now.UnixNano(), now.UnixNano(), features, in.OrgID, in.CustomDomain, in.CAPEM).Scan(&in.ID)
		if isUnique(err) {
			return fmt.Errorf("%w: an integration named %q exists; pick another name or update it", store.ErrConflict, in.Name)
		}
		if err != nil {
			return err
		}
		return s.writeSecrets(ctx, tx, in.ID, in.Credentials)
	})
	if err != nil {
		return store.Integration{}, err
	}
	return in, nil
}

// writeSecrets seals and stores an integration's secrets.
func (s *Store) writeSecrets(ctx context.Context, tx *sql.Tx, id int64, c store.Credentials) error {
	sealed, err := s.sealAll(id, c)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE integrations SET api_token = $1, private_key = $2, dpop_key = $3 WHERE id = $4`,
		sealed[0], sealed[1], sealed[2], id)
	return err
}

// encodeLists encodes the JSON-valued columns: scopes, custom attributes, features.
func encodeLists(in store.Integration) (string, string, string, error) {
	var out [3]string
	for i, v := range []any{orEmpty(in.Scopes), in.CustomAttributes, orEmpty(in.Features)} {
		b, err := json.Marshal(v)
		if err != nil {
			return "", "", "", err
		}
		out[i] = string(b)
	}
	return out[0], out[1], out[2], nil
}

// orEmpty stores a nil list as [] rather than null.
func orEmpty(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// UpdateIntegration implements store.Integrations.
func (s *Store) UpdateIntegration(ctx context.Context, in store.Integration) (store.Integration, error) {
	if err := in.Validate(); err != nil {
		return store.Integration{}, s.wrap("update integration", err)
	}
	scopes, attrs, features, err := encodeLists(in)
	if err != nil {
		return store.Integration{}, s.wrap("update integration", err)
	}
	now := s.now()
	err = s.write(ctx, "update integration", func(tx *sql.Tx) error {
		var created, updated int64
		// updated_at always moves forward, even within one clock tick: running collectors compare
		// it to notice new credentials.
		err := tx.QueryRowContext(ctx, `UPDATE integrations SET name = $1, org_url = $2, auth_kind = $3, client_id = $4,
			key_id = $5, scopes = $6, custom_attributes = $7, enabled = $8, updated_at = MAX($9, updated_at + 1), features = $10,
			org_id = $11, custom_domain = $12, ca_pem = $13 WHERE id = $14 RETURNING created_at, updated_at`,
			in.Name, in.OrgURL, string(in.AuthKind), in.ClientID, in.KeyID, scopes, attrs, in.Enabled, now.UnixNano(), features,
			in.OrgID, in.CustomDomain, in.CAPEM, in.ID).Scan(&created, &updated)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("%w: integration %d", store.ErrNotFound, in.ID)
		case isUnique(err):
			return fmt.Errorf("%w: an integration named %q exists", store.ErrConflict, in.Name)
		case err != nil:
			return err
		}
		in.CreatedAt, in.UpdatedAt = fromNanos(sql.NullInt64{Int64: created, Valid: true}), fromNanos(sql.NullInt64{Int64: updated, Valid: true})
		return s.writeSecrets(ctx, tx, in.ID, in.Credentials)
	})
	if err != nil {
		return store.Integration{}, err
	}
	return in, nil
}

// SetDPoPKey implements store.Integrations.
func (s *Store) SetDPoPKey(ctx context.Context, id int64, key secret.Value, unchangedSince time.Time) (time.Time, error) {
	if s.sealer == nil {
		return time.Time{}, s.wrap("store DPoP key", errNoSealer)
	}
	ct, err := s.sealer.Seal([]byte(key.Reveal()), aad(id, secretColumns[2]))
	if err != nil {
		return time.Time{}, s.wrap("store DPoP key", err)
	}
	var updated int64
	err = s.write(ctx, "store DPoP key", func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE integrations SET dpop_key = $1, updated_at = MAX($2, updated_at + 1)
			WHERE id = $3 AND updated_at = $4 RETURNING updated_at`, ct, s.now().UnixNano(), id, unchangedSince.UnixNano()).Scan(&updated)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: integration %d was updated or removed", store.ErrChanged, id)
		}
		return err
	})
	if err != nil {
		return time.Time{}, err
	}
	return fromNanos(sql.NullInt64{Int64: updated, Valid: true}), nil
}

// integrationColumns is the SELECT list scanIntegration reads.
const integrationColumns = `id, name, org_url, auth_kind, client_id, key_id, scopes, custom_attributes, enabled,
	api_token, private_key, dpop_key, created_at, updated_at, features, org_id, custom_domain, ca_pem`

// scanIntegration reads one row of integrationColumns and opens its secrets.
func (s *Store) scanIntegration(row interface{ Scan(...any) error }) (store.Integration, error) {
	var in store.Integration
	var scopes, attrs, features string
	var sealed [3][]byte
	var created, updated sql.NullInt64
	if err := row.Scan(&in.ID, &in.Name, &in.OrgURL, &in.AuthKind, &in.ClientID, &in.KeyID, &scopes, &attrs, &in.Enabled,
		&sealed[0], &sealed[1], &sealed[2], &created, &updated, &features, &in.OrgID, &in.CustomDomain, &in.CAPEM); err != nil {
		return in, err
	}
	if err := json.Unmarshal([]byte(features), &in.Features); err != nil {
		return in, fmt.Errorf("integration %d features: %w", in.ID, err)
	}
	if err := json.Unmarshal([]byte(scopes), &in.Scopes); err != nil {
		return in, fmt.Errorf("integration %d scopes: %w", in.ID, err)
	}
	if err := json.Unmarshal([]byte(attrs), &in.CustomAttributes); err != nil {
		return in, fmt.Errorf("integration %d custom attributes: %w", in.ID, err)
	}
	in.CreatedAt, in.UpdatedAt = fromNanos(created), fromNanos(updated)
	if err := s.openAll(in.ID, sealed, &in.Credentials); err != nil {
		var u *unreadable
		if errors.As(err, &u) {
			in.CredentialsError = u.Error()
		}
		return in, fmt.Errorf("integration %q: %w; fix: %s", in.Name, err, store.CredentialsFix(in.Name))
	}
	return in, nil
}

// Integration implements store.Integrations.
func (s *Store) Integration(ctx context.Context, id int64) (store.Integration, error) {
	return s.oneIntegration(ctx, `id = $1`, id, fmt.Sprintf("integration %d", id))
}

// IntegrationByName implements store.Integrations.
func (s *Store) IntegrationByName(ctx context.Context, name string) (store.Integration, error) {
	return s.oneIntegration(ctx, `name = $1`, name, fmt.Sprintf("integration %q", name))
}

// oneIntegration looks one integration up by a where clause.
func (s *Store) oneIntegration(ctx context.Context, where string, arg any, what string) (store.Integration, error) {
	in, err := s.scanIntegration(s.r.QueryRowContext(ctx, `SELECT `+integrationColumns+` FROM integrations WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		err = fmt.Errorf("%w: %s", store.ErrNotFound, what)
	}
	if err != nil {
		return store.Integration{}, s.wrap("get integration", err)
	}
	return in, nil
}

// ListIntegrations implements store.Integrations.
func (s *Store) ListIntegrations(ctx context.Context) ([]store.Integration, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+integrationColumns+` FROM integrations ORDER BY id`)
	if err != nil {
		return nil, s.wrap("list integrations", err)
	}
	defer rows.Close()
	var out []store.Integration
	for rows.Next() {
		in, err := s.scanIntegration(rows)
		if errors.Is(err, store.ErrCredentialsUnreadable) {
			err = nil // listed with CredentialsError set
		}
		if err != nil {
			return nil, s.wrap("list integrations", err)
		}
		out = append(out, in)
	}
	return out, s.wrap("list integrations", rows.Err())
}

// IntegrationVersions implements store.Integrations.
func (s *Store) IntegrationVersions(ctx context.Context) (map[int64]time.Time, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, updated_at FROM integrations`)
	if err != nil {
		return nil, s.wrap("integration versions", err)
	}
	defer rows.Close()
	out := map[int64]time.Time{}
	for rows.Next() {
		var id int64
		var updated sql.NullInt64
		if err := rows.Scan(&id, &updated); err != nil {
			return nil, s.wrap("integration versions", err)
		}
		out[id] = fromNanos(updated)
	}
	return out, s.wrap("integration versions", rows.Err())
}

// SealedKeyIDs implements store.Integrations.
func (s *Store) SealedKeyIDs(ctx context.Context) (map[uint32]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT api_token, private_key, dpop_key FROM integrations`)
	if err != nil {
		return nil, s.wrap("sealed key ids", err)
	}
	defer rows.Close()
	out := map[uint32]int{}
	for rows.Next() {
		var sealed [3][]byte
		if err := rows.Scan(&sealed[0], &sealed[1], &sealed[2]); err != nil {
			return nil, s.wrap("sealed key ids", err)
		}
		for _, ct := range sealed {
			if ct == nil {
				continue
			}
			id, err := secret.SealedKeyID(ct)
			if err != nil {
				id = 0 // damaged: counted under the id no key has
			}
			out[id]++
		}
	}
	return out, s.wrap("sealed key ids", rows.Err())
}

// SetIntegrationEnabled implements store.Integrations.
func (s *Store) SetIntegrationEnabled(ctx context.Context, id int64, enabled bool) error {
	return s.write(ctx, "enable integration", func(tx *sql.Tx) error {
		n, err := execCount(ctx, tx, `UPDATE integrations SET enabled = $1, updated_at = MAX($2, updated_at + 1) WHERE id = $3`, enabled, s.now().UnixNano(), id)
		if err == nil && n == 0 {
			err = fmt.Errorf("%w: integration %d", store.ErrNotFound, id)
		}
		return err
	})
}

// SetIntegrationOrgID implements store.Integrations.
func (s *Store) SetIntegrationOrgID(ctx context.Context, id int64, orgID string) error {
	return s.write(ctx, "set integration org id", func(tx *sql.Tx) error {
		n, err := execCount(ctx, tx, `UPDATE integrations SET org_id = $1 WHERE id = $2`, orgID, id)
		if err == nil && n == 0 {
			err = fmt.Errorf("%w: integration %d", store.ErrNotFound, id)
		}
		return err
	})
}

// DeleteIntegration implements store.Integrations.
func (s *Store) DeleteIntegration(ctx context.Context, id int64) error {
	return s.write(ctx, "delete integration", func(tx *sql.Tx) error {
		n, err := execCount(ctx, tx, `DELETE FROM integrations WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("%w: integration %d", store.ErrNotFound, id)
		}
		for _, q := range []string{`DELETE FROM cursors WHERE integration_id = $1`, `DELETE FROM health WHERE integration_id = $1`,
			`DELETE FROM event_hooks WHERE integration_id = $1`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// ResealSecrets implements store.Integrations; it needs a *secret.Keyring to tell old keys apart.
func (s *Store) ResealSecrets(ctx context.Context) (int, error) {
	kr, ok := s.sealer.(*secret.Keyring)
	if !ok {
		return 0, s.wrap("reseal secrets", errNoSealer)
	}
	var n int
	err := s.write(ctx, "reseal secrets", func(tx *sql.Tx) error {
		n = 0
		rows, err := tx.QueryContext(ctx, `SELECT id, api_token, private_key, dpop_key FROM integrations ORDER BY id`)
		if err != nil {
			return err
		}
		var stale []store.Integration
		for rows.Next() {
			var id int64
			var sealed [3][]byte
			if err := rows.Scan(&id, &sealed[0], &sealed[1], &sealed[2]); err != nil {
				rows.Close()
				return err
			}
			if kr.NeedsReseal(sealed[0]) || kr.NeedsReseal(sealed[1]) || kr.NeedsReseal(sealed[2]) {
				in := store.Integration{ID: id}
				if err := s.openAll(id, sealed, &in.Credentials); err != nil {
					rows.Close()
					return err
				}
				stale = append(stale, in)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, in := range stale {
			if err := s.writeSecrets(ctx, tx, in.ID, in.Credentials); err != nil {
				return err
			}
		}
		n = len(stale)
		return s.resealHooks(ctx, tx, kr)
	})
	return n, err
}

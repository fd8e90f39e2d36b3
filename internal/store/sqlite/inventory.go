package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/idwatch/idwatch/internal/store"
)

// ReplaceInventory implements store.Inventory.
func (s *Store) ReplaceInventory(ctx context.Context, integrationID int64, snap store.InventorySnapshot) error {
	sync, err := json.Marshal(snap.Sync)
	if err != nil {
		return s.wrap("replace inventory", err)
	}
	return s.write(ctx, "replace inventory", func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM inventory_users WHERE integration_id = $1`, `DELETE FROM inventory_groups WHERE integration_id = $1`} {
			if _, err := tx.ExecContext(ctx, q, integrationID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO inventory_syncs (integration_id, data) VALUES ($1, $2)
			ON CONFLICT (integration_id) DO UPDATE SET data = excluded.data`, integrationID, sync); err != nil {
			return err
		}
		for _, u := range snap.Users {
			if err := putUser(ctx, tx, integrationID, u); err != nil {
				return err
			}
		}
		for _, g := range snap.Groups {
			if err := putGroup(ctx, tx, integrationID, g); err != nil {
				return err
			}
		}
		return nil
	})
}

func putUser(ctx context.Context, tx *sql.Tx, integrationID int64, u store.InventoryUser) error {
	if u.ID == "" {
		return fmt.Errorf("%w: inventory user without an id", store.ErrInvalid)
	}
	data, err := json.Marshal(u)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO inventory_users (integration_id, user_id, login, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (integration_id, user_id) DO UPDATE SET login = excluded.login, data = excluded.data`,
		integrationID, u.ID, strings.ToLower(u.Login), data)
	return err
}

func putGroup(ctx context.Context, tx *sql.Tx, integrationID int64, g store.InventoryGroup) error {
	if g.ID == "" {
		return fmt.Errorf("%w: inventory group without an id", store.ErrInvalid)
	}
	data, err := json.Marshal(g)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO inventory_groups (integration_id, group_id, data) VALUES ($1, $2, $3)
		ON CONFLICT (integration_id, group_id) DO UPDATE SET data = excluded.data`, integrationID, g.ID, data)
	return err
}

// PutInventoryUser implements store.Inventory.
func (s *Store) PutInventoryUser(ctx context.Context, integrationID int64, u store.InventoryUser) error {
	return s.write(ctx, "put inventory user", func(tx *sql.Tx) error { return putUser(ctx, tx, integrationID, u) })
}

// DeleteInventoryUser implements store.Inventory.
func (s *Store) DeleteInventoryUser(ctx context.Context, integrationID int64, userID string) error {
	return s.write(ctx, "delete inventory user", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM inventory_users WHERE integration_id = $1 AND user_id = $2`, integrationID, userID)
		return err
	})
}

// PutInventoryGroup implements store.Inventory.
func (s *Store) PutInventoryGroup(ctx context.Context, integrationID int64, g store.InventoryGroup) error {
	return s.write(ctx, "put inventory group", func(tx *sql.Tx) error { return putGroup(ctx, tx, integrationID, g) })
}

// DeleteInventoryGroup implements store.Inventory.
func (s *Store) DeleteInventoryGroup(ctx context.Context, integrationID int64, groupID string) error {
	return s.write(ctx, "delete inventory group", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM inventory_groups WHERE integration_id = $1 AND group_id = $2`, integrationID, groupID)
		return err
	})
}

// SaveInventorySync implements store.Inventory.
func (s *Store) SaveInventorySync(ctx context.Context, integrationID int64, sync store.InventorySync) error {
	data, err := json.Marshal(sync)
	if err != nil {
		return s.wrap("save inventory sync", err)
	}
	return s.write(ctx, "save inventory sync", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO inventory_syncs (integration_id, data) VALUES ($1, $2)
			ON CONFLICT (integration_id) DO UPDATE SET data = excluded.data`, integrationID, data)
		return err
	})
}

// LoadInventory implements store.Inventory.
func (s *Store) LoadInventory(ctx context.Context, integrationID int64) (store.InventorySnapshot, error) {
	var snap store.InventorySnapshot
	var sync []byte
	err := s.r.QueryRowContext(ctx, `SELECT data FROM inventory_syncs WHERE integration_id = $1`, integrationID).Scan(&sync)
	if errors.Is(err, sql.ErrNoRows) {
		return snap, fmt.Errorf("integration %d has no inventory yet (run idwatch inventory sync): %w", integrationID, store.ErrNotFound)
	}
	if err != nil {
		return snap, s.wrap("load inventory", err)
	}
	if err := json.Unmarshal(sync, &snap.Sync); err != nil {
		return snap, s.wrap("load inventory", err)
	}
	if snap.Users, err = scanJSON[store.InventoryUser](ctx, s, `SELECT data FROM inventory_users WHERE integration_id = $1 ORDER BY user_id`, integrationID); err != nil {
		return snap, s.wrap("load inventory", err)
	}
	if snap.Groups, err = scanJSON[store.InventoryGroup](ctx, s, `SELECT data FROM inventory_groups WHERE integration_id = $1 ORDER BY group_id`, integrationID); err != nil {
		return snap, s.wrap("load inventory", err)
	}
	return snap, nil
}

// scanJSON runs q and decodes each row's single JSON column into a T.
func scanJSON[T any](ctx context.Context, s *Store, q string, args ...any) ([]T, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		var v T
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// InventoryUser implements store.Inventory.
func (s *Store) InventoryUser(ctx context.Context, integrationID int64, idOrLogin string) (store.InventoryUser, error) {
	us, err := scanJSON[store.InventoryUser](ctx, s, `SELECT data FROM inventory_users WHERE integration_id = $1 AND (user_id = $2 OR login = $3) ORDER BY user_id = $2 DESC LIMIT 1`,
		integrationID, idOrLogin, strings.ToLower(idOrLogin))
	if err != nil {
		return store.InventoryUser{}, s.wrap("inventory user", err)
	}
	if len(us) == 0 {
		return store.InventoryUser{}, fmt.Errorf("no user %q in integration %d's inventory: %w", idOrLogin, integrationID, store.ErrNotFound)
	}
	return us[0], nil
}

// SavePosture implements store.Inventory.
func (s *Store) SavePosture(ctx context.Context, integrationID int64, findings []store.PostureFinding) error {
	old, err := s.Posture(ctx, integrationID)
	if err != nil {
		return err
	}
	return s.write(ctx, "save posture", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM posture_findings WHERE integration_id = $1`, integrationID); err != nil {
			return err
		}
		for _, f := range findings {
			if f.ID == "" {
				return fmt.Errorf("%w: posture finding without an id", store.ErrInvalid)
			}
			if i := slices.IndexFunc(old, func(o store.PostureFinding) bool { return o.ID == f.ID }); i >= 0 && !old[i].FirstSeen.IsZero() {
				f.FirstSeen = old[i].FirstSeen
			}
			data, err := json.Marshal(f)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO posture_findings (integration_id, finding_id, data) VALUES ($1, $2, $3)`,
				integrationID, f.ID, data); err != nil {
				return err
			}
		}
		return nil
	})
}

// severityRank orders findings most severe first.
var severityRank = map[string]int{"critical": 0, "high": 1, "medium": 2, "low": 3, "informational": 4}

// Posture implements store.Inventory.
func (s *Store) Posture(ctx context.Context, integrationID int64) ([]store.PostureFinding, error) {
	fs, err := scanJSON[store.PostureFinding](ctx, s, `SELECT data FROM posture_findings WHERE integration_id = $1`, integrationID)
	if err != nil {
		return nil, s.wrap("posture", err)
	}
	slices.SortFunc(fs, func(a, b store.PostureFinding) int {
		if ra, rb := severityRank[a.Severity], severityRank[b.Severity]; ra != rb {
			return ra - rb
		}
		return strings.Compare(a.ID, b.ID)
	})
	return fs, nil
}

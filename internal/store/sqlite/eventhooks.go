package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
)

// hookAAD binds a sealed hook secret to its integration.
func hookAAD(id int64) []byte {
	return []byte("idwatch/event_hooks/" + strconv.FormatInt(id, 10) + "/secret")
}

// PutEventHook implements store.EventHooks.
func (s *Store) PutEventHook(ctx context.Context, h store.EventHook) (store.EventHook, error) {
	const op = "store event hook"
	if h.URL == "" || h.HeaderName == "" || h.Secret.IsZero() {
		return store.EventHook{}, s.wrap(op, fmt.Errorf("%w: an event hook needs a URL, a header name and a secret", store.ErrInvalid))
	}
	if s.sealer == nil {
		return store.EventHook{}, s.wrap(op, errNoSealer)
	}
	sealed, err := s.sealer.Seal([]byte(h.Secret.Reveal()), hookAAD(h.IntegrationID))
	if err != nil {
		return store.EventHook{}, s.wrap(op, err)
	}
	types, err := json.Marshal(orEmpty(h.EventTypes))
	if err != nil {
		return store.EventHook{}, s.wrap(op, err)
	}
	now := s.now()
	h.UpdatedAt = now.UTC()
	err = s.write(ctx, op, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM integrations WHERE id = $1`, h.IntegrationID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("%w: integration %d", store.ErrNotFound, h.IntegrationID)
		}
		var created int64
		err := tx.QueryRowContext(ctx, `INSERT INTO event_hooks (integration_id, okta_hook_id, url, header_name, secret,
			event_types, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
			ON CONFLICT (integration_id) DO UPDATE SET okta_hook_id = excluded.okta_hook_id, url = excluded.url,
			header_name = excluded.header_name, secret = excluded.secret, event_types = excluded.event_types,
			status = excluded.status, updated_at = excluded.updated_at
			RETURNING created_at`,
			h.IntegrationID, h.OktaHookID, h.URL, h.HeaderName, sealed, string(types), h.Status, now.UnixNano()).Scan(&created)
		h.CreatedAt = time.Unix(0, created).UTC()
		return err
	})
	if err != nil {
		return store.EventHook{}, err
	}
	return h, nil
}

const hookColumns = `integration_id, okta_hook_id, url, header_name, secret, event_types, status, created_at,
	updated_at, last_delivery_at, deliveries, events_received, per_minute`

// scanHook reads one event_hooks row; the sealed secret is returned separately.
func scanHook(row interface{ Scan(...any) error }) (store.EventHook, []byte, error) {
	var h store.EventHook
	var sealed []byte
	var types string
	var created, updated int64
	var last sql.NullInt64
	err := row.Scan(&h.IntegrationID, &h.OktaHookID, &h.URL, &h.HeaderName, &sealed, &types, &h.Status, &created,
		&updated, &last, &h.Deliveries, &h.EventsReceived, &h.PerMinute)
	if err != nil {
		return h, nil, err
	}
	if err := json.Unmarshal([]byte(types), &h.EventTypes); err != nil {
		return h, nil, fmt.Errorf("event hook of integration %d: event types: %w", h.IntegrationID, err)
	}
	h.CreatedAt, h.UpdatedAt, h.LastDelivery = time.Unix(0, created).UTC(), time.Unix(0, updated).UTC(), fromNanos(last)
	return h, sealed, nil
}

// EventHook implements store.EventHooks.
func (s *Store) EventHook(ctx context.Context, integrationID int64) (store.EventHook, error) {
	const op = "read event hook"
	h, sealed, err := scanHook(s.r.QueryRowContext(ctx, `SELECT `+hookColumns+` FROM event_hooks WHERE integration_id = $1`, integrationID))
	if errors.Is(err, sql.ErrNoRows) {
		return store.EventHook{}, s.wrap(op, fmt.Errorf("%w: integration %d has no event hook; set one up with idwatch hooks register", store.ErrNotFound, integrationID))
	}
	if err != nil {
		return store.EventHook{}, s.wrap(op, err)
	}
	if s.sealer == nil {
		return store.EventHook{}, s.wrap(op, &unreadable{reason: unreadableReason(sealed, errNoSealer), err: secret.ErrUnknownKey})
	}
	pt, err := s.sealer.Open(sealed, hookAAD(integrationID))
	if err != nil {
		return store.EventHook{}, s.wrap(op, &unreadable{reason: unreadableReason(sealed, err), err: err})
	}
	h.Secret = secret.New(string(pt))
	return h, nil
}

// ListEventHooks implements store.EventHooks.
func (s *Store) ListEventHooks(ctx context.Context) ([]store.EventHook, error) {
	const op = "list event hooks"
	rows, err := s.r.QueryContext(ctx, `SELECT `+hookColumns+` FROM event_hooks ORDER BY integration_id`)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	defer rows.Close()
	var out []store.EventHook
	for rows.Next() {
		h, _, err := scanHook(rows)
		if err != nil {
			return nil, s.wrap(op, err)
		}
		out = append(out, h)
	}
	return out, s.wrap(op, rows.Err())
}

// DeleteEventHook implements store.EventHooks.
func (s *Store) DeleteEventHook(ctx context.Context, integrationID int64) error {
	const op = "delete event hook"
	return s.write(ctx, op, func(tx *sql.Tx) error {
		n, err := execCount(ctx, tx, `DELETE FROM event_hooks WHERE integration_id = $1`, integrationID)
		if err == nil && n == 0 {
			err = fmt.Errorf("%w: integration %d has no event hook", store.ErrNotFound, integrationID)
		}
		return err
	})
}

// RecordHookDeliveries implements store.EventHooks.
func (s *Store) RecordHookDeliveries(ctx context.Context, integrationID int64, d store.HookDeliveries) error {
	return s.write(ctx, "record event hook deliveries", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE event_hooks SET last_delivery_at = MAX(COALESCE(last_delivery_at, 0), $1),
			deliveries = deliveries + $2, events_received = events_received + $3, per_minute = $4 WHERE integration_id = $5`,
			d.At.UnixNano(), d.Deliveries, d.Events, d.PerMinute, integrationID)
		return err
	})
}

// CountPolledSince implements store.EventHooks.
func (s *Store) CountPolledSince(ctx context.Context, integrationID int64, eventTypes []string, since time.Time) (int64, error) {
	if len(eventTypes) == 0 {
		return 0, nil
	}
	args := []any{integrationID, since.UnixNano()}
	var b strings.Builder
	b.WriteString(`SELECT COUNT(*) FROM journal WHERE integration_id = $1 AND stored_at >= $2 AND source = 'poll'`)
	args = andIn(&b, args, "event_type", eventTypes)
	var n int64
	err := s.r.QueryRowContext(ctx, b.String(), args...).Scan(&n)
	return n, s.wrap("count polled events", err)
}

// sourceOf is the journal source column of an event.
func sourceOf(e store.Event) string {
	if e.Source == store.SourcePush {
		return store.SourcePush
	}
	return store.SourcePoll
}

// resealHooks re-encrypts the hook secrets not sealed under the current primary key, inside
// ResealSecrets' transaction.
func (s *Store) resealHooks(ctx context.Context, tx *sql.Tx, kr *secret.Keyring) error {
	rows, err := tx.QueryContext(ctx, `SELECT integration_id, secret FROM event_hooks ORDER BY integration_id`)
	if err != nil {
		return err
	}
	type stale struct {
		id int64
		pt []byte
	}
	var todo []stale
	for rows.Next() {
		var id int64
		var ct []byte
		if err := rows.Scan(&id, &ct); err != nil {
			rows.Close()
			return err
		}
		if kr.NeedsReseal(ct) {
			pt, err := kr.Open(ct, hookAAD(id))
			if err != nil {
				rows.Close()
				return &unreadable{reason: unreadableReason(ct, err), err: err}
			}
			todo = append(todo, stale{id, pt})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, h := range todo {
		ct, err := kr.Seal(h.pt, hookAAD(h.id))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE event_hooks SET secret = $1 WHERE integration_id = $2`, ct, h.id); err != nil {
			return err
		}
	}
	return nil
}

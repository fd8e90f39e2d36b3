package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// SetHealth implements store.Healths.
func (s *Store) SetHealth(ctx context.Context, h store.Health) error {
	if err := h.State.Validate(); err != nil {
		return s.wrap("set health", err)
	}
	return s.write(ctx, "set health", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO health (integration_id, state, reason, fix, last_event_at, lag_ns,
			events_collected, requests_made, budget_share_used, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (integration_id) DO UPDATE SET state = excluded.state, reason = excluded.reason, fix = excluded.fix,
			last_event_at = excluded.last_event_at, lag_ns = excluded.lag_ns, events_collected = excluded.events_collected,
			requests_made = excluded.requests_made, budget_share_used = excluded.budget_share_used, updated_at = excluded.updated_at`,
			h.IntegrationID, string(h.State), h.Reason, h.Fix, nanos(h.LastEventAt), int64(h.Lag), h.EventsCollected,
			h.RequestsMade, h.BudgetShareUsed, s.now().UnixNano())
		return err
	})
}

// healthColumns is the SELECT list scanHealth reads.
const healthColumns = `integration_id, state, reason, fix, last_event_at, lag_ns, events_collected, requests_made,
	budget_share_used, updated_at`

// scanHealth reads one row of healthColumns.
func scanHealth(row interface{ Scan(...any) error }) (store.Health, error) {
	var h store.Health
	var last, upd sql.NullInt64
	var lag int64
	err := row.Scan(&h.IntegrationID, &h.State, &h.Reason, &h.Fix, &last, &lag, &h.EventsCollected, &h.RequestsMade,
		&h.BudgetShareUsed, &upd)
	h.LastEventAt, h.UpdatedAt, h.Lag = fromNanos(last), fromNanos(upd), time.Duration(lag)
	return h, err
}

// Health implements store.Healths.
func (s *Store) Health(ctx context.Context, integrationID int64) (store.Health, error) {
	h, err := scanHealth(s.r.QueryRowContext(ctx, `SELECT `+healthColumns+` FROM health WHERE integration_id = $1`, integrationID))
	if errors.Is(err, sql.ErrNoRows) {
		err = fmt.Errorf("%w: no health for integration %d", store.ErrNotFound, integrationID)
	}
	return h, s.wrap("health", err)
}

// ListHealth implements store.Healths.
func (s *Store) ListHealth(ctx context.Context) ([]store.Health, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+healthColumns+` FROM health ORDER BY integration_id`)
	if err != nil {
		return nil, s.wrap("list health", err)
	}
	defer rows.Close()
	var out []store.Health
	for rows.Next() {
		h, err := scanHealth(rows)
		if err != nil {
			return nil, s.wrap("list health", err)
		}
		out = append(out, h)
	}
	return out, s.wrap("list health", rows.Err())
}

// AppendAlerts implements store.Alerts.
func (s *Store) AppendAlerts(ctx context.Context, alerts []store.Alert) (int, error) {
	if err := validateAlerts(alerts); err != nil {
		return 0, s.wrap("append alerts", err)
	}
	var inserted int
	err := s.write(ctx, "append alerts", func(tx *sql.Tx) error {
		var err error
		inserted, err = insertAlerts(ctx, tx, alerts, s.now().UnixNano())
		return err
	})
	if err != nil {
		return 0, err
	}
	return inserted, nil
}

// validateAlerts refuses alerts that lack what the alerts table needs.
func validateAlerts(alerts []store.Alert) error {
	for i, a := range alerts {
		if a.ID == "" || a.RuleID == "" || len(a.Body) == 0 || a.Time.IsZero() {
			return fmt.Errorf("%w: alert %d needs an id, a rule id, a time and a body", store.ErrInvalid, i)
		}
	}
	return nil
}

// insertAlerts stores the alerts whose id is new inside tx, numbering them on from the alert
// stream's last seq, and returns how many it inserted.
func insertAlerts(ctx context.Context, tx *sql.Tx, alerts []store.Alert, now int64) (int, error) {
	inserted := 0
	seq, err := readSequence(ctx, tx, store.StreamAlerts)
	if err != nil {
		return 0, err
	}
	for _, a := range alerts {
		n, err := execCount(ctx, tx, `INSERT INTO alerts (seq, id, rule_id, severity, time, integration_id, group_key, body, stored_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
			seq+1, a.ID, a.RuleID, a.Severity, a.Time.UnixNano(), a.IntegrationID, a.GroupKey, []byte(a.Body), now)
		if err != nil {
			return 0, err
		}
		if n == 1 {
			seq++
			inserted++
		}
	}
	if inserted == 0 {
		return 0, nil
	}
	return inserted, writeSequence(ctx, tx, store.StreamAlerts, seq)
}

// alertColumns is the SELECT list scanAlerts reads.
const alertColumns = `seq, id, rule_id, severity, time, integration_id, group_key, body, stored_at`

// scanAlerts reads rows of alertColumns.
func (s *Store) scanAlerts(op string, rows *sql.Rows, err error) ([]store.Alert, error) {
	if err != nil {
		return nil, s.wrap(op, err)
	}
	defer rows.Close()
	var out []store.Alert
	for rows.Next() {
		var a store.Alert
		var tm, stored sql.NullInt64
		var body blob
		if err := rows.Scan(&a.Seq, &a.ID, &a.RuleID, &a.Severity, &tm, &a.IntegrationID, &a.GroupKey, &body, &stored); err != nil {
			return nil, s.wrap(op, err)
		}
		a.Time, a.StoredAt, a.Body = fromNanos(tm), fromNanos(stored), json.RawMessage(body)
		out = append(out, a)
	}
	return out, s.wrap(op, rows.Err())
}

// checkLimit refuses limits outside 1..MaxReadLimit.
func checkLimit(limit int) error {
	if limit <= 0 || limit > MaxReadLimit {
		return fmt.Errorf("%w: limit %d is outside 1..%d", store.ErrInvalid, limit, MaxReadLimit)
	}
	return nil
}

// ReadAlerts implements store.Alerts.
func (s *Store) ReadAlerts(ctx context.Context, afterSeq int64, limit int) ([]store.Alert, error) {
	if err := checkLimit(limit); err != nil {
		return nil, s.wrap("read alerts", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+alertColumns+` FROM alerts WHERE seq > $1 ORDER BY seq LIMIT $2`, afterSeq, limit)
	return s.scanAlerts("read alerts", rows, err)
}

// ListAlerts implements store.Alerts.
func (s *Store) ListAlerts(ctx context.Context, since time.Time, limit int) ([]store.Alert, error) {
	if err := checkLimit(limit); err != nil {
		return nil, s.wrap("list alerts", err)
	}
	from := int64(0)
	if !since.IsZero() {
		from = since.UnixNano()
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+alertColumns+` FROM alerts WHERE time >= $1 ORDER BY time DESC, seq DESC LIMIT $2`, from, limit)
	return s.scanAlerts("list alerts", rows, err)
}

// LastAlertSeq implements store.Alerts.
func (s *Store) LastAlertSeq(ctx context.Context) (int64, error) {
	v, err := readSequence(ctx, s.r, store.StreamAlerts)
	return v, s.wrap("last alert seq", err)
}

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

// incidentSnapshot is what the incident stream stores of an incident after a change.
type incidentSnapshot struct {
	store.Incident
	MergedInto string `json:"mergedInto,omitempty"`
	LastChange string `json:"lastChange,omitempty"`
}

// emitIncident appends the incident's current state to the incident stream inside tx. It returns
// sql.ErrNoRows (unwrapped) when the incident is not stored.
func emitIncident(ctx context.Context, tx *sql.Tx, id, activity, change, mergedInto string, now int64) error {
	in, err := scanIncident(tx.QueryRowContext(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE id = $1`, id))
	if err != nil {
		return err
	}
	snap, err := json.Marshal(incidentSnapshot{Incident: in, MergedInto: mergedInto, LastChange: change})
	if err != nil {
		return fmt.Errorf("incident %s: encode snapshot: %w", id, err)
	}
	seq, err := readSequence(ctx, tx, store.StreamIncidents)
	if err != nil {
		return err
	}
	seq++
	if _, err := tx.ExecContext(ctx, `INSERT INTO incident_stream (seq, incident_id, activity, at, snapshot) VALUES ($1, $2, $3, $4, $5)`,
		seq, id, activity, now, snap); err != nil {
		return err
	}
	return writeSequence(ctx, tx, store.StreamIncidents, seq)
}

// ReadIncidentStream implements store.Incidents.
func (s *Store) ReadIncidentStream(ctx context.Context, afterSeq int64, limit int) ([]store.IncidentRecord, error) {
	if err := checkLimit(limit); err != nil {
		return nil, s.wrap("read incident stream", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT seq, incident_id, activity, at, snapshot FROM incident_stream
		WHERE seq > $1 ORDER BY seq LIMIT $2`, afterSeq, limit)
	if err != nil {
		return nil, s.wrap("read incident stream", err)
	}
	defer rows.Close()
	var out []store.IncidentRecord
	for rows.Next() {
		var r store.IncidentRecord
		var at sql.NullInt64
		var snap blob
		if err := rows.Scan(&r.Seq, &r.IncidentID, &r.Activity, &at, &snap); err != nil {
			return nil, s.wrap("read incident stream", err)
		}
		r.At, r.Snapshot = fromNanos(at), json.RawMessage(snap)
		out = append(out, r)
	}
	return out, s.wrap("read incident stream", rows.Err())
}

// LastIncidentSeq implements store.Incidents.
func (s *Store) LastIncidentSeq(ctx context.Context) (int64, error) {
	v, err := readSequence(ctx, s.r, store.StreamIncidents)
	return v, s.wrap("last incident seq", err)
}

// AddSuppression implements store.Incidents.
func (s *Store) AddSuppression(ctx context.Context, sup store.Suppression) (store.Suppression, error) {
	if sup.RuleID == "" || sup.Entity == "" || sup.Reason == "" || sup.By == "" {
		return sup, s.wrap("add suppression", fmt.Errorf("%w: a suppression needs a rule, an entity, a reason and who adds it", store.ErrInvalid))
	}
	err := s.write(ctx, "add suppression", func(tx *sql.Tx) error {
		now := s.now()
		if !sup.ExpiresAt.IsZero() && !sup.ExpiresAt.After(now) {
			return fmt.Errorf("%w: the suppression's end %s is already past", store.ErrInvalid, sup.ExpiresAt.Format(time.RFC3339))
		}
		if sup.IncidentID != "" {
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM incidents WHERE id = $1`, sup.IncidentID).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%w: incident %q (idwatch incidents list shows the ids)", store.ErrNotFound, sup.IncidentID)
			}
			if err != nil {
				return err
			}
		}
		var expires any
		if !sup.ExpiresAt.IsZero() {
			expires = sup.ExpiresAt.UnixNano()
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO alert_suppressions (incident_id, rule_id, entity, scope, reason, actor, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, sup.IncidentID, sup.RuleID, sup.Entity, sup.Scope, sup.Reason, sup.By, now.UnixNano(), expires)
		if err != nil {
			return err
		}
		if sup.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		sup.CreatedAt = fromNanos(sql.NullInt64{Int64: now.UnixNano(), Valid: true})
		if sup.IncidentID == "" {
			return nil
		}
		text := fmt.Sprintf("suppressed %s alerts about %s: %s", sup.RuleID, sup.Entity, sup.Reason)
		if !sup.ExpiresAt.IsZero() {
			text += " (until " + sup.ExpiresAt.UTC().Format(time.RFC3339) + ")"
		}
		if err := addHistory(ctx, tx, sup.IncidentID, now.UnixNano(), sup.By, store.ChangeNote, text); err != nil {
			return err
		}
		return emitIncident(ctx, tx, sup.IncidentID, store.IncidentUpdated, text, "", now.UnixNano())
	})
	return sup, err
}

// ListSuppressions implements store.Incidents.
func (s *Store) ListSuppressions(ctx context.Context) ([]store.Suppression, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, incident_id, rule_id, entity, scope, reason, actor, created_at, expires_at
		FROM alert_suppressions ORDER BY id`)
	if err != nil {
		return nil, s.wrap("list suppressions", err)
	}
	defer rows.Close()
	var out []store.Suppression
	for rows.Next() {
		var sup store.Suppression
		var created, expires sql.NullInt64
		if err := rows.Scan(&sup.ID, &sup.IncidentID, &sup.RuleID, &sup.Entity, &sup.Scope, &sup.Reason, &sup.By, &created, &expires); err != nil {
			return nil, s.wrap("list suppressions", err)
		}
		sup.CreatedAt, sup.ExpiresAt = fromNanos(created), fromNanos(expires)
		out = append(out, sup)
	}
	return out, s.wrap("list suppressions", rows.Err())
}

// RemoveSuppression implements store.Incidents.
func (s *Store) RemoveSuppression(ctx context.Context, id int64) error {
	return s.write(ctx, "remove suppression", func(tx *sql.Tx) error {
		n, err := execCount(ctx, tx, `DELETE FROM alert_suppressions WHERE id = $1`, id)
		if err == nil && n == 0 {
			err = fmt.Errorf("%w: suppression %d (idwatch incidents suppressions lists them)", store.ErrNotFound, id)
		}
		return err
	})
}

// TrimIncidents implements store.Incidents.
func (s *Store) TrimIncidents(ctx context.Context, closedBefore time.Time) (int64, error) {
	var removed int64
	err := s.write(ctx, "trim incidents", func(tx *sql.Tx) error {
		cut := closedBefore.UnixNano()
		var err error
		if removed, err = execCount(ctx, tx, `DELETE FROM incidents WHERE closed_at IS NOT NULL AND closed_at < $1`, cut); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM incident_history WHERE incident_id NOT IN (SELECT id FROM incidents)`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM alert_suppressions WHERE expires_at IS NOT NULL AND expires_at < $1`, cut); err != nil {
			return err
		}
		// Stream records go once every consumer of the stream has them (none registered: all).
		var low sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MIN(offset_seq) FROM consumers WHERE stream = $1`, string(store.StreamIncidents)).Scan(&low); err != nil {
			return err
		}
		q := `DELETE FROM incident_stream WHERE at < $1`
		args := []any{cut}
		if low.Valid {
			q += ` AND seq <= $2`
			args = append(args, low.Int64)
		}
		_, err = tx.ExecContext(ctx, q, args...)
		return err
	})
	if err != nil {
		return 0, err
	}
	return removed, nil
}

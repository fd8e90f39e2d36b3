package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// cursorAlerts is the PageCursor kind of alert lists.
const cursorAlerts = 'a'

// effectiveStatus is the status an alert reads as at $1 (now): an expired suppression reads as
// the status before it.
const effectiveStatus = `CASE WHEN a.status = 'suppressed' AND a.suppressed_until IS NOT NULL AND a.suppressed_until <= $1
	THEN a.status_before ELSE a.status END`

// triagedColumns is the SELECT list scanTriaged reads; $1 is now.
const triagedColumns = `a.seq, a.id, a.rule_id, a.severity, a.time, a.integration_id, a.group_key, a.body, a.stored_at,
	` + effectiveStatus + `, a.status_reason, a.suppressed_until, a.status_by, a.status_at`

func scanTriaged(r rowScanner) (store.TriagedAlert, error) {
	var a store.TriagedAlert
	var tm, stored, until, at sql.NullInt64
	var body blob
	if err := r.Scan(&a.Seq, &a.ID, &a.RuleID, &a.Severity, &tm, &a.IntegrationID, &a.GroupKey, &body, &stored,
		&a.Status, &a.Reason, &until, &a.StatusBy, &at); err != nil {
		return a, err
	}
	a.Time, a.StoredAt, a.Body = fromNanos(tm), fromNanos(stored), json.RawMessage(body)
	a.StatusAt = fromNanos(at)
	if a.Status == store.AlertSuppressed {
		a.SuppressedUntil = fromNanos(until)
	} else {
		a.Reason = "" // a suppression that expired
	}
	return a, nil
}

// SearchAlerts implements store.AlertTriage.
func (s *Store) SearchAlerts(ctx context.Context, q store.AlertQuery) (store.AlertPage, error) {
	const op = "list alerts"
	limit, err := pageLimit(q.Limit)
	if err != nil {
		return store.AlertPage{}, s.wrap(op, err)
	}
	for _, st := range q.Statuses {
		if err := checkAlertStatus(st); err != nil {
			return store.AlertPage{}, s.wrap(op, err)
		}
	}
	fq := q
	fq.Cursor, fq.Limit = "", 0
	fq.Since, fq.Until = fq.Since.UTC(), fq.Until.UTC()
	fp := store.QueryFingerprint(fq)
	after := [2]int64{math.MaxInt64, math.MaxInt64}
	if q.Cursor != "" {
		c, err := store.DecodePageCursor(q.Cursor, cursorAlerts, fp)
		if err != nil {
			return store.AlertPage{}, s.wrap(op, err)
		}
		after = [2]int64{c.Time, c.Seq}
	}
	args := []any{s.now().UnixNano(), after[0], after[1]}
	var b strings.Builder
	b.WriteString(`SELECT ` + triagedColumns + ` FROM alerts a WHERE (a.time, a.seq) < ($2, $3)`)
	args = alertFilter(&b, args, q)
	args = append(args, limit+1)
	b.WriteString(` ORDER BY a.time DESC, a.seq DESC LIMIT $` + strconv.Itoa(len(args)))
	rows, err := s.r.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return store.AlertPage{}, s.wrap(op, err)
	}
	defer rows.Close()
	page := store.AlertPage{Alerts: []store.TriagedAlert{}}
	for rows.Next() {
		a, err := scanTriaged(rows)
		if err != nil {
			return store.AlertPage{}, s.wrap(op, err)
		}
		page.Alerts = append(page.Alerts, a)
	}
	if err := rows.Err(); err != nil {
		return store.AlertPage{}, s.wrap(op, err)
	}
	if len(page.Alerts) > limit {
		page.Alerts = page.Alerts[:limit]
		last := page.Alerts[limit-1]
		page.Next = store.PageCursor{Kind: cursorAlerts, Time: last.Time.UnixNano(), Seq: last.Seq, Query: fp}.Encode()
	}
	return page, nil
}

// alertFilter appends q's filters to a WHERE clause over alerts a whose first argument ($1) is
// now, and returns the arguments.
func alertFilter(b *strings.Builder, args []any, q store.AlertQuery) []any {
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if !q.Since.IsZero() {
		b.WriteString(` AND a.time >= ` + arg(q.Since.UnixNano()))
	}
	if !q.Until.IsZero() {
		b.WriteString(` AND a.time < ` + arg(q.Until.UnixNano()))
	}
	args = andIn(b, args, "a.severity", q.Severities)
	args = andIn(b, args, "a.rule_id", q.Rules)
	args = andIn(b, args, "a.integration_id", q.Integrations)
	if len(q.Statuses) > 0 {
		b.WriteString(" AND " + effectiveStatus + " IN ")
		args = inList(b, args, q.Statuses)
	}
	if q.Identity != "" {
		id := strings.ToLower(q.Identity)
		if !strings.Contains(id, ":") {
			id = "user:" + id
		}
		b.WriteString(` AND a.seq IN (SELECT alert_seq FROM alert_entities WHERE entity = ` + arg(id) + `)`)
	}
	return args
}

// CountAlertsBySeverity implements store.AlertTriage.
func (s *Store) CountAlertsBySeverity(ctx context.Context, q store.AlertQuery) (map[string]int, error) {
	const op = "count alerts"
	for _, st := range q.Statuses {
		if err := checkAlertStatus(st); err != nil {
			return nil, s.wrap(op, err)
		}
	}
	var b strings.Builder
	b.WriteString(`SELECT a.severity, count(*) FROM alerts a WHERE $1 = $1`)
	args := alertFilter(&b, []any{s.now().UnixNano()}, q)
	b.WriteString(` GROUP BY a.severity`)
	rows, err := s.r.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var sev string
		var n int
		if err := rows.Scan(&sev, &n); err != nil {
			return nil, s.wrap(op, err)
		}
		out[sev] = n
	}
	return out, s.wrap(op, rows.Err())
}

// checkAlertStatus refuses a status outside the workflow.
func checkAlertStatus(status string) error {
	if !slices.Contains(store.AlertStatuses, status) {
		return fmt.Errorf("%w: alert status %q is not one of %s", store.ErrInvalid, status, strings.Join(store.AlertStatuses, ", "))
	}
	return nil
}

// GetAlert implements store.AlertTriage.
func (s *Store) GetAlert(ctx context.Context, id string) (store.TriagedAlert, []store.AlertChange, error) {
	const op = "get alert"
	now := s.now().UnixNano()
	a, err := scanTriaged(s.r.QueryRowContext(ctx, `SELECT `+triagedColumns+` FROM alerts a WHERE a.id = $2`, now, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, nil, s.wrap(op, fmt.Errorf("%w: alert %q (idwatch alerts list shows the ids)", store.ErrNotFound, id))
	}
	if err != nil {
		return a, nil, s.wrap(op, err)
	}
	h, err := alertHistory(ctx, s.r, id)
	return a, h, s.wrap(op, err)
}

// alertHistory reads an alert's history, oldest first.
func alertHistory(ctx context.Context, q querier, id string) ([]store.AlertChange, error) {
	rows, err := q.QueryContext(ctx, `SELECT at, actor, from_status, to_status, note, reason, until FROM alert_history
		WHERE alert_id = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.AlertChange{}
	for rows.Next() {
		var c store.AlertChange
		var at, until sql.NullInt64
		if err := rows.Scan(&at, &c.By, &c.From, &c.To, &c.Note, &c.Reason, &until); err != nil {
			return nil, err
		}
		c.At, c.Until = fromNanos(at), fromNanos(until)
		out = append(out, c)
	}
	return out, rows.Err()
}

// validateStatusChange refuses a change the workflow does not allow, naming the fix.
func validateStatusChange(c store.AlertStatusChange, now time.Time) error {
	switch {
	case strings.TrimSpace(c.By) == "":
		return fmt.Errorf("%w: an alert change needs who makes it", store.ErrInvalid)
	case c.Status == "" && c.Note == "":
		return fmt.Errorf("%w: nothing to change: give a status or a note", store.ErrInvalid)
	case c.Status != "" && !slices.Contains(store.AlertStatuses, c.Status):
		return checkAlertStatus(c.Status)
	case c.Status == store.AlertSuppressed && strings.TrimSpace(c.Reason) == "":
		return fmt.Errorf("%w: suppressing an alert needs a reason", store.ErrInvalid)
	case c.Status != store.AlertSuppressed && (c.Reason != "" || !c.Until.IsZero()):
		return fmt.Errorf("%w: a reason and an end time only go with suppressed", store.ErrInvalid)
	case !c.Until.IsZero() && !c.Until.After(now):
		return fmt.Errorf("%w: the suppression's end %s is not in the future", store.ErrInvalid, c.Until.UTC().Format(time.RFC3339))
	case len(c.Note) > 10_000 || len(c.Reason) > 1000:
		return fmt.Errorf("%w: a note is at most 10000 bytes and a reason at most 1000", store.ErrInvalid)
	}
	return nil
}

// SetAlertStatus implements store.AlertTriage.
func (s *Store) SetAlertStatus(ctx context.Context, ids []string, c store.AlertStatusChange) ([]store.TriagedAlert, error) {
	const op = "set alert status"
	if len(ids) == 0 {
		return nil, s.wrap(op, fmt.Errorf("%w: name at least one alert", store.ErrInvalid))
	}
	if err := validateStatusChange(c, s.now()); err != nil {
		return nil, s.wrap(op, err)
	}
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		return setAlertStatus(ctx, tx, ids, c, s.now().UnixNano(), false)
	})
	if err != nil {
		return nil, err
	}
	out := make([]store.TriagedAlert, 0, len(ids))
	for _, id := range ids {
		a, _, err := s.GetAlert(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// setAlertStatus applies c to the alerts ids inside tx, recording each change. With openOnly
// (an incident being closed), alerts already resolved or suppressed, and ids no longer stored,
// are left alone; otherwise an unknown id fails the change.
func setAlertStatus(ctx context.Context, tx *sql.Tx, ids []string, c store.AlertStatusChange, now int64, openOnly bool) error {
	for _, id := range ids {
		var status, before string
		var until sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT status, status_before, suppressed_until FROM alerts WHERE id = $1`, id).Scan(&status, &before, &until)
		if errors.Is(err, sql.ErrNoRows) {
			if openOnly {
				continue
			}
			return fmt.Errorf("%w: alert %q (idwatch alerts list shows the ids)", store.ErrNotFound, id)
		}
		if err != nil {
			return err
		}
		if status == store.AlertSuppressed && until.Valid && until.Int64 <= now {
			status = before // the suppression expired
		}
		if openOnly && (status == store.AlertResolved || status == store.AlertSuppressed) {
			continue
		}
		to := c.Status
		if to == "" {
			to = status
		}
		changed := to != status || to == store.AlertSuppressed && c.Status != ""
		if changed {
			if to == store.AlertSuppressed && status != store.AlertSuppressed {
				before = status
			}
			if _, err := tx.ExecContext(ctx, `UPDATE alerts SET status = $2, status_before = $3, status_reason = $4,
				suppressed_until = $5, status_by = $6, status_at = $7 WHERE id = $1`,
				id, to, before, c.Reason, nanos(c.Until), c.By, now); err != nil {
				return err
			}
		} else if c.Note == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_history (alert_id, at, actor, from_status, to_status, note, reason, until)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, now, c.By, status, to, c.Note, c.Reason, nanos(c.Until)); err != nil {
			return err
		}
	}
	return nil
}

// resolveIncidentAlerts resolves the open alerts of an incident that is being closed, inside the
// incident update's transaction, so that the alerts' history says which incident closed them.
func resolveIncidentAlerts(ctx context.Context, tx *sql.Tx, incidentID, by, status string, now int64) error {
	var ids string
	if err := tx.QueryRowContext(ctx, `SELECT alert_ids FROM incidents WHERE id = $1`, incidentID).Scan(&ids); err != nil {
		return err
	}
	var alertIDs []string
	if err := json.Unmarshal([]byte(ids), &alertIDs); err != nil {
		return fmt.Errorf("incident %s: stored alert ids: %w", incidentID, err)
	}
	c := store.AlertStatusChange{Status: store.AlertResolved, By: by, Note: "incident " + incidentID + " closed as " + status}
	return setAlertStatus(ctx, tx, alertIDs, c, now, true)
}

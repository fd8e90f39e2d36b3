package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/idwatch/idwatch/internal/store"
)

const incidentColumns = `id, entity, status, assignee, risk, severity, first_alert, last_alert, alert_ids, detail,
	created_at, updated_at, closed_at`

// SaveIncidents implements store.Incidents.
func (s *Store) SaveIncidents(ctx context.Context, by string, incs []store.Incident, merged map[string][]string) error {
	if by == "" {
		return s.wrap("save incidents", fmt.Errorf("%w: save incidents needs who saves them", store.ErrInvalid))
	}
	for i, in := range incs {
		if in.ID == "" || in.Entity == "" || in.Severity == "" || in.FirstAlert.IsZero() || in.LastAlert.IsZero() || len(in.Alerts) == 0 {
			return s.wrap("save incidents", fmt.Errorf("%w: incident %d needs an id, an entity, a severity, alert times and alerts", store.ErrInvalid, i))
		}
	}
	return s.write(ctx, "save incidents", func(tx *sql.Tx) error {
		now := s.now().UnixNano()
		for _, in := range incs {
			activity, change, err := saveIncident(ctx, tx, by, in, now)
			if err != nil {
				return err
			}
			for _, m := range merged[in.ID] {
				folded, err := mergeIncident(ctx, tx, by, in.ID, m, now)
				if err != nil {
					return err
				}
				if folded {
					activity, change = cmp.Or(activity, store.IncidentUpdated), "merged incident "+m
				}
			}
			if activity != "" {
				if err := emitIncident(ctx, tx, in.ID, activity, change, "", now); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// saveIncident inserts in or updates its grouping fields, recording what changed; it returns the
// incident stream activity and the change's text ("" when nothing changed).
func saveIncident(ctx context.Context, tx *sql.Tx, by string, in store.Incident, now int64) (string, string, error) {
	ids, err := json.Marshal(in.Alerts)
	if err != nil {
		return "", "", err
	}
	detail := []byte(in.Detail)
	if len(detail) == 0 {
		detail = []byte("{}")
	}
	var oldIDs string
	var oldRisk int
	err = tx.QueryRowContext(ctx, `SELECT alert_ids, risk FROM incidents WHERE id = $1`, in.ID).Scan(&oldIDs, &oldRisk)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO incidents (`+incidentColumns+`)
			VALUES ($1, $2, $3, '', $4, $5, $6, $7, $8, $9, $10, $10, NULL)`,
			in.ID, in.Entity, store.IncidentNew, in.Risk, in.Severity, in.FirstAlert.UnixNano(), in.LastAlert.UnixNano(),
			string(ids), detail, now); err != nil {
			return "", "", err
		}
		text := fmt.Sprintf("%d alerts about %s, risk %d (%s)", len(in.Alerts), in.Entity, in.Risk, in.Severity)
		return store.IncidentCreated, text, addHistory(ctx, tx, in.ID, now, by, store.ChangeCreated, text)
	}
	if err != nil {
		return "", "", err
	}
	if oldIDs == string(ids) && oldRisk == in.Risk {
		return "", "", nil // the same grouping again: nothing changed
	}
	var old []string
	if err := json.Unmarshal([]byte(oldIDs), &old); err != nil {
		return "", "", fmt.Errorf("incident %s: stored alert ids: %w", in.ID, err)
	}
	var added []string
	for _, a := range in.Alerts {
		if !slices.Contains(old, a) {
			added = append(added, a)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE incidents SET entity = $2, risk = $3, severity = $4, first_alert = $5,
		last_alert = $6, alert_ids = $7, detail = $8, updated_at = $9 WHERE id = $1`,
		in.ID, in.Entity, in.Risk, in.Severity, in.FirstAlert.UnixNano(), in.LastAlert.UnixNano(), string(ids), detail, now); err != nil {
		return "", "", err
	}
	text := fmt.Sprintf("%d → %d alerts, risk %d → %d (%s)", len(old), len(in.Alerts), oldRisk, in.Risk, in.Severity)
	if len(added) > 0 {
		text += "; new: " + strings.Join(added, ", ")
	}
	return store.IncidentUpdated, text, addHistory(ctx, tx, in.ID, now, by, store.ChangeAlerts, text)
}

// mergeIncident folds incident from into into: its history moves over and it is deleted, after a
// last record on the incident stream says where it went. It reports whether from existed.
func mergeIncident(ctx context.Context, tx *sql.Tx, by, into, from string, now int64) (bool, error) {
	if from == into {
		return false, nil
	}
	if err := emitIncident(ctx, tx, from, store.IncidentClosed, "merged into "+into, into, now); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil // an incident never stored has nothing to move
		}
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM incidents WHERE id = $1`, from); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE incident_history SET incident_id = $1 WHERE incident_id = $2`, into, from); err != nil {
		return false, err
	}
	return true, addHistory(ctx, tx, into, now, by, store.ChangeMerged, "merged incident "+from+" (an alert linked their entities)")
}

func addHistory(ctx context.Context, tx *sql.Tx, id string, at int64, by, kind, text string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO incident_history (incident_id, at, actor, kind, text) VALUES ($1, $2, $3, $4, $5)`,
		id, at, by, kind, text)
	return err
}

type rowScanner interface{ Scan(...any) error }

func scanIncident(r rowScanner) (store.Incident, error) {
	var in store.Incident
	var first, last, created, updated, closed sql.NullInt64
	var ids string
	var detail blob
	if err := r.Scan(&in.ID, &in.Entity, &in.Status, &in.Assignee, &in.Risk, &in.Severity, &first, &last, &ids, &detail,
		&created, &updated, &closed); err != nil {
		return in, err
	}
	if err := json.Unmarshal([]byte(ids), &in.Alerts); err != nil {
		return in, fmt.Errorf("incident %s: stored alert ids: %w", in.ID, err)
	}
	in.FirstAlert, in.LastAlert = fromNanos(first), fromNanos(last)
	in.CreatedAt, in.UpdatedAt, in.ClosedAt = fromNanos(created), fromNanos(updated), fromNanos(closed)
	in.Detail = json.RawMessage(detail)
	return in, nil
}

// GetIncident implements store.Incidents.
func (s *Store) GetIncident(ctx context.Context, id string) (store.Incident, error) {
	in, err := scanIncident(s.r.QueryRowContext(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return in, s.wrap("get incident", fmt.Errorf("%w: incident %q (idwatch incidents list shows the ids)", store.ErrNotFound, id))
	}
	if err != nil {
		return in, s.wrap("get incident", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT at, actor, kind, text FROM incident_history WHERE incident_id = $1 ORDER BY seq`, id)
	if err != nil {
		return in, s.wrap("get incident", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c store.IncidentChange
		var at sql.NullInt64
		if err := rows.Scan(&at, &c.By, &c.Kind, &c.Text); err != nil {
			return in, s.wrap("get incident", err)
		}
		c.At = fromNanos(at)
		in.History = append(in.History, c)
	}
	return in, s.wrap("get incident", rows.Err())
}

// checkStatus refuses a status outside the workflow.
func checkStatus(status string) error {
	if !slices.Contains(store.IncidentStatuses, status) {
		return fmt.Errorf("%w: incident status %q is not one of %s", store.ErrInvalid, status, strings.Join(store.IncidentStatuses, ", "))
	}
	return nil
}

// ListIncidents implements store.Incidents.
func (s *Store) ListIncidents(ctx context.Context, status string, limit int) ([]store.Incident, error) {
	if err := checkLimit(limit); err != nil {
		return nil, s.wrap("list incidents", err)
	}
	if status != "" {
		if err := checkStatus(status); err != nil {
			return nil, s.wrap("list incidents", err)
		}
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE $1 = '' OR status = $1
		ORDER BY risk DESC, last_alert DESC, id LIMIT $2`, status, limit)
	if err != nil {
		return nil, s.wrap("list incidents", err)
	}
	defer rows.Close()
	var out []store.Incident
	for rows.Next() {
		in, err := scanIncident(rows)
		if err != nil {
			return nil, s.wrap("list incidents", err)
		}
		out = append(out, in)
	}
	return out, s.wrap("list incidents", rows.Err())
}

// UpdateIncident implements store.Incidents.
func (s *Store) UpdateIncident(ctx context.Context, id string, u store.IncidentUpdate) (store.Incident, error) {
	if u.By == "" {
		return store.Incident{}, s.wrap("update incident", fmt.Errorf("%w: an incident update needs who makes it", store.ErrInvalid))
	}
	if u.Status == "" && u.Assignee == nil && u.Note == "" {
		return store.Incident{}, s.wrap("update incident", fmt.Errorf("%w: nothing to update: give a status, an assignee or a note", store.ErrInvalid))
	}
	if u.Status != "" {
		if err := checkStatus(u.Status); err != nil {
			return store.Incident{}, s.wrap("update incident", err)
		}
	}
	err := s.write(ctx, "update incident", func(tx *sql.Tx) error {
		now := s.now().UnixNano()
		var status, assignee string
		err := tx.QueryRowContext(ctx, `SELECT status, assignee FROM incidents WHERE id = $1`, id).Scan(&status, &assignee)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: incident %q (idwatch incidents list shows the ids)", store.ErrNotFound, id)
		}
		if err != nil {
			return err
		}
		activity, change := store.IncidentUpdated, ""
		if u.Status != "" && u.Status != status {
			var closed any
			if u.Status == store.IncidentResolved || u.Status == store.IncidentFalsePositive {
				closed, activity = now, store.IncidentClosed
			}
			change = status + " → " + u.Status
			if _, err := tx.ExecContext(ctx, `UPDATE incidents SET status = $2, closed_at = $3 WHERE id = $1`, id, u.Status, closed); err != nil {
				return err
			}
			if err := addHistory(ctx, tx, id, now, u.By, store.ChangeStatus, status+" → "+u.Status); err != nil {
				return err
			}
			if closed != nil {
				if err := resolveIncidentAlerts(ctx, tx, id, u.By, u.Status, now); err != nil {
					return err
				}
			}
		}
		if u.Assignee != nil && *u.Assignee != assignee {
			if _, err := tx.ExecContext(ctx, `UPDATE incidents SET assignee = $2 WHERE id = $1`, id, *u.Assignee); err != nil {
				return err
			}
			text := fmt.Sprintf("%q → %q", assignee, *u.Assignee)
			if err := addHistory(ctx, tx, id, now, u.By, store.ChangeAssignee, text); err != nil {
				return err
			}
			change = cmp.Or(change, "assignee "+text)
		}
		if u.Note != "" {
			if err := addHistory(ctx, tx, id, now, u.By, store.ChangeNote, u.Note); err != nil {
				return err
			}
			change = cmp.Or(change, "note by "+u.By)
		}
		if _, err = tx.ExecContext(ctx, `UPDATE incidents SET updated_at = $2 WHERE id = $1`, id, now); err != nil {
			return err
		}
		if change == "" {
			return nil // the same status and assignee again, no note: nothing to report
		}
		return emitIncident(ctx, tx, id, activity, change, "", now)
	})
	if err != nil {
		return store.Incident{}, err
	}
	return s.GetIncident(ctx, id)
}

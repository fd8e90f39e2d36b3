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

const responseColumns = `id, idem_key, integration_id, action, options, target_user, user_id, requested_by, mode,
	rule_id, alert_id, reason, status, result, created_at, updated_at`

// CreateResponseAction implements store.Responses.
func (s *Store) CreateResponseAction(ctx context.Context, a store.ResponseAction, rec store.ResponseRecord) (store.ResponseAction, bool, error) {
	if a.ID == "" || a.Key == "" || a.Action == "" || a.User == "" || a.RequestedBy == "" || a.Mode == "" || !slices.Contains(store.ResponseStatuses, a.Status) {
		return store.ResponseAction{}, false, s.wrap("create response action", fmt.Errorf("%w: a response action needs an id, a key, an action, a user, a requester, a mode and a known status", store.ErrInvalid))
	}
	opts, err := json.Marshal(a.Options)
	if err != nil {
		return store.ResponseAction{}, false, err
	}
	var got store.ResponseAction
	created := false
	err = s.write(ctx, "create response action", func(tx *sql.Tx) error {
		old, err := scanResponse(tx.QueryRowContext(ctx, `SELECT `+responseColumns+` FROM response_actions WHERE idem_key = $1`, a.Key))
		if err == nil {
			got = old
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		now := s.now().UnixNano()
		if _, err := tx.ExecContext(ctx, `INSERT INTO response_actions (`+responseColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)`,
			a.ID, a.Key, a.IntegrationID, a.Action, string(opts), a.User, a.UserID, a.RequestedBy, a.Mode,
			a.RuleID, a.AlertID, a.Reason, a.Status, a.Result, now); err != nil {
			return err
		}
		rec.ActionID, rec.Status = a.ID, a.Status
		if err := appendResponseRecord(ctx, tx, rec, now); err != nil {
			return err
		}
		got, err = scanResponse(tx.QueryRowContext(ctx, `SELECT `+responseColumns+` FROM response_actions WHERE id = $1`, a.ID))
		created = err == nil
		return err
	})
	return got, created, err
}

// GetResponseAction implements store.Responses.
func (s *Store) GetResponseAction(ctx context.Context, id string) (store.ResponseAction, error) {
	a, err := scanResponse(s.r.QueryRowContext(ctx, `SELECT `+responseColumns+` FROM response_actions WHERE id = $1`, id))
	if err != nil {
		return store.ResponseAction{}, s.wrap("get response action", fmt.Errorf("response action %s: %w", id, err))
	}
	return a, nil
}

// ListResponseActions implements store.Responses.
func (s *Store) ListResponseActions(ctx context.Context, status string, limit int) ([]store.ResponseAction, error) {
	if limit <= 0 || limit > MaxReadLimit {
		return nil, s.wrap("list response actions", fmt.Errorf("%w: limit %d is outside 1..%d", store.ErrInvalid, limit, MaxReadLimit))
	}
	if status != "" && !slices.Contains(store.ResponseStatuses, status) {
		return nil, s.wrap("list response actions", fmt.Errorf("%w: status %q: use one of %s", store.ErrInvalid, status, strings.Join(store.ResponseStatuses, ", ")))
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+responseColumns+` FROM response_actions WHERE $1 = '' OR status = $1
		ORDER BY created_at DESC, id LIMIT $2`, status, limit)
	if err != nil {
		return nil, s.wrap("list response actions", err)
	}
	defer rows.Close()
	var out []store.ResponseAction
	for rows.Next() {
		a, err := scanResponse(rows)
		if err != nil {
			return nil, s.wrap("list response actions", err)
		}
		out = append(out, a)
	}
	return out, s.wrap("list response actions", rows.Err())
}

// TransitionResponseAction implements store.Responses.
func (s *Store) TransitionResponseAction(ctx context.Context, id string, from []string, userID, result string, rec store.ResponseRecord) (store.ResponseAction, error) {
	if !slices.Contains(store.ResponseStatuses, rec.Status) || rec.By == "" || rec.Kind == "" {
		return store.ResponseAction{}, s.wrap("transition response action", fmt.Errorf("%w: a transition needs a known status, who and what", store.ErrInvalid))
	}
	var got store.ResponseAction
	err := s.write(ctx, "transition response action", func(tx *sql.Tx) error {
		cur, err := scanResponse(tx.QueryRowContext(ctx, `SELECT `+responseColumns+` FROM response_actions WHERE id = $1`, id))
		if err != nil {
			return fmt.Errorf("response action %s: %w", id, err)
		}
		if !slices.Contains(from, cur.Status) {
			return fmt.Errorf("%w: response action %s is %s, not %s", store.ErrChanged, id, cur.Status, strings.Join(from, " or "))
		}
		now := s.now().UnixNano()
		if userID == "" {
			userID = cur.UserID
		}
		if _, err := tx.ExecContext(ctx, `UPDATE response_actions SET status = $1, result = $2, user_id = $3, updated_at = $4 WHERE id = $5`,
			rec.Status, result, userID, now, id); err != nil {
			return err
		}
		rec.ActionID = id
		if err := appendResponseRecord(ctx, tx, rec, now); err != nil {
			return err
		}
		got, err = scanResponse(tx.QueryRowContext(ctx, `SELECT `+responseColumns+` FROM response_actions WHERE id = $1`, id))
		return err
	})
	return got, err
}

// AppendResponseRecord implements store.Responses.
func (s *Store) AppendResponseRecord(ctx context.Context, rec store.ResponseRecord) error {
	if rec.ActionID == "" || rec.By == "" || rec.Kind == "" {
		return s.wrap("append response record", fmt.Errorf("%w: a record needs an action id, who and what", store.ErrInvalid))
	}
	return s.write(ctx, "append response record", func(tx *sql.Tx) error {
		return appendResponseRecord(ctx, tx, rec, s.now().UnixNano())
	})
}

func appendResponseRecord(ctx context.Context, tx *sql.Tx, rec store.ResponseRecord, now int64) error {
	at := now
	if !rec.At.IsZero() {
		at = rec.At.UnixNano()
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO response_audit (action_id, at, actor, kind, status, method, path, query,
		okta_status, okta_code, okta_request_id, text) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		rec.ActionID, at, rec.By, rec.Kind, rec.Status, rec.Method, rec.Path, rec.Query, rec.OktaStatus, rec.OktaCode,
		rec.OktaRequestID, rec.Text)
	return err
}

// ResponseRecords implements store.Responses.
func (s *Store) ResponseRecords(ctx context.Context, actionID string, afterSeq int64, limit int) ([]store.ResponseRecord, error) {
	if limit <= 0 || limit > MaxReadLimit {
		return nil, s.wrap("response records", fmt.Errorf("%w: limit %d is outside 1..%d", store.ErrInvalid, limit, MaxReadLimit))
	}
	rows, err := s.r.QueryContext(ctx, `SELECT seq, action_id, at, actor, kind, status, method, path, query, okta_status,
		okta_code, okta_request_id, text FROM response_audit WHERE ($1 = '' OR action_id = $1) AND seq > $2 ORDER BY seq LIMIT $3`,
		actionID, afterSeq, limit)
	if err != nil {
		return nil, s.wrap("response records", err)
	}
	defer rows.Close()
	var out []store.ResponseRecord
	for rows.Next() {
		var r store.ResponseRecord
		var at sql.NullInt64
		if err := rows.Scan(&r.Seq, &r.ActionID, &at, &r.By, &r.Kind, &r.Status, &r.Method, &r.Path, &r.Query,
			&r.OktaStatus, &r.OktaCode, &r.OktaRequestID, &r.Text); err != nil {
			return nil, s.wrap("response records", err)
		}
		r.At = fromNanos(at)
		out = append(out, r)
	}
	return out, s.wrap("response records", rows.Err())
}

func scanResponse(row rowScanner) (store.ResponseAction, error) {
	var a store.ResponseAction
	var opts string
	var created, updated sql.NullInt64
	err := row.Scan(&a.ID, &a.Key, &a.IntegrationID, &a.Action, &opts, &a.User, &a.UserID, &a.RequestedBy, &a.Mode,
		&a.RuleID, &a.AlertID, &a.Reason, &a.Status, &a.Result, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return a, store.ErrNotFound
	}
	if err != nil {
		return a, err
	}
	if opts != "" && opts != "null" {
		if err := json.Unmarshal([]byte(opts), &a.Options); err != nil {
			return a, fmt.Errorf("response action %s: stored options: %w", a.ID, err)
		}
	}
	a.CreatedAt, a.UpdatedAt = fromNanos(created), fromNanos(updated)
	return a, nil
}

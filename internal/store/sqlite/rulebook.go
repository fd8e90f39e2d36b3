package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/idwatch/idwatch/internal/store"
)

// bumpRulebook advances the rulebook's version inside tx.
func bumpRulebook(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `UPDATE sequences SET value = value + 1 WHERE name = 'rulebook'`)
	return err
}

// RulebookVersion implements store.Rulebook.
func (s *Store) RulebookVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.r.QueryRowContext(ctx, `SELECT value FROM sequences WHERE name = 'rulebook'`).Scan(&v)
	return v, s.wrap("rulebook version", err)
}

// RuleSettings implements store.Rulebook.
func (s *Store) RuleSettings(ctx context.Context) (map[string]store.RuleSetting, error) {
	const op = "rule settings"
	rows, err := s.r.QueryContext(ctx, `SELECT rule_id, enabled, changed_by, changed_at FROM rule_settings`)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	defer rows.Close()
	out := map[string]store.RuleSetting{}
	for rows.Next() {
		var r store.RuleSetting
		var at sql.NullInt64
		if err := rows.Scan(&r.RuleID, &r.Enabled, &r.ChangedBy, &at); err != nil {
			return nil, s.wrap(op, err)
		}
		r.ChangedAt = fromNanos(at)
		out[r.RuleID] = r
	}
	return out, s.wrap(op, rows.Err())
}

// SetRuleEnabled implements store.Rulebook.
func (s *Store) SetRuleEnabled(ctx context.Context, r store.RuleSetting) error {
	if r.RuleID == "" || r.ChangedBy == "" {
		return s.wrap("set rule", fmt.Errorf("%w: a rule id and who changes it are required", store.ErrInvalid))
	}
	if r.ChangedAt.IsZero() {
		r.ChangedAt = s.now()
	}
	return s.write(ctx, "set rule", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO rule_settings (rule_id, enabled, changed_by, changed_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (rule_id) DO UPDATE SET enabled = excluded.enabled, changed_by = excluded.changed_by, changed_at = excluded.changed_at`,
			r.RuleID, r.Enabled, r.ChangedBy, r.ChangedAt.UnixNano()); err != nil {
			return err
		}
		return bumpRulebook(ctx, tx)
	})
}

// CustomRules implements store.Rulebook.
func (s *Store) CustomRules(ctx context.Context) ([]store.CustomRule, error) {
	const op = "custom rules"
	rows, err := s.r.QueryContext(ctx, `SELECT filename, rule_ids, body, tests, uploaded_by, uploaded_at FROM custom_rules ORDER BY filename`)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	defer rows.Close()
	var out []store.CustomRule
	for rows.Next() {
		var r store.CustomRule
		var ids string
		var at sql.NullInt64
		if err := rows.Scan(&r.Filename, &ids, &r.Body, &r.Tests, &r.UploadedBy, &at); err != nil {
			return nil, s.wrap(op, err)
		}
		if ids != "" {
			r.RuleIDs = strings.Split(ids, "\n")
		}
		r.UploadedAt = fromNanos(at)
		out = append(out, r)
	}
	return out, s.wrap(op, rows.Err())
}

// PutCustomRule implements store.Rulebook.
func (s *Store) PutCustomRule(ctx context.Context, r store.CustomRule) error {
	if r.Filename == "" || r.UploadedBy == "" || len(r.Body) == 0 {
		return s.wrap("put custom rule", fmt.Errorf("%w: a file name, a body and who uploads it are required", store.ErrInvalid))
	}
	if r.UploadedAt.IsZero() {
		r.UploadedAt = s.now()
	}
	if r.Tests == nil {
		r.Tests = []byte{}
	}
	return s.write(ctx, "put custom rule", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO custom_rules (filename, rule_ids, body, tests, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (filename) DO UPDATE SET rule_ids = excluded.rule_ids, body = excluded.body, tests = excluded.tests,
			uploaded_by = excluded.uploaded_by, uploaded_at = excluded.uploaded_at`,
			r.Filename, strings.Join(r.RuleIDs, "\n"), r.Body, r.Tests, r.UploadedBy, r.UploadedAt.UnixNano()); err != nil {
			return err
		}
		return bumpRulebook(ctx, tx)
	})
}

// DeleteCustomRule implements store.Rulebook.
func (s *Store) DeleteCustomRule(ctx context.Context, filename string) error {
	return s.write(ctx, "delete custom rule", func(tx *sql.Tx) error {
		var ids string
		err := tx.QueryRowContext(ctx, `SELECT rule_ids FROM custom_rules WHERE filename = $1`, filename).Scan(&ids)
		if err == sql.ErrNoRows {
			return fmt.Errorf("%w: custom rule file %q", store.ErrNotFound, filename)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM custom_rules WHERE filename = $1`, filename); err != nil {
			return err
		}
		for _, id := range strings.Split(ids, "\n") {
			if _, err := tx.ExecContext(ctx, `DELETE FROM rule_settings WHERE rule_id = $1`, id); err != nil {
				return err
			}
		}
		return bumpRulebook(ctx, tx)
	})
}

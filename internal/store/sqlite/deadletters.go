package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// AddDeadLetter implements store.DeadLetters.
func (s *Store) AddDeadLetter(ctx context.Context, d store.DeadLetter) error {
	if d.Sink == "" || d.RecordID == "" || len(d.Payload) == 0 {
		return s.wrap("add dead letter", fmt.Errorf("%w: a dead letter needs a sink, a record id and a payload", store.ErrInvalid))
	}
	now := s.now().UnixNano()
	first, last := now, now
	if !d.FirstFailure.IsZero() {
		first = d.FirstFailure.UnixNano()
	}
	if !d.LastFailure.IsZero() {
		last = d.LastFailure.UnixNano()
	}
	attempts := max(d.Attempts, 1)
	return s.write(ctx, "add dead letter", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO dead_letters (sink, record_id, payload, error, attempts, first_failure, last_failure, leased_until)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 0)
			ON CONFLICT (sink, record_id) DO UPDATE SET payload = excluded.payload, error = excluded.error,
				attempts = dead_letters.attempts + excluded.attempts, last_failure = excluded.last_failure, leased_until = 0`,
			d.Sink, d.RecordID, []byte(d.Payload), d.Error, attempts, first, last)
		return err
	})
}

// deadLetterColumns is the SELECT list scanDeadLetters reads.
const deadLetterColumns = `id, sink, record_id, payload, error, attempts, first_failure, last_failure`

// scanDeadLetters reads rows of deadLetterColumns.
func scanDeadLetters(rows *sql.Rows) ([]store.DeadLetter, error) {
	defer rows.Close()
	var out []store.DeadLetter
	for rows.Next() {
		var d store.DeadLetter
		var payload []byte
		var first, last sql.NullInt64
		if err := rows.Scan(&d.ID, &d.Sink, &d.RecordID, &payload, &d.Error, &d.Attempts, &first, &last); err != nil {
			return nil, err
		}
		d.Payload, d.FirstFailure, d.LastFailure = payload, fromNanos(first), fromNanos(last)
		out = append(out, d)
	}
	return out, rows.Err()
}

// ListDeadLetters implements store.DeadLetters.
func (s *Store) ListDeadLetters(ctx context.Context, sink string, limit int) ([]store.DeadLetter, error) {
	if err := checkLimit(limit); err != nil {
		return nil, s.wrap("list dead letters", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+deadLetterColumns+` FROM dead_letters
		WHERE ($1 = '' OR sink = $1) ORDER BY id LIMIT $2`, sink, limit)
	if err != nil {
		return nil, s.wrap("list dead letters", err)
	}
	out, err := scanDeadLetters(rows)
	return out, s.wrap("list dead letters", err)
}

// TakeDeadLetters implements store.DeadLetters.
func (s *Store) TakeDeadLetters(ctx context.Context, sink string, limit int, lease time.Duration) ([]store.DeadLetter, error) {
	if err := checkLimit(limit); err != nil {
		return nil, s.wrap("take dead letters", err)
	}
	if sink == "" || lease <= 0 {
		return nil, s.wrap("take dead letters", fmt.Errorf("%w: taking dead letters needs a sink and a positive lease", store.ErrInvalid))
	}
	var out []store.DeadLetter
	err := s.write(ctx, "take dead letters", func(tx *sql.Tx) error {
		now := s.now()
		rows, err := tx.QueryContext(ctx, `SELECT `+deadLetterColumns+` FROM dead_letters
			WHERE sink = $1 AND leased_until <= $2 ORDER BY id LIMIT $3`, sink, now.UnixNano(), limit)
		if err != nil {
			return err
		}
		if out, err = scanDeadLetters(rows); err != nil || len(out) == 0 {
			return err
		}
		q, args := idList(`UPDATE dead_letters SET leased_until = $1 WHERE id IN `, []any{now.Add(lease).UnixNano()}, out)
		_, err = tx.ExecContext(ctx, q, args...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// idList appends "(…)" with a parameter per dead letter id to prefix.
func idList(prefix string, args []any, ds []store.DeadLetter) (string, []any) {
	ids := make([]int64, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	var b strings.Builder
	b.WriteString(prefix)
	args = inList(&b, args, ids)
	return b.String(), args
}

// DeleteDeadLetters implements store.DeadLetters.
func (s *Store) DeleteDeadLetters(ctx context.Context, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	return s.write(ctx, "delete dead letters", func(tx *sql.Tx) error {
		var b strings.Builder
		b.WriteString(`DELETE FROM dead_letters WHERE id IN `)
		args := inList(&b, nil, ids)
		_, err := tx.ExecContext(ctx, b.String(), args...)
		return err
	})
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/idwatch/idwatch/internal/store"
)

// upsertCursor stores an integration's cursor inside tx.
func upsertCursor(ctx context.Context, tx *sql.Tx, integrationID int64, c store.Cursor, now int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO cursors (integration_id, next_url, last_published, updated_at)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (integration_id) DO UPDATE SET next_url = excluded.next_url,
			last_published = excluded.last_published, updated_at = excluded.updated_at`,
		integrationID, c.Next, nanos(c.LastPublished), now)
	return err
}

// Cursor implements store.Cursors.
func (s *Store) Cursor(ctx context.Context, integrationID int64) (store.Cursor, error) {
	var c store.Cursor
	var pub, upd sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT next_url, last_published, updated_at FROM cursors WHERE integration_id = $1`,
		integrationID).Scan(&c.Next, &pub, &upd)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Cursor{}, s.wrap("cursor", fmt.Errorf("%w: no cursor for integration %d", store.ErrNotFound, integrationID))
	}
	if err != nil {
		return store.Cursor{}, s.wrap("cursor", err)
	}
	c.LastPublished, c.UpdatedAt = fromNanos(pub), fromNanos(upd)
	return c, nil
}

// SetCursor implements store.Cursors.
func (s *Store) SetCursor(ctx context.Context, integrationID int64, c store.Cursor) error {
	return s.write(ctx, "set cursor", func(tx *sql.Tx) error {
		return upsertCursor(ctx, tx, integrationID, c, s.now().UnixNano())
	})
}

// DeleteCursor implements store.Cursors.
func (s *Store) DeleteCursor(ctx context.Context, integrationID int64) error {
	return s.write(ctx, "delete cursor", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM cursors WHERE integration_id = $1`, integrationID)
		return err
	})
}

// RegisterConsumer implements store.Offsets.
func (s *Store) RegisterConsumer(ctx context.Context, name string, stream store.Stream, start int64) (int64, error) {
	if err := stream.Validate(); err != nil {
		return 0, s.wrap("register consumer", err)
	}
	if name == "" || start < 0 {
		return 0, s.wrap("register consumer", fmt.Errorf("%w: consumer needs a name and a start offset >= 0", store.ErrInvalid))
	}
	var offset int64
	err := s.write(ctx, "register consumer", func(tx *sql.Tx) error {
		var have store.Stream
		err := tx.QueryRowContext(ctx, `SELECT stream, offset_seq FROM consumers WHERE name = $1`, name).Scan(&have, &offset)
		if err == nil {
			if have != stream {
				return fmt.Errorf("%w: consumer %q already reads stream %q; unregister it first", store.ErrConflict, name, have)
			}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		last, err := readSequence(ctx, tx, stream)
		if err != nil {
			return err
		}
		if start > last {
			return fmt.Errorf("%w: start offset %d is beyond the %s stream's last seq %d", store.ErrInvalid, start, stream, last)
		}
		now := s.now().UnixNano()
		offset = start
		_, err = tx.ExecContext(ctx, `INSERT INTO consumers (name, stream, offset_seq, registered_at, updated_at)
			VALUES ($1, $2, $3, $4, $5)`, name, string(stream), start, now, now)
		return err
	})
	return offset, err
}

// UnregisterConsumer implements store.Offsets.
func (s *Store) UnregisterConsumer(ctx context.Context, name string) error {
	return s.write(ctx, "unregister consumer", func(tx *sql.Tx) error {
		n, err := execCount(ctx, tx, `DELETE FROM consumers WHERE name = $1`, name)
		if err == nil && n == 0 {
			err = fmt.Errorf("%w: consumer %q is not registered", store.ErrNotFound, name)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM consumer_state WHERE consumer = $1`, name)
		return err
	})
}

// Offset implements store.Offsets.
func (s *Store) Offset(ctx context.Context, name string) (int64, error) {
	var off int64
	err := s.r.QueryRowContext(ctx, `SELECT offset_seq FROM consumers WHERE name = $1`, name).Scan(&off)
	if errors.Is(err, sql.ErrNoRows) {
		err = fmt.Errorf("%w: consumer %q is not registered", store.ErrNotFound, name)
	}
	return off, s.wrap("offset", err)
}

// CommitOffset implements store.Offsets.
func (s *Store) CommitOffset(ctx context.Context, name string, seq int64) error {
	return s.setOffset(ctx, "commit offset", name, seq, false)
}

// ResetOffset implements store.Offsets.
func (s *Store) ResetOffset(ctx context.Context, name string, seq int64) error {
	return s.setOffset(ctx, "reset offset", name, seq, true)
}

// setOffset moves a consumer's offset; only a reset may move it backwards.
func (s *Store) setOffset(ctx context.Context, op, name string, seq int64, reset bool) error {
	if seq < 0 {
		return s.wrap(op, fmt.Errorf("%w: offset %d is negative", store.ErrInvalid, seq))
	}
	return s.write(ctx, op, func(tx *sql.Tx) error {
		_, err := moveOffset(ctx, tx, name, seq, reset, s.now().UnixNano())
		return err
	})
}

// moveOffset sets a consumer's offset inside tx (backwards only when reset) and returns the
// stream the consumer reads.
func moveOffset(ctx context.Context, tx *sql.Tx, name string, seq int64, reset bool, now int64) (store.Stream, error) {
	var stream store.Stream
	var cur int64
	err := tx.QueryRowContext(ctx, `SELECT stream, offset_seq FROM consumers WHERE name = $1`, name).Scan(&stream, &cur)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%w: consumer %q is not registered", store.ErrNotFound, name)
	}
	if err != nil {
		return "", err
	}
	if seq == cur || (seq < cur && !reset) {
		return stream, nil
	}
	last, err := readSequence(ctx, tx, stream)
	if err != nil {
		return "", err
	}
	if seq > last {
		return "", fmt.Errorf("%w: offset %d for consumer %q is beyond the %s stream's last seq %d", store.ErrInvalid, seq, name, stream, last)
	}
	_, err = tx.ExecContext(ctx, `UPDATE consumers SET offset_seq = $1, updated_at = $2 WHERE name = $3`, seq, now, name)
	return stream, err
}

// Consumers implements store.Offsets.
func (s *Store) Consumers(ctx context.Context) ([]store.Consumer, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT c.name, c.stream, c.offset_seq, q.value, c.registered_at, c.updated_at,
		c.status, c.status_error, c.status_at FROM consumers c JOIN sequences q ON q.name = c.stream ORDER BY c.name`)
	if err != nil {
		return nil, s.wrap("list consumers", err)
	}
	defer rows.Close()
	var out []store.Consumer
	for rows.Next() {
		var c store.Consumer
		var last int64
		var reg, upd, statusAt sql.NullInt64
		if err := rows.Scan(&c.Name, &c.Stream, &c.Offset, &last, &reg, &upd, &c.Status, &c.StatusError, &statusAt); err != nil {
			return nil, s.wrap("list consumers", err)
		}
		c.Lag = max(last-c.Offset, 0)
		c.RegisteredAt, c.UpdatedAt, c.StatusAt = fromNanos(reg), fromNanos(upd), fromNanos(statusAt)
		out = append(out, c)
	}
	return out, s.wrap("list consumers", rows.Err())
}

// SetConsumerStatus implements store.Offsets.
func (s *Store) SetConsumerStatus(ctx context.Context, name, status, statusError string) error {
	return s.write(ctx, "set consumer status", func(tx *sql.Tx) error {
		// status_at is when the consumer entered the status: a new error while still retrying
		// leaves it, so it says since when the trouble lasts.
		r, err := tx.ExecContext(ctx, `UPDATE consumers SET status = $1, status_error = $2,
			status_at = CASE WHEN status IS $1 AND status_at IS NOT NULL THEN status_at ELSE $3 END WHERE name = $4`,
			status, statusError, s.now().UnixNano(), name)
		if err != nil {
			return err
		}
		if n, err := r.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, fmt.Errorf("%w: consumer %q is not registered", store.ErrNotFound, name))
		}
		return nil
	})
}

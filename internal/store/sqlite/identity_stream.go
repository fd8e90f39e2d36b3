package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// AppendIdentityRecords implements store.IdentityStream.
func (s *Store) AppendIdentityRecords(ctx context.Context, recs []store.IdentityRecord) error {
	if len(recs) == 0 {
		return nil
	}
	for _, r := range recs {
		if r.Kind != store.IdentityUser && r.Kind != store.IdentityPosture {
			return s.wrap("append identity records", fmt.Errorf("%w: identity record kind %q (want %q or %q)", store.ErrInvalid, r.Kind, store.IdentityUser, store.IdentityPosture))
		}
		if !json.Valid(r.Body) {
			return s.wrap("append identity records", fmt.Errorf("%w: identity record %s %s: the body is not JSON", store.ErrInvalid, r.Kind, r.UID))
		}
	}
	return s.write(ctx, "append identity records", func(tx *sql.Tx) error {
		seq, err := readSequence(ctx, tx, store.StreamIdentity)
		if err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO identity_stream (seq, integration_id, kind, uid, at, body) VALUES ($1, $2, $3, $4, $5, $6)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, r := range recs {
			seq++
			if _, err := stmt.ExecContext(ctx, seq, r.IntegrationID, r.Kind, r.UID, r.At.UnixNano(), []byte(r.Body)); err != nil {
				return err
			}
		}
		return writeSequence(ctx, tx, store.StreamIdentity, seq)
	})
}

// ReadIdentityStream implements store.IdentityStream.
func (s *Store) ReadIdentityStream(ctx context.Context, afterSeq int64, limit int) ([]store.IdentityRecord, error) {
	if err := checkLimit(limit); err != nil {
		return nil, s.wrap("read identity stream", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT seq, integration_id, kind, uid, at, body FROM identity_stream
		WHERE seq > $1 ORDER BY seq LIMIT $2`, afterSeq, limit)
	if err != nil {
		return nil, s.wrap("read identity stream", err)
	}
	defer rows.Close()
	var out []store.IdentityRecord
	for rows.Next() {
		var r store.IdentityRecord
		var at sql.NullInt64
		var body blob
		if err := rows.Scan(&r.Seq, &r.IntegrationID, &r.Kind, &r.UID, &at, &body); err != nil {
			return nil, s.wrap("read identity stream", err)
		}
		r.At, r.Body = fromNanos(at), json.RawMessage(body)
		out = append(out, r)
	}
	return out, s.wrap("read identity stream", rows.Err())
}

// LastIdentitySeq implements store.IdentityStream.
func (s *Store) LastIdentitySeq(ctx context.Context) (int64, error) {
	v, err := readSequence(ctx, s.r, store.StreamIdentity)
	return v, s.wrap("last identity seq", err)
}

// TrimIdentityStream implements store.IdentityStream.
func (s *Store) TrimIdentityStream(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, "trim identity stream", func(tx *sql.Tx) error {
		var low sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MIN(offset_seq) FROM consumers WHERE stream = $1`, string(store.StreamIdentity)).Scan(&low); err != nil {
			return err
		}
		q := `DELETE FROM identity_stream WHERE at < $1`
		args := []any{before.UnixNano()}
		if low.Valid {
			q += ` AND seq <= $2`
			args = append(args, low.Int64)
		}
		var err error
		n, err = execCount(ctx, tx, q, args...)
		return err
	})
	return n, err
}

package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// CommitProcessed implements store.Processing.
func (s *Store) CommitProcessed(ctx context.Context, consumer string, seq int64, b store.ProcessedBatch) (store.ProcessedResult, error) {
	const op = "commit processed"
	if err := validateBatch(consumer, seq, b); err != nil {
		return store.ProcessedResult{}, s.wrap(op, err)
	}
	var res store.ProcessedResult
	now := s.now().UnixNano()
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		res = store.ProcessedResult{}
		var stream store.Stream
		if err := tx.QueryRowContext(ctx, `SELECT stream FROM consumers WHERE name = $1`, consumer).Scan(&stream); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%w: consumer %q is not registered", store.ErrNotFound, consumer)
			}
			return err
		}
		if stream != store.StreamJournal {
			return fmt.Errorf("%w: consumer %q reads the %s stream, not the journal", store.ErrInvalid, consumer, stream)
		}
		var err error
		if res.Alerts, err = insertAlerts(ctx, tx, b.Alerts, now); err != nil {
			return err
		}
		for _, e := range b.State {
			if e.Value == nil {
				_, err = tx.ExecContext(ctx, `DELETE FROM consumer_state WHERE consumer = $1 AND key = $2`, consumer, e.Key)
			} else {
				_, err = tx.ExecContext(ctx, `INSERT INTO consumer_state (consumer, key, value) VALUES ($1, $2, $3)
					ON CONFLICT (consumer, key) DO UPDATE SET value = excluded.value`, consumer, e.Key, e.Value)
			}
			if err != nil {
				return err
			}
		}
		if err := s.fault(store.FaultBeforeProcessedOffset); err != nil {
			return err
		}
		_, err = moveOffset(ctx, tx, consumer, seq, false, now)
		return err
	})
	if err != nil {
		return store.ProcessedResult{}, err
	}
	return res, nil
}

// validateBatch refuses a batch the tables cannot hold.
func validateBatch(consumer string, seq int64, b store.ProcessedBatch) error {
	if consumer == "" || seq < 0 {
		return fmt.Errorf("%w: commit needs a consumer name and an offset >= 0", store.ErrInvalid)
	}
	for i, e := range b.State {
		if e.Key == "" {
			return fmt.Errorf("%w: state entry %d has no key", store.ErrInvalid, i)
		}
	}
	return validateAlerts(b.Alerts)
}

// ConsumerState implements store.Processing.
func (s *Store) ConsumerState(ctx context.Context, consumer string) ([]store.StateEntry, error) {
	const op = "consumer state"
	rows, err := s.r.QueryContext(ctx, `SELECT key, value FROM consumer_state WHERE consumer = $1 ORDER BY key`, consumer)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	defer rows.Close()
	var out []store.StateEntry
	for rows.Next() {
		var e store.StateEntry
		if err := rows.Scan(&e.Key, &e.Value); err != nil {
			return nil, s.wrap(op, err)
		}
		out = append(out, e)
	}
	return out, s.wrap(op, rows.Err())
}

// SeqBefore implements store.Processing. It walks the journal backwards from atOrBelow by rowid;
// entries without a published time do not count as before t.
func (s *Store) SeqBefore(ctx context.Context, t time.Time, atOrBelow int64) (int64, error) {
	var seq sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT seq FROM journal WHERE seq <= $1 AND published < $2 ORDER BY seq DESC LIMIT 1`,
		atOrBelow, t.UnixNano()).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq.Int64, s.wrap("seq before", err)
}

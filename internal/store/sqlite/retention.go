package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// TrimAlerts implements store.Alerts. It deletes in transactions of at most trimBatch alerts,
// each recomputing the consumers' bound, so an alert sink's offset reset is honoured.
func (s *Store) TrimAlerts(ctx context.Context, storedBefore time.Time) (store.AlertTrimResult, error) {
	var res store.AlertTrimResult
	before := storedBefore.UnixNano()
	for more := true; more; {
		err := s.write(ctx, "trim alerts", func(tx *sql.Tx) error {
			bound, err := alertBound(ctx, tx)
			if err != nil {
				return err
			}
			n, err := execCount(ctx, tx, `DELETE FROM alerts WHERE seq IN (
				SELECT seq FROM alerts WHERE stored_at < $1 AND seq <= $2 LIMIT $3)`, before, bound, s.trimBatch)
			res.Removed += n
			more = n == s.trimBatch
			return err
		})
		if err != nil {
			return res, err
		}
	}
	bound, err := alertBound(ctx, s.r)
	if err == nil {
		err = s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM alerts WHERE stored_at < $1 AND seq > $2`, before, bound).Scan(&res.Waiting)
	}
	return res, s.wrap("trim alerts", err)
}

// alertBound returns the highest alert seq every alert consumer has committed (all of them when
// there is no consumer).
func alertBound(ctx context.Context, q querier) (int64, error) {
	var minOffset sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT MIN(offset_seq) FROM consumers WHERE stream = $1`,
		string(store.StreamAlerts)).Scan(&minOffset); err != nil {
		return 0, err
	}
	if !minOffset.Valid {
		return readSequence(ctx, q, store.StreamAlerts)
	}
	return minOffset.Int64, nil
}

// TrimDeadLetters implements store.DeadLetters, in transactions of at most trimBatch letters.
func (s *Store) TrimDeadLetters(ctx context.Context, failedBefore time.Time) (int64, error) {
	var removed int64
	for more := true; more; {
		err := s.write(ctx, "trim dead letters", func(tx *sql.Tx) error {
			n, err := execCount(ctx, tx, `DELETE FROM dead_letters WHERE id IN (
				SELECT id FROM dead_letters WHERE last_failure < $1 AND leased_until <= $2 LIMIT $3)`,
				failedBefore.UnixNano(), s.now().UnixNano(), s.trimBatch)
			removed += n
			more = n == s.trimBatch
			return err
		})
		if err != nil {
			return removed, err
		}
	}
	return removed, nil
}

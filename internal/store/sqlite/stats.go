package sqlite

import (
	"context"

	"github.com/idwatch/idwatch/internal/store"
)

// CountAlerts implements store.Stats.
func (s *Store) CountAlerts(ctx context.Context) ([]store.AlertCount, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT severity, rule_id, COUNT(*) FROM alerts GROUP BY severity, rule_id ORDER BY severity, rule_id`)
	if err != nil {
		return nil, s.wrap("count alerts", err)
	}
	defer rows.Close()
	var out []store.AlertCount
	for rows.Next() {
		var c store.AlertCount
		if err := rows.Scan(&c.Severity, &c.RuleID, &c.Count); err != nil {
			return nil, s.wrap("count alerts", err)
		}
		out = append(out, c)
	}
	return out, s.wrap("count alerts", rows.Err())
}

// CountDeadLetters implements store.Stats.
func (s *Store) CountDeadLetters(ctx context.Context) (map[string]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT sink, COUNT(*) FROM dead_letters GROUP BY sink`)
	if err != nil {
		return nil, s.wrap("count dead letters", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var sink string
		var n int64
		if err := rows.Scan(&sink, &n); err != nil {
			return nil, s.wrap("count dead letters", err)
		}
		out[sink] = n
	}
	return out, s.wrap("count dead letters", rows.Err())
}

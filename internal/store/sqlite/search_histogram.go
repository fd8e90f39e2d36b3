package sqlite

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// EventHistogram implements store.EventSearch. It counts through the same index postings the
// search walks, so a filter the search answers quickly is counted quickly too.
func (s *Store) EventHistogram(ctx context.Context, q store.EventQuery, buckets int) (store.EventHistogram, error) {
	const op = "event histogram"
	if q.Since.IsZero() || q.Until.IsZero() {
		return store.EventHistogram{}, s.wrap(op, fmt.Errorf("%w: a histogram needs since and until", store.ErrInvalid))
	}
	if buckets < 1 || buckets > store.MaxHistogramBuckets {
		return store.EventHistogram{}, s.wrap(op, fmt.Errorf("%w: buckets %d is outside 1..%d", store.ErrInvalid, buckets, store.MaxHistogramBuckets))
	}
	q.Cursor, q.Limit = "", 0
	p, err := s.planEvents(ctx, q)
	if err != nil {
		return store.EventHistogram{}, s.wrap(op, err)
	}
	width := max((p.until-p.since+int64(buckets)-1)/int64(buckets), 1)
	h := store.EventHistogram{Start: time.UnixMilli(p.since).UTC(), Width: time.Duration(width) * time.Millisecond,
		Counts: make([]int64, buckets), TextIgnored: q.Text != ""}
	if p.empty {
		return h, nil
	}
	args := append([]any{}, p.args...)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	var b strings.Builder
	// An event may hold several of the driving terms (an actor's id and login): count it once.
	b.WriteString(`SELECT (t.pub - ` + arg(p.since) + `) / ` + arg(width) + ` AS b, count(DISTINCT t.seq)
		FROM event_terms t JOIN event_index x ON x.seq = t.seq WHERE t.term IN `)
	args = inList(&b, args, p.drive)
	b.WriteString(` AND t.pub >= ` + arg(p.since) + ` AND t.pub < ` + arg(p.until) + p.where + ` GROUP BY b`)
	rows, err := s.r.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return h, s.wrap(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var i, n int64
		if err := rows.Scan(&i, &n); err != nil {
			return h, s.wrap(op, err)
		}
		if i >= 0 && i < int64(buckets) {
			h.Counts[i] += n
			h.Total += n
		}
	}
	return h, s.wrap(op, rows.Err())
}

package sqlite

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// cursorEvents is the PageCursor kind of event searches.
const cursorEvents = 'e'

// mergeLimit is the most terms a query drives as separate ordered range reads merged by SQLite;
// beyond it one read over all of them is sorted.
const mergeLimit = 32

// textBatch is how many candidates a free-text search reads at a time.
const textBatch = 512

// eventPlan is an event query resolved against the dictionaries.
type eventPlan struct {
	desc       bool
	drive      []int64 // the terms whose postings are walked
	where      string  // extra conditions on x (event_index) and t (the driving posting)
	args       []any
	since      int64
	until      int64
	empty      bool // a filter names nothing the index has seen: no event can match
	text       []byte
	fingerprnt uint64
}

// SearchEvents implements store.EventSearch.
func (s *Store) SearchEvents(ctx context.Context, q store.EventQuery) (store.EventPage, error) {
	const op = "search events"
	limit, err := pageLimit(q.Limit)
	if err != nil {
		return store.EventPage{}, s.wrap(op, err)
	}
	p, err := s.planEvents(ctx, q)
	if err != nil {
		return store.EventPage{}, s.wrap(op, err)
	}
	// The start is after every key in the query's order.
	after := [2]int64{math.MaxInt64, math.MaxInt64}
	if !p.desc {
		after = [2]int64{math.MinInt64, math.MinInt64}
	}
	if q.Cursor != "" {
		c, err := store.DecodePageCursor(q.Cursor, cursorEvents, p.fingerprnt)
		if err != nil {
			return store.EventPage{}, s.wrap(op, err)
		}
		after = [2]int64{c.Time, c.Seq}
	}
	page := store.EventPage{Events: []store.Entry{}}
	if p.empty {
		return page, nil
	}
	next := func(k [2]int64) string {
		return store.PageCursor{Kind: cursorEvents, Time: k[0], Seq: k[1], Query: p.fingerprnt}.Encode()
	}
	if len(p.text) == 0 {
		keys, err := s.eventKeys(ctx, p, after, limit+1)
		if err != nil {
			return page, s.wrap(op, err)
		}
		more := len(keys) > limit
		keys = keys[:min(len(keys), limit)]
		if page.Events, err = s.entriesBySeq(ctx, keys); err != nil {
			return page, s.wrap(op, err)
		}
		if more {
			page.Next = next(keys[len(keys)-1])
		}
		return page, nil
	}
	maxScan := q.MaxScan
	if maxScan <= 0 {
		maxScan = store.DefaultMaxScan
	}
	for {
		n := min(textBatch, maxScan-page.Scanned)
		keys, err := s.eventKeys(ctx, p, after, n)
		if err != nil {
			return page, s.wrap(op, err)
		}
		es, err := s.entriesBySeq(ctx, keys)
		if err != nil {
			return page, s.wrap(op, err)
		}
		for _, e := range es {
			if containsFold(e.Raw, p.text) {
				page.Events = append(page.Events, e)
				if len(page.Events) == limit {
					page.Scanned++
					page.Next = next([2]int64{pubMillis(e.Published), e.Seq})
					return page, nil
				}
			}
			page.Scanned++
		}
		if len(keys) > 0 {
			after = keys[len(keys)-1]
		}
		if len(keys) < n {
			return page, nil // the candidates ran out
		}
		if page.Scanned >= maxScan {
			page.Partial, page.Next = true, next(after)
			return page, nil
		}
	}
}

// pageLimit checks a page size (0: the default).
func pageLimit(n int) (int, error) {
	if n == 0 {
		return store.DefaultSearchLimit, nil
	}
	if n < 0 || n > store.MaxSearchLimit {
		return 0, fmt.Errorf("%w: limit %d is outside 1..%d", store.ErrInvalid, n, store.MaxSearchLimit)
	}
	return n, nil
}

// containsFold reports whether b contains the lower-case ASCII needle, ignoring ASCII case.
func containsFold(b, needle []byte) bool {
	if len(needle) == 0 {
		return true
	}
	first := needle[0]
	for i := 0; i+len(needle) <= len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != first {
			continue
		}
		j := 1
		for ; j < len(needle); j++ {
			d := b[i+j]
			if 'A' <= d && d <= 'Z' {
				d += 'a' - 'A'
			}
			if d != needle[j] {
				break
			}
		}
		if j == len(needle) {
			return true
		}
	}
	return false
}

// planEvents resolves q's strings to dictionary ids and chooses the postings to walk: the most
// selective kind of filter present (address, actor, target, type), else every event.
func (s *Store) planEvents(ctx context.Context, q store.EventQuery) (eventPlan, error) {
	p := eventPlan{desc: !q.Oldest, since: math.MinInt64, until: math.MaxInt64}
	fq := q
	fq.Cursor, fq.Limit, fq.MaxScan = "", 0, 0
	fq.Since, fq.Until = fq.Since.UTC(), fq.Until.UTC()
	if fq.Scope != "" {
		fq.EventTypes, fq.TypePrefixes = nil, nil
	}
	p.fingerprnt = store.QueryFingerprint(fq)
	if !q.Since.IsZero() {
		p.since = ceilMillis(q.Since)
	}
	if !q.Until.IsZero() {
		p.until = ceilMillis(q.Until)
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && p.until <= p.since {
		return p, fmt.Errorf("%w: until %s is not after since %s: swap them or widen the range", store.ErrInvalid,
			q.Until.UTC().Format(time.RFC3339Nano), q.Since.UTC().Format(time.RFC3339Nano))
	}
	if q.Text != "" {
		if len(q.Text) > 256 {
			return p, fmt.Errorf("%w: free text is %d bytes; search for at most 256", store.ErrInvalid, len(q.Text))
		}
		p.text = bytes.ToLower([]byte(q.Text))
	}
	type group struct {
		role  int64
		terms []int64
	}
	var groups []group
	var types []int64
	if len(q.EventTypes) > 0 || len(q.TypePrefixes) > 0 {
		var err error
		if types, err = s.typeIDs(ctx, q.EventTypes, q.TypePrefixes); err != nil {
			return p, err
		}
		if len(types) == 0 {
			p.empty = true
			return p, nil
		}
	}
	for _, f := range []struct {
		role  int64
		value string
		ip    bool
	}{{roleIP, q.IP, true}, {roleActor, q.Actor, false}, {roleTarget, q.Target, false}} {
		if f.value == "" {
			continue
		}
		ids, err := s.entityIDs(ctx, f.value, f.ip)
		if err != nil {
			return p, err
		}
		if len(ids) == 0 {
			p.empty = true
			return p, nil
		}
		groups = append(groups, group{f.role, ids})
	}
	if len(types) > 0 {
		groups = append(groups, group{roleType, types})
	}
	var b strings.Builder
	args := []any{}
	// The driving group is the first (most selective kind); the others filter.
	if len(groups) == 0 {
		p.drive = []int64{roleAll}
	} else {
		for _, id := range groups[0].terms {
			p.drive = append(p.drive, id*termRoles+groups[0].role)
		}
		for _, g := range groups[1:] {
			switch g.role {
			case roleIP:
				args = andIn(&b, args, "x.ip_id", g.terms)
			case roleActor:
				args = andIn(&b, args, "x.actor_id", g.terms)
			case roleType:
				args = andIn(&b, args, "x.type_id", g.terms)
			case roleTarget:
				terms := make([]int64, len(g.terms))
				for i, id := range g.terms {
					terms[i] = id*termRoles + roleTarget
				}
				b.WriteString(" AND EXISTS (SELECT 1 FROM event_terms o WHERE o.pub = t.pub AND o.seq = t.seq AND o.term IN ")
				args = inList(&b, args, terms)
				b.WriteString(")")
			}
		}
	}
	args = andIn(&b, args, "x.integration_id", q.Integrations)
	if len(q.Outcomes) > 0 {
		ids, err := s.nameIDs(ctx, nameOutcome, upper(q.Outcomes))
		if err != nil {
			return p, err
		}
		if len(ids) == 0 {
			p.empty = true
			return p, nil
		}
		args = andIn(&b, args, "x.outcome_id", ids)
	}
	p.where, p.args = b.String(), args
	return p, nil
}

func upper(vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strings.ToUpper(v)
	}
	return out
}

// ceilMillis rounds t up to the millisecond, the index's resolution.
func ceilMillis(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Sub(time.UnixMilli(ms)) > 0 {
		ms++
	}
	return ms
}

// typeIDs resolves exact types and prefixes to search_names ids.
func (s *Store) typeIDs(ctx context.Context, exact, prefixes []string) ([]int64, error) {
	ids, err := s.nameIDs(ctx, nameType, exact)
	if err != nil {
		return nil, err
	}
	for _, pre := range prefixes {
		rows, err := s.r.QueryContext(ctx, `SELECT id FROM search_names WHERE kind = $1 AND substr(name, 1, $2) = $3`,
			nameType, len(pre), pre)
		if err != nil {
			return nil, err
		}
		more, err := scanIDs(rows)
		if err != nil {
			return nil, err
		}
		ids = append(ids, more...)
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// nameIDs resolves names of a kind to ids; unknown names resolve to nothing.
func (s *Store) nameIDs(ctx context.Context, kind int, names []string) ([]int64, error) {
	if len(names) == 0 {
		return nil, nil
	}
	var b strings.Builder
	b.WriteString(`SELECT id FROM search_names WHERE kind = $1 AND name IN `)
	args := inList(&b, []any{kind}, names)
	rows, err := s.r.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, err
	}
	return scanIDs(rows)
}

// entityIDs resolves an actor or target (Okta id or alternateId) or a client address to entity
// ids.
func (s *Store) entityIDs(ctx context.Context, v string, ip bool) ([]int64, error) {
	q := `SELECT id FROM search_entities WHERE okta_id = $1 OR alt_id = $1`
	if ip {
		q = `SELECT id FROM search_entities WHERE okta_id = $1 AND alt_id = ''`
	}
	rows, err := s.r.QueryContext(ctx, q, v)
	if err != nil {
		return nil, err
	}
	return scanIDs(rows)
}

func scanIDs(rows interface {
	Next() bool
	Scan(...any) error
	Err() error
	Close() error
}) ([]int64, error) {
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// eventKeys returns up to n (pub, seq) keys of matching events after the key `after` in the
// plan's order.
func (s *Store) eventKeys(ctx context.Context, p eventPlan, after [2]int64, n int) ([][2]int64, error) {
	cmpOp, dir := ">", "ASC"
	if p.desc {
		cmpOp, dir = "<", "DESC"
	}
	args := slices.Clone(p.args)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	common := `(t.pub, t.seq) ` + cmpOp + ` (` + arg(after[0]) + `, ` + arg(after[1]) + `)`
	if p.since != math.MinInt64 {
		common += ` AND t.pub >= ` + arg(p.since)
	}
	if p.until != math.MaxInt64 {
		common += ` AND t.pub < ` + arg(p.until)
	}
	limit := arg(n)
	order := ` ORDER BY pub ` + dir + `, seq ` + dir + ` LIMIT ` + limit
	one := func(termCond string) string {
		return `SELECT t.pub AS pub, t.seq AS seq FROM event_terms t JOIN event_index x ON x.seq = t.seq
			WHERE ` + termCond + ` AND ` + common + p.where + ` ORDER BY t.pub ` + dir + `, t.seq ` + dir + ` LIMIT ` + limit
	}
	var q string
	switch {
	case len(p.drive) == 1:
		q = one(`t.term = ` + arg(p.drive[0]))
	case len(p.drive) <= mergeLimit:
		parts := make([]string, len(p.drive))
		for i, term := range p.drive {
			parts[i] = `SELECT * FROM (` + one(`t.term = `+arg(term)) + `)`
		}
		q = `SELECT pub, seq FROM (` + strings.Join(parts, " UNION ALL ") + `)` + order
	default:
		var b strings.Builder
		b.WriteString("t.term IN ")
		args = inList(&b, args, p.drive)
		q = one(b.String())
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([][2]int64, 0, n)
	for rows.Next() {
		var k [2]int64
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// entriesBySeq reads the journal entries of keys, in the keys' order. An entry trimmed since its
// key was read is left out.
func (s *Store) entriesBySeq(ctx context.Context, keys [][2]int64) ([]store.Entry, error) {
	out := make([]store.Entry, 0, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	var b strings.Builder
	b.WriteString(`SELECT ` + entryColumns + ` FROM journal WHERE seq IN `)
	seqs := make([]int64, len(keys))
	for i, k := range keys {
		seqs[i] = k[1]
	}
	args := inList(&b, nil, seqs)
	rows, err := s.r.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, err
	}
	es, err := s.scanEntries(ctx, rows, len(keys), func(e error) error { return e })
	if err != nil {
		return nil, err
	}
	bySeq := make(map[int64]int, len(es))
	for i, e := range es {
		bySeq[e.Seq] = i
	}
	for _, seq := range seqs {
		if i, ok := bySeq[seq]; ok {
			out = append(out, es[i])
		}
	}
	return out, nil
}

// IndexedEventTypes implements store.EventSearch.
func (s *Store) IndexedEventTypes(ctx context.Context) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name FROM search_names WHERE kind = $1 ORDER BY name`, nameType)
	if err != nil {
		return nil, s.wrap("event types", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, s.wrap("event types", err)
		}
		out = append(out, n)
	}
	return out, s.wrap("event types", rows.Err())
}

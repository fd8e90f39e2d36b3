package oktasim

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// System Log limits Okta documents.
const (
	logsDefaultLimit = 100
	logsMaxLimit     = 1000
	logsRetention    = 90 * 24 * time.Hour
	logsMaxSinceAge  = 180 * 24 * time.Hour
	logsDefaultSpan  = 7 * 24 * time.Hour
)

// logsQuery is a validated GET /api/v1/logs request.
type logsQuery struct {
	polling  bool  // no until and ascending: persistence order, endless
	desc     bool  // bounded and descending
	since    int64 // unix nanos; persistence time when polling, published when bounded
	until    int64 // unix nanos, exclusive; bounded only
	after    *logCursor
	filter   *Filter
	keywords []string
	limit    int
	cutoff   int64 // nothing published before this is returned (retention)
}

// parseLogsQuery validates the parameters in the order Okta reports problems.
func parseLogsQuery(v url.Values, now time.Time) (*logsQuery, *APIError) {
	q := &logsQuery{limit: logsDefaultLimit, cutoff: now.Add(-logsRetention).UnixNano()}
	for name, vals := range v {
		if len(vals) > 1 {
			return nil, errValidation(name, "the parameter may be given only once")
		}
	}
	if s, ok := v["limit"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(s[0]))
		if err != nil || n < 0 || n > logsMaxLimit {
			return nil, errValidation("limit", fmt.Sprintf("must be an integer from 0 to %d, got %q", logsMaxLimit, s[0]))
		}
		q.limit = n
	}
	switch so := v.Get("sortOrder"); so {
	case "", "ASCENDING":
	case "DESCENDING":
		q.desc = true
	default:
		return nil, errValidation("sortOrder", fmt.Sprintf("must be ASCENDING or DESCENDING, got %q", so))
	}
	since, hasSince, apiErr := parseLogTime(v, "since")
	if apiErr != nil {
		return nil, apiErr
	}
	until, hasUntil, apiErr := parseLogTime(v, "until")
	if apiErr != nil {
		return nil, apiErr
	}
	if _, ok := v["after"]; ok {
		// since may come with after (Okta's next links carry both, and Okta's Go SDK merges the
		// first request's query into every next link); the cursor decides where the page starts.
		c, err := decodeCursor(v.Get("after"))
		if err != nil {
			return nil, errValidation("after", err.Error())
		}
		q.after = &c
	}
	// The 180-day limit applies to where a query starts; with a cursor, since is only carried
	// along, and a poll that follows its next links for months must not break on it.
	if hasSince && q.after == nil && now.Sub(since) > logsMaxSinceAge {
		return nil, errInvalidSCIM("Invalid parameter: The since parameter is over 180 days prior to the current day.")
	}
	q.polling = !hasUntil && !q.desc
	if !hasUntil {
		until = now
	}
	if !hasSince {
		since = until.Add(-logsDefaultSpan)
	}
	if hasSince && hasUntil && since.After(until) && q.after == nil {
		return nil, errValidation("since", "since must not be after until")
	}
	q.since, q.until = since.UnixNano(), until.UnixNano()
	if q.after != nil {
		if q.after.bounded == q.polling || q.after.bounded && q.after.desc != q.desc {
			return nil, errValidation("after", errBadCursor.Error())
		}
		if q.after.bounded {
			q.since = q.after.since
		}
	}
	if f := v.Get("filter"); f != "" {
		flt, err := ParseFilter(f)
		if err != nil {
			return nil, errInvalidSCIM("Invalid filter: " + err.Error())
		}
		if apiErr := checkLogFilter(flt); apiErr != nil {
			return nil, apiErr
		}
		q.filter = flt
	}
	if s := v.Get("q"); s != "" {
		if q.keywords, apiErr = parseKeywords(s); apiErr != nil {
			return nil, apiErr
		}
	}
	return q, nil
}

// parseLogTime reads an ISO 8601 timestamp parameter.
func parseLogTime(v url.Values, name string) (time.Time, bool, *APIError) {
	s, ok := v[name]
	if !ok {
		return time.Time{}, false, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s[0]); err == nil {
			return t, true, nil
		}
	}
	e := newAPIError(http.StatusBadRequest, "E0000001", "Api validation failed: '"+name+"': The date format must be ISO 8601, e.g. 2017-05-03T16:22:18Z",
		"'"+name+"': cannot parse "+strconv.Quote(s[0])+" as an ISO 8601 timestamp")
	return time.Time{}, false, e
}

// logsPage is one page of results.
type logsPage struct {
	body  bytes.Buffer
	n     int
	next  *logCursor // nil: no next link (end of a bounded result)
	empty bool       // polling and nothing new: next equals self
}

// query runs q against the persisted events.
func (s *logStore) query(q *logsQuery) (*logsPage, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := &logsPage{}
	p.body.Grow(min(q.limit, 256)*1024 + 2)
	p.body.WriteByte('[')
	var err error
	if q.polling {
		err = s.pollLocked(q, p)
	} else {
		err = s.boundedLocked(q, p)
	}
	p.body.WriteByte(']')
	return p, err
}

// matchLocked reports whether the event seq passes the filter and keywords.
func (s *logStore) matchLocked(q *logsQuery, seq uint32) (bool, error) {
	if q.filter == nil && q.keywords == nil {
		return true, nil
	}
	ev := &lazyEvent{store: s, seq: seq, meta: &s.metas[seq]}
	if q.filter != nil && !q.filter.Match(ev) {
		return false, ev.err
	}
	if q.keywords != nil {
		if err := ev.load(); err != nil {
			return false, err
		}
		return matchKeywords(ev.doc, q.keywords), nil
	}
	return ev.err == nil, ev.err
}

func (s *logStore) emitLocked(p *logsPage, seq uint32) error {
	raw, err := s.rawLocked(seq)
	if err != nil {
		return err
	}
	if p.n > 0 {
		p.body.WriteByte(',')
	}
	p.body.Write(raw)
	p.n++
	return nil
}

// pollLocked reads in persistence order from the cursor (or the first event persisted at or after
// since) and always yields a next cursor.
func (s *logStore) pollLocked(q *logsQuery, p *logsPage) error {
	n := s.countLocked()
	var seq uint32
	if q.after != nil {
		if q.after.seq > n {
			return errBadCursor
		}
		seq = q.after.seq
	} else {
		seq = uint32(sort.Search(int(n), func(i int) bool { return s.metas[i].persisted >= q.since }))
	}
	start := seq
	for ; seq < n && p.n < q.limit; seq++ {
		if s.metas[seq].published < q.cutoff {
			continue
		}
		ok, err := s.matchLocked(q, seq)
		if err != nil {
			return err
		}
		if ok {
			if err := s.emitLocked(p, seq); err != nil {
				return err
			}
		}
	}
	p.next = &logCursor{seq: seq}
	p.empty = seq == start && q.after != nil
	return nil
}

// boundedLocked reads in published order inside [since, until) and ends when the window is done.
func (s *logStore) boundedLocked(q *logsQuery, p *logsPage) error {
	key := func(i int) (int64, uint32) {
		seq := s.byPublished[i]
		return s.metas[seq].published, seq
	}
	total := len(s.byPublished)
	lo := sort.Search(total, func(i int) bool { pub, _ := key(i); return pub >= max(q.since, q.cutoff) })
	hi := sort.Search(total, func(i int) bool { pub, _ := key(i); return pub >= q.until })
	if c := q.after; c != nil {
		after := func(i int) bool { // key(i) > cursor key
			pub, seq := key(i)
			return pub > c.published || pub == c.published && seq > c.seq
		}
		if c.desc {
			hi = min(hi, sort.Search(total, func(i int) bool {
				pub, seq := key(i)
				return pub > c.published || pub == c.published && seq >= c.seq
			}))
		} else {
			lo = max(lo, sort.Search(total, after))
		}
	}
	idx, step, end := lo, 1, hi
	if q.desc {
		idx, step, end = hi-1, -1, lo-1
	}
	var last int = -1
	for ; step > 0 && idx < end || step < 0 && idx > end; idx += step {
		seq := s.byPublished[idx]
		ok, err := s.matchLocked(q, seq)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if p.n == q.limit {
			// Another match exists past a full page: there is a next page.
			pub, lseq := q.since, uint32(0)
			if last >= 0 {
				pub, lseq = key(last)
			} else if q.after != nil { // limit=0: stay where we are
				pub, lseq = q.after.published, q.after.seq
			} else if q.desc {
				pub, lseq = q.until-1, ^uint32(0)
			} else {
				pub, lseq = q.since-1, ^uint32(0)
			}
			p.next = &logCursor{bounded: true, seq: lseq, published: pub, since: q.since, desc: q.desc}
			return nil
		}
		if err := s.emitLocked(p, seq); err != nil {
			return err
		}
		last = idx
	}
	return nil
}

// handleLogs serves GET /api/v1/logs.
func (s *Server) handleLogs(w http.ResponseWriter, r *http.Request) {
	now := s.clock.Now()
	q, apiErr := parseLogsQuery(r.URL.Query(), now)
	if apiErr != nil {
		writeAPIError(w, apiErr)
		return
	}
	s.logs.promote(now.UnixNano())
	page, err := s.logs.query(q)
	if err != nil {
		if errors.Is(err, errBadCursor) {
			writeAPIError(w, errValidation("after", err.Error()))
			return
		}
		s.log.Error("system log query failed", "err", err)
		writeAPIError(w, errInternal())
		return
	}
	self := s.baseURL(r) + r.URL.Path
	if r.URL.RawQuery != "" {
		self += "?" + r.URL.RawQuery
	}
	h := w.Header()
	h.Add("Link", "<"+self+`>; rel="self"`)
	if page.next != nil {
		next := self
		if !page.empty {
			v := r.URL.Query() // every original parameter stays, since included, as Okta's next links show
			v.Set("after", page.next.encode())
			next = s.baseURL(r) + r.URL.Path + "?" + v.Encode()
		}
		h.Add("Link", "<"+next+`>; rel="next"`)
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(page.body.Bytes())
}

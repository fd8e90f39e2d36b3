package okta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Page is one page of a listing that Okta returns as a JSON array with Link headers.
type Page struct {
	// Items are the array's elements, each a complete JSON object, in server order.
	Items []json.RawMessage
	// Next is the absolute rel="next" URL, already checked to stay on the org's origin; empty when
	// the listing has ended. The System Log in polling mode always has one.
	Next string
	// Self is the rel="self" URL as sent.
	Self string
	// NextIsSelf is true when Next repeats Self: Okta's sign that a polling stream is caught up.
	NextIsSelf bool
	// RequestID is the response's X-Okta-Request-Id.
	RequestID string
}

// ErrMalformedPage matches (errors.Is) every *MalformedPageError.
var ErrMalformedPage = errors.New("okta: malformed page")

// MalformedPageError reports a listing response that is not a complete JSON array of objects:
// a truncated or corrupt body. The page is discarded whole; nothing in it may be treated as read.
type MalformedPageError struct {
	Path   string
	Bytes  int
	Reason string
}

// Error says the page was discarded and will be fetched again.
func (e *MalformedPageError) Error() string {
	return fmt.Sprintf("okta GET %s: malformed page (%d bytes: %s); the page was discarded and the cursor not advanced, so it is fetched again", e.Path, e.Bytes, e.Reason)
}

// Is matches ErrMalformedPage.
func (e *MalformedPageError) Is(target error) bool { return target == ErrMalformedPage }

// decodeArray strictly decodes a JSON array of objects. Anything else — null, an object, a
// truncated array, trailing bytes, a non-object element — is an error. The items are sub-slices
// of body: validation is one pass of json.Valid, then the top level is split without copying.
func decodeArray(path string, body []byte) ([]json.RawMessage, error) {
	bad := func(reason string) error { return &MalformedPageError{Path: path, Bytes: len(body), Reason: reason} }
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, bad("empty body")
	}
	if trimmed[0] != '[' {
		return nil, bad("not a JSON array")
	}
	if !json.Valid(trimmed) {
		var v any
		if err := json.Unmarshal(trimmed, &v); err != nil {
			return nil, bad(clean(err.Error(), 200))
		}
		return nil, bad("invalid JSON")
	}
	if !utf8.Valid(trimmed) {
		return nil, bad("invalid UTF-8")
	}
	var items []json.RawMessage
	i := skipSpace(trimmed, 1)
	for trimmed[i] != ']' {
		if trimmed[i] != '{' {
			return nil, bad("element " + strconv.Itoa(len(items)) + " is not an object")
		}
		end := valueEnd(trimmed, i)
		items = append(items, json.RawMessage(trimmed[i:end:end]))
		i = skipSpace(trimmed, end)
		if trimmed[i] == ',' {
			i = skipSpace(trimmed, i+1)
		}
	}
	return items, nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// valueEnd returns the index just past the object or array starting at b[i]; b is valid JSON.
func valueEnd(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return i
}

// GetPage fetches one page of any Okta listing at rawURL (an org path or a Link next URL), in the
// inventory lane unless the context says otherwise. URLs off the org's origin are refused.
func (c *Client) GetPage(ctx context.Context, rawURL string) (*Page, error) {
	u, err := c.org.Resolve(rawURL)
	if err != nil {
		return nil, err
	}
	return c.getPage(ctx, u, LaneInventory)
}

func (c *Client) getPage(ctx context.Context, u *url.URL, lane Lane) (*Page, error) {
	res, err := c.do(ctx, &call{method: http.MethodGet, url: u, lane: lane, idempotent: true})
	if err != nil {
		return nil, err
	}
	items, err := decodeArray(u.Path, res.body)
	if err != nil {
		return nil, err
	}
	p := &Page{Items: items, RequestID: res.header.Get("X-Okta-Request-Id")}
	links := ParseLinks(res.header)
	p.Self, _ = links.Rel("self")
	if next, ok := links.Rel("next"); ok {
		nu, err := c.org.Resolve(next)
		if err != nil {
			return nil, &NextLinkError{Path: u.Path, Err: err}
		}
		p.Next = nu.String()
		if p.Self != "" {
			if su, err := c.org.Resolve(p.Self); err == nil {
				p.NextIsSelf = sameURL(su, nu)
			}
		}
	}
	return p, nil
}

// sameURL compares two resolved URLs, ignoring the order of query parameters.
func sameURL(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && strings.EqualFold(a.Host, b.Host) && a.EscapedPath() == b.EscapedPath() && a.Query().Encode() == b.Query().Encode()
}

// Paginate walks a finite listing from path with query, calling fn per page until the last page
// (no next link). A next link that repeats one already fetched ends the walk instead of looping.
func (c *Client) Paginate(ctx context.Context, path string, query url.Values, fn func(*Page) error) error {
	u := c.org.URL(path, query)
	seen := map[string]bool{}
	for {
		p, err := c.getPage(ctx, u, LaneInventory)
		if err != nil {
			return err
		}
		seen[u.String()] = true
		if err := fn(p); err != nil {
			return err
		}
		if p.Next == "" || p.NextIsSelf || seen[p.Next] {
			return nil
		}
		if u, err = url.Parse(p.Next); err != nil {
			return err
		}
	}
}

// LogsQuery starts a System Log read. Polling (the collector) leaves Until zero and sorts
// ascending; a bounded read (backfill) sets both Since and Until.
type LogsQuery struct {
	Since time.Time
	Until time.Time
	// Limit is the page size, 1–1000 (default 1000).
	Limit int
	// Filter is a SCIM filter expression; Q keywords (at most 10, each at most 40 characters).
	Filter string
	Q      string
	// Descending sorts newest first; it makes the read bounded rather than polling.
	Descending bool
}

// Validate checks the query against Okta's documented limits.
func (q LogsQuery) Validate() error {
	if q.Limit < 0 || q.Limit > 1000 {
		return fmt.Errorf("logs query: limit %d must be between 1 and 1000", q.Limit)
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		return errors.New("logs query: until must be after since")
	}
	words := strings.Fields(q.Q)
	if len(words) > 10 {
		return errors.New("logs query: at most 10 keywords in q")
	}
	for _, w := range words {
		if len(w) > 40 {
			return fmt.Errorf("logs query: keyword %q is longer than 40 characters", truncate(w, 50))
		}
	}
	return nil
}

// logsTime is the timestamp format Okta documents for since/until.
const logsTime = "2006-01-02T15:04:05.000Z"

// LogsURL builds the first System Log URL for q. Every later page must come from Page.Next.
func (c *Client) LogsURL(q LogsQuery) (string, error) {
	if err := q.Validate(); err != nil {
		return "", err
	}
	v := url.Values{}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(logsTime))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(logsTime))
	}
	limit := q.Limit
	if limit == 0 {
		limit = 1000
	}
	v.Set("limit", strconv.Itoa(limit))
	if q.Filter != "" {
		v.Set("filter", q.Filter)
	}
	if q.Q != "" {
		v.Set("q", q.Q)
	}
	if q.Descending {
		v.Set("sortOrder", "DESCENDING")
	} else {
		v.Set("sortOrder", "ASCENDING")
	}
	return c.org.URL("/api/v1/logs", v).String(), nil
}

// Logs fetches one System Log page at cursor: a URL from LogsURL or a previous page's Next
// (typically persisted). The cursor must stay on the org's origin and point at /api/v1/logs.
// Events are returned raw, in server order; a truncated or malformed body is an error wrapping
// ErrMalformedPage, never a partial page.
func (c *Client) Logs(ctx context.Context, cursor string) (*Page, error) {
	u, err := c.org.Resolve(cursor)
	if err != nil {
		return nil, err
	}
	if u.Path != "/api/v1/logs" {
		return nil, fmt.Errorf("logs cursor points at %q, not /api/v1/logs; start again from LogsURL", truncate(u.Path, 100))
	}
	p, err := c.getPage(ctx, u, LaneLogs)
	if err != nil {
		return nil, err
	}
	if p.Next != "" {
		// Stored as the cursor, a next link elsewhere than the System Log could not be polled.
		nu, err := url.Parse(p.Next)
		if err != nil {
			return nil, &NextLinkError{Path: u.Path, Err: err}
		}
		if nu.Path != "/api/v1/logs" {
			return nil, &NextLinkError{Path: u.Path, Err: fmt.Errorf("it points at %q, not /api/v1/logs", truncate(nu.Path, 100))}
		}
	}
	return p, nil
}

// NextLinkError reports an answer whose rel="next" link cannot be followed: it leaves the org's
// origin (Err is then an *OriginError), is not a URL, or points elsewhere than the listing. The
// page is discarded and nothing is sent to the link; the fault lies with the server's answer or a
// proxy rewriting it, not with the request.
type NextLinkError struct {
	// Path is the path of the request whose answer carried the link.
	Path string
	Err  error
}

// Error says which answer carried the refused link and why.
func (e *NextLinkError) Error() string {
	return fmt.Sprintf("okta GET %s: the answer's next link was refused: %v", e.Path, e.Err)
}

// Unwrap returns the reason the link was refused.
func (e *NextLinkError) Unwrap() error { return e.Err }

package collect

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/store"
)

// LogSource is the part of *okta.Client the collector reads the System Log with.
type LogSource interface {
	// LogsURL builds the first URL of a System Log read.
	LogsURL(q okta.LogsQuery) (string, error)
	// Logs fetches the page at a URL from LogsURL or a previous page's Next.
	Logs(ctx context.Context, cursor string) (*okta.Page, error)
}

// JournalWriter is the part of the store the poller writes to.
type JournalWriter interface {
	AppendPage(ctx context.Context, integrationID int64, events []store.Event, cursor *store.Cursor) (store.AppendResult, error)
	Cursor(ctx context.Context, integrationID int64) (store.Cursor, error)
	SetCursor(ctx context.Context, integrationID int64, c store.Cursor) error
}

// Poller collects one integration's System Log with Okta's polling cursor. Each page and the
// cursor that follows it are stored in one transaction, so a crash at any point resumes exactly
// where the journal ends.
type Poller struct {
	id     int64
	src    LogSource
	store  JournalWriter
	cfg    Config
	health *Tracker
	log    *slog.Logger

	failures int
	// restarts counts cursor restarts since the last stored page: a restarted cursor refused
	// again is retried with backoff, not at once.
	restarts int
}

// NewPoller returns a poller for integrationID. health may be nil (no health reporting).
func NewPoller(integrationID int64, src LogSource, st JournalWriter, health *Tracker, cfg Config) (*Poller, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if src == nil || st == nil {
		return nil, errors.New("collect: poller needs a log source and a journal")
	}
	cfg = cfg.withDefaults()
	if health == nil {
		health = NewTracker(integrationID, nil, cfg.Clock, cfg.Logger)
	}
	return &Poller{id: integrationID, src: src, store: st, cfg: cfg, health: health,
		log: cfg.Logger.With("integration", integrationID)}, nil
}

// Run polls until ctx ends: pages are fetched back to back while they come full, then the poller
// waits one poll interval. Failures are retried with backoff and reported in the health record;
// Run returns only ctx's error.
func (p *Poller) Run(ctx context.Context) error {
	for {
		caughtUp, err := p.Step(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait := time.Duration(0)
		switch {
		case err != nil:
			wait = p.failed(err)
		case caughtUp:
			wait = p.cfg.PollInterval
		}
		if err := clock.Sleep(ctx, p.cfg.Clock, wait); err != nil {
			return err
		}
	}
}

// CatchUp polls until a page shows the stream is caught up. Failures that clear by themselves
// (Okta outages, rate limits, malformed pages, network trouble) are retried with backoff up to
// maxRetries times in a row; any other failure, or one retry too many, is returned after it is
// recorded in the health record.
func (p *Poller) CatchUp(ctx context.Context, maxRetries int) error {
	retries := 0
	for {
		caughtUp, err := p.Step(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			wait := p.failed(err)
			if state, _, _ := Explain(err); state != store.HealthDegraded || retries >= maxRetries {
				return err
			}
			retries++
			if err := clock.Sleep(ctx, p.cfg.Clock, wait); err != nil {
				return err
			}
			continue
		}
		retries = 0
		if caughtUp {
			return nil
		}
	}
}

// Health returns the poller's health tracker.
func (p *Poller) Health() *Tracker { return p.health }

// Step fetches and stores one page. caughtUp is true when the page was shorter than the limit,
// empty, or its next link repeats itself: the stream has nothing more right now.
func (p *Poller) Step(ctx context.Context) (caughtUp bool, err error) {
	cur, err := p.cursor(ctx)
	if err != nil {
		return false, err
	}
	if !isLogsURL(cur.Next) {
		return false, p.restart(ctx, cur, errNotLogsCursor)
	}
	p.health.request()
	page, err := p.src.Logs(ctx, cur.Next)
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		var nextErr *okta.NextLinkError
		if errors.As(err, &nextErr) {
			return false, p.refuseNext(ctx, cur, err)
		}
		if cursorRejected(err) {
			return false, p.restart(ctx, cur, err)
		}
		return false, err
	}
	events, newest, bad := decodeEvents(page.Items)
	if bad > 0 {
		p.log.Warn("System Log events without uuid or published time; stored under a content hash", "count", bad)
	}
	next := store.Cursor{Next: page.Next, LastPublished: cur.LastPublished}
	if newest.After(next.LastPublished) {
		next.LastPublished = newest
	}
	if next.Next == "" {
		// A polling read always has a next link; without one, resume by time next round.
		u, err := p.sinceURL(next.LastPublished)
		if err != nil {
			return false, err
		}
		next.Next = u
	}
	res, err := p.store.AppendPage(ctx, p.id, events, &next)
	if err != nil {
		return false, fmt.Errorf("%w: store page: %w", errStore, err)
	}
	caughtUp = len(page.Items) < p.cfg.PageLimit || page.NextIsSelf || page.Next == ""
	p.failures, p.restarts = 0, 0
	p.health.collected(res.Inserted, newest, caughtUp)
	return caughtUp, nil
}

// cursor returns the stored cursor, or a new one starting Lookback ago.
func (p *Poller) cursor(ctx context.Context) (store.Cursor, error) {
	cur, err := p.store.Cursor(ctx, p.id)
	if err == nil && cur.Next != "" {
		return cur, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Cursor{}, fmt.Errorf("read cursor: %w", err)
	}
	u, err := p.src.LogsURL(okta.LogsQuery{Since: p.cfg.Clock.Now().Add(-p.cfg.Lookback), Limit: p.cfg.PageLimit})
	if err != nil {
		return store.Cursor{}, err
	}
	return store.Cursor{Next: u, LastPublished: cur.LastPublished}, nil
}

// sinceURL is where polling restarts when the cursor is unusable: Overlap before the last
// published time seen (or Lookback ago when nothing was ever seen), never past Okta's retention.
func (p *Poller) sinceURL(lastPublished time.Time) (string, error) {
	now := p.cfg.Clock.Now()
	since := now.Add(-p.cfg.Lookback)
	if !lastPublished.IsZero() {
		since = lastPublished.Add(-p.cfg.Overlap)
	}
	if oldest := now.Add(-MaxLookback + time.Minute); since.Before(oldest) {
		since = oldest
	}
	return p.src.LogsURL(okta.LogsQuery{Since: since, Limit: p.cfg.PageLimit})
}

// restart replaces a cursor Okta refused (or one that no longer fits the org) with a since-based
// one, so the next step re-reads the overlap and deduplication drops what was already stored.
func (p *Poller) restart(ctx context.Context, cur store.Cursor, cause error) error {
	u, err := p.sinceURL(cur.LastPublished)
	if err != nil {
		return err
	}
	if err := p.store.SetCursor(ctx, p.id, store.Cursor{Next: u, LastPublished: cur.LastPublished}); err != nil {
		return fmt.Errorf("reset cursor: %w", err)
	}
	p.log.Warn("stored System Log cursor refused; restarting from the last published time minus the overlap",
		"overlap", p.cfg.Overlap, "error", cause)
	p.restarts++
	if p.restarts > 1 {
		// The restarted cursor was refused too: back off instead of asking again at once.
		return fmt.Errorf("the cursor was refused again after a restart from the last collected event: %w", cause)
	}
	p.health.note(fmt.Sprintf("the stored cursor was refused (%v); polling restarted %s before the last collected event", cause, p.cfg.Overlap))
	return nil
}

// refuseNext handles an answer whose next link can't be followed (another origin, not a URL, not
// the System Log): the page is dropped, nothing is sent to the link, and polling falls back to
// the last published time like a refused cursor. The error is returned so that the caller backs
// off before asking again, since the same query is likely to get the same answer.
func (p *Poller) refuseNext(ctx context.Context, cur store.Cursor, cause error) error {
	u, err := p.sinceURL(cur.LastPublished)
	if err != nil {
		return err
	}
	if u != cur.Next {
		if err := p.store.SetCursor(ctx, p.id, store.Cursor{Next: u, LastPublished: cur.LastPublished}); err != nil {
			return fmt.Errorf("reset cursor: %w", err)
		}
	}
	return cause
}

// failed records a failure in the health record and returns how long to wait before retrying.
func (p *Poller) failed(err error) time.Duration {
	p.failures++
	wait := p.cfg.RetryBackoff << min(p.failures-1, 16)
	if wait > p.cfg.MaxBackoff || wait <= 0 {
		wait = p.cfg.MaxBackoff
	}
	var apiErr *okta.APIError
	if errors.As(err, &apiErr) && apiErr.Kind == okta.KindRateLimited && !apiErr.RetryAt.IsZero() {
		if d := apiErr.RetryAt.Sub(p.cfg.Clock.Now()); d > 0 {
			wait = d
		}
	}
	p.log.Warn("poll failed", "error", err, "retry_in", wait)
	p.health.failed(err, wait)
	return wait
}

// cursorRejected reports whether err means the stored next link can't be used again: Okta refused
// its parameters, or it no longer points at this org's System Log.
func cursorRejected(err error) bool {
	var apiErr *okta.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Kind == okta.KindValidation || apiErr.Kind == okta.KindNotFound
	}
	var originErr *okta.OriginError
	return errors.As(err, &originErr) || errors.Is(err, errNotLogsCursor)
}

// errNotLogsCursor marks a stored cursor that does not point at /api/v1/logs.
var errNotLogsCursor = errors.New("cursor is not a System Log URL")

// eventKeys are the fields of a LogEvent the journal indexes.
type eventKeys struct {
	UUID      any `json:"uuid"`
	Published any `json:"published"`
	EventType any `json:"eventType"`
}

// decodeEvents turns a page's raw items into journal events and returns the newest published time.
// Okta always sends a uuid; an item without a usable one is kept under a hash of its content, so it
// is stored once however often it is read, and counted in bad, as is an unreadable published time.
func decodeEvents(items []json.RawMessage) (events []store.Event, newest time.Time, bad int) {
	events = make([]store.Event, 0, len(items))
	for _, raw := range items {
		var k eventKeys
		_ = json.Unmarshal(raw, &k) // the client already checked each item is a JSON object
		ev := store.Event{Raw: raw}
		ev.UUID, _ = k.UUID.(string)
		ev.EventType, _ = k.EventType.(string)
		t, err := event.ParseTimeValue(k.Published)
		if ev.UUID == "" || err != nil {
			bad++
		}
		if ev.UUID == "" {
			ev.UUID = contentID(raw)
		}
		if err == nil {
			ev.Published = t
			if t.After(newest) {
				newest = t
			}
		}
		events = append(events, ev)
	}
	return events, newest, bad
}

// contentID names an event that lacks a uuid by its content.
func contentID(raw []byte) string {
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// isLogsURL reports whether a stored cursor is an absolute System Log URL.
func isLogsURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.IsAbs() && u.Path == "/api/v1/logs"
}

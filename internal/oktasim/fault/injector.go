package fault

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
)

// Clock tells the injector what time it is.
type Clock interface{ Now() time.Time }

// RevokeRequest asks the server to revoke a credential.
type RevokeRequest struct {
	// Target is "token", "key" or "app".
	Target   string
	ClientID string
	KeyID    string
	// Request is the request that triggered the fault; a token revocation without ClientID
	// revokes the token it presents.
	Request *http.Request
}

// Config wires the injector to the server.
type Config struct {
	// Clock is the real clock rules are timed by; nil means the system clock.
	Clock Clock
	// Revoke performs KindRevoke faults; nil makes such rules invalid.
	Revoke func(RevokeRequest) error
	// RotateNonce performs KindNonceRotate faults; nil makes such rules invalid.
	RotateNonce func(invalidate bool)
	// ControlPrefix is where the control API is mounted (default "/_sim/faults"); requests
	// under it are never faulted, so faults can always be cleared.
	ControlPrefix string
	// After waits for a slow fault's delay; nil means time.After. Tests inject it.
	After func(time.Duration) <-chan time.Time
	// Logger receives one line per injected fault; nil discards.
	Logger *slog.Logger
}

// Injector holds the active rules and applies them. It is safe for concurrent use.
type Injector struct {
	cfg   Config
	mu    sync.Mutex
	rules []*Rule
	seq   int
}

// New builds an Injector.
func New(cfg Config) *Injector {
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	if cfg.ControlPrefix == "" {
		cfg.ControlPrefix = "/_sim/faults"
	}
	if cfg.After == nil {
		cfg.After = time.After
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Injector{cfg: cfg}
}

// Add validates and activates a rule, returning it with its id and state.
func (in *Injector) Add(r Rule) (Rule, error) {
	if err := r.Validate(); err != nil {
		return Rule{}, err
	}
	if r.Kind == KindRevoke && in.cfg.Revoke == nil || r.Kind == KindNonceRotate && in.cfg.RotateNonce == nil {
		return Rule{}, fmt.Errorf("fault: this server cannot inject %s faults", r.Kind)
	}
	now := in.cfg.Clock.Now()
	in.mu.Lock()
	defer in.mu.Unlock()
	in.seq++
	r.ID = "flt" + strconv.Itoa(in.seq)
	r.Added, r.Hits, r.Expires, r.Remaining = now, 0, nil, nil
	if r.Duration > 0 {
		exp := now.Add(time.Duration(r.Duration))
		r.Expires = &exp
	}
	if r.Count > 0 {
		n := r.Count
		r.Remaining = &n
	}
	in.rules = append(in.rules, &r)
	return r.report(), nil
}

// report copies a rule for callers.
func (r *Rule) report() Rule {
	c := *r
	if r.Expires != nil {
		e := *r.Expires
		c.Expires = &e
	}
	if r.Remaining != nil {
		n := *r.Remaining
		c.Remaining = &n
	}
	return c
}

// List returns the active rules in the order they were added.
func (in *Injector) List() []Rule {
	now := in.cfg.Clock.Now()
	in.mu.Lock()
	defer in.mu.Unlock()
	in.expire(now)
	out := make([]Rule, 0, len(in.rules))
	for _, r := range in.rules {
		out = append(out, r.report())
	}
	return out
}

// Remove deactivates the rule with id and reports whether it existed.
func (in *Injector) Remove(id string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	for i, r := range in.rules {
		if r.ID == id {
			in.rules = append(in.rules[:i], in.rules[i+1:]...)
			return true
		}
	}
	return false
}

// Clear deactivates every rule.
func (in *Injector) Clear() {
	in.mu.Lock()
	in.rules = nil
	in.mu.Unlock()
}

// expire drops rules past their duration or count. Callers hold mu.
func (in *Injector) expire(now time.Time) {
	keep := in.rules[:0]
	for _, r := range in.rules {
		if (r.Expires == nil || now.Before(*r.Expires)) && (r.Remaining == nil || *r.Remaining > 0) {
			keep = append(keep, r)
		}
	}
	clear(in.rules[len(keep):])
	in.rules = keep
}

// Skew is the clock shift active clock_skew rules put on the server (their sum).
func (in *Injector) Skew() time.Duration {
	now := in.cfg.Clock.Now()
	in.mu.Lock()
	defer in.mu.Unlock()
	in.expire(now)
	var d time.Duration
	for _, r := range in.rules {
		if r.Kind == KindSkew {
			d += time.Duration(r.Skew)
		}
	}
	return d
}

// Clock returns base shifted by the active skew: the clock the server should use for
// everything it considers "now" (token lifetimes, proof windows, Date headers).
func (in *Injector) Clock(base Clock) Clock { return skewedClock{in: in, base: base} }

type skewedClock struct {
	in   *Injector
	base Clock
}

func (c skewedClock) Now() time.Time { return c.base.Now().Add(c.in.Skew()) }

// take returns the rules that apply to the request, counting the hit on each.
func (in *Injector) take(req *http.Request) []Rule {
	now := in.cfg.Clock.Now()
	in.mu.Lock()
	defer in.mu.Unlock()
	in.expire(now)
	var out []Rule
	for _, r := range in.rules {
		if !r.matches(req) {
			continue
		}
		r.Hits++
		if r.Remaining != nil {
			*r.Remaining--
		}
		out = append(out, r.report())
	}
	in.expire(now)
	return out
}

// Handler applies the active rules to requests before and around next. Side effects
// (revocation, nonce rotation) happen first, then any delay, then the first rule that
// answers by itself (status, rate_limit, concurrency_limit); body faults (truncate,
// malformed) rewrite next's response.
func (in *Injector) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasPrefix(req.URL.Path, in.cfg.ControlPrefix) {
			next.ServeHTTP(w, req)
			return
		}
		rules := in.take(req)
		if len(rules) == 0 {
			if in.Skew() != 0 {
				w.Header().Set("Date", in.Clock(in.cfg.Clock).Now().UTC().Format(http.TimeFormat))
			}
			next.ServeHTTP(w, req)
			return
		}
		var answer, rewrite *Rule
		for i := range rules {
			r := &rules[i]
			in.cfg.Logger.Info("fault injected", "id", r.ID, "kind", string(r.Kind), "path", req.URL.Path)
			switch r.Kind {
			case KindRevoke:
				if err := in.cfg.Revoke(RevokeRequest{Target: r.Target, ClientID: r.ClientID, KeyID: r.KeyID, Request: req}); err != nil {
					in.cfg.Logger.Warn("fault revoke failed", "id", r.ID, "err", err)
				}
			case KindNonceRotate:
				in.cfg.RotateNonce(r.Invalidate)
			case KindSkew:
				// The skewed clock covers it; the Date header is set below.
			case KindSlow:
				select {
				case <-in.cfg.After(time.Duration(r.Delay)):
				case <-req.Context().Done():
					return
				}
			case KindStatus, KindRateLimit, KindConcurrency:
				if answer == nil {
					answer = r
				}
			case KindTruncate, KindMalformed, KindForeignLink:
				if rewrite == nil {
					rewrite = r
				}
			}
		}
		now := in.Clock(in.cfg.Clock).Now()
		w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
		if answer != nil {
			in.answer(w, answer, now)
			return
		}
		if rewrite == nil {
			next.ServeHTTP(w, req)
			return
		}
		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(rec, req)
		body := rec.body.Bytes()
		switch rewrite.Kind {
		case KindTruncate:
			body = truncate(body)
		case KindMalformed:
			body = malform(body)
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		if rewrite.Kind == KindForeignLink {
			w.Header()["Link"] = foreignLinks(rec.header.Values("Link"), rewrite.Origin)
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.status)
		_, _ = w.Write(body)
	})
}

// foreignLinks moves every rel="next" link of values to origin (DefaultForeignOrigin when empty),
// keeping its path and query.
func foreignLinks(values []string, origin string) []string {
	if origin == "" {
		origin = DefaultForeignOrigin
	}
	origin = strings.TrimSuffix(origin, "/")
	out := make([]string, 0, len(values))
	for _, v := range values {
		start, end := strings.IndexByte(v, '<'), strings.IndexByte(v, '>')
		if start < 0 || end < start || !strings.Contains(strings.ToLower(v[end:]), `rel="next"`) {
			out = append(out, v)
			continue
		}
		target := v[start+1 : end]
		if u, err := url.Parse(target); err == nil {
			target = origin + u.RequestURI()
		}
		out = append(out, v[:start+1]+target+v[end:])
	}
	return out
}

// answer writes a fault response that stands in for the server's.
func (in *Injector) answer(w http.ResponseWriter, r *Rule, now time.Time) {
	h := w.Header()
	h.Set("X-Okta-Request-Id", requestID())
	switch r.Kind {
	case KindRateLimit, KindConcurrency:
		limit, reset := r.Limit, time.Duration(r.Reset)
		if r.Kind == KindConcurrency {
			limit = 0
			if reset == 0 {
				reset = 5 * time.Second
			}
		} else {
			if limit == 0 {
				limit = 600
			}
			if reset == 0 {
				reset = time.Minute
			}
		}
		h.Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
		h.Set("X-Rate-Limit-Remaining", "0")
		h.Set("X-Rate-Limit-Reset", strconv.FormatInt(now.Add(reset).Unix(), 10))
		writeOktaError(w, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.")
	case KindStatus:
		status := r.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		if status == http.StatusInternalServerError {
			writeOktaError(w, status, "E0000009", "Internal Server Error")
			return
		}
		// Gateway errors come from Okta's edge, which answers with an HTML page.
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		text := http.StatusText(status)
		_, _ = fmt.Fprintf(w, "<html><head><title>%d %s</title></head><body><h1>%d %s</h1></body></html>\n", status, text, status, text)
	}
}

// writeOktaError writes an Okta error object.
func writeOktaError(w http.ResponseWriter, status int, code, summary string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errorCode": code, "errorSummary": summary, "errorLink": code,
		"errorId": "oae" + randomString(16)[:22], "errorCauses": []any{},
	})
}

// truncate cuts a body roughly in half, always losing at least one byte.
func truncate(b []byte) []byte {
	if len(b) <= 1 {
		return nil
	}
	return b[:len(b)/2]
}

// malform makes a JSON body invalid while it still looks like JSON: a comma before the
// closing bracket or brace, which every JSON decoder rejects.
func malform(b []byte) []byte {
	t := bytes.TrimRight(b, " \t\r\n")
	if len(t) == 0 {
		return []byte("{")
	}
	last := t[len(t)-1]
	if last != '}' && last != ']' {
		return append(t, ',')
	}
	out := make([]byte, 0, len(t)+1)
	out = append(out, t[:len(t)-1]...)
	out = append(out, ',', last)
	return out
}

// recorder buffers a response so body faults can rewrite it.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.wrote = true
	return r.body.Write(p)
}

// requestID makes an X-Okta-Request-Id value.
func requestID() string { return randomString(18) }

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

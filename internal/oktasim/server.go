// Package oktasim emulates an Okta org's HTTP API closely enough that an unmodified Okta client
// cannot tell it from a real org: the System Log with its polling cursor and late events, rate
// limits, SSWS tokens, and the users API. A control API under /_sim/ (not Okta's) lets tests inject
// attack storylines and read the ground truth.
package oktasim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/oktasim/fault"
	"github.com/idwatch/idwatch/internal/oktasim/hooks"
)

// Config configures a Server.
type Config struct {
	// OrgURL is the base URL clients use, for Link headers. Empty: derived from each request.
	OrgURL string
	// OrgID is the org's id (00o and 17 letters or digits), published by
	// GET /.well-known/okta-organization. Empty: derived from Seed and OrgURL, so it is stable for
	// the same org.
	OrgID string
	// CustomDomains are custom URL domains that alias the org (https origins such as
	// https://login.acme.com); the first is the org metadata's alternate link.
	CustomDomains []string
	// Clock drives all time; nil means the system clock.
	Clock Clock
	// Logger receives operational messages; nil discards them.
	Logger *slog.Logger
	// Seed makes late-event choices reproducible.
	Seed int64
	// LateShare is the share (0..1) of appended events that become visible late.
	LateShare float64
	// LateDelay is the longest delay of a late event; each is delayed by between half of it and it.
	LateDelay time.Duration
	// RateLimits configures Okta's limits; a zero value means DefaultRateLimits.
	RateLimits RateLimitConfig
	// ControlKey authenticates /_sim/ requests (header X-Oktasim-Control-Key). Empty disables the
	// control API.
	ControlKey string
	// RequestLogSize is how many API requests the request log keeps (default 100000).
	RequestLogSize int
	// Faults are fault rules active from the start (idwatch sim --fault); more can be added
	// through /_sim/faults or Server.Faults.
	Faults []fault.Rule
	// EventHooks are hooks the org has from the start (sim config or --event-hook); RunHooks
	// verifies them. Their URIs may be http:// on loopback hosts.
	EventHooks []hooks.Hook
	// HookBatchWindow is how long delivery waits for more events to batch (default 1s).
	HookBatchWindow time.Duration
	// OmitADSchemaAttributes sets the org up without the custom attributes ObjectSid, ObjectGuid
	// and DistinguishedName (neither in the user schema nor on profiles), like an org whose admin
	// skipped that setup step.
	OmitADSchemaAttributes bool
	// SchemaCustomAttributes are the custom attributes of the default user schema (variable
	// names, case-sensitive). Nil means the AD link attributes ObjectSid, ObjectGuid and
	// DistinguishedName; list others to model an org that named them differently or lacks one.
	// Users keep AD link attribute values only for listed attributes; other non-base profile
	// attributes users carry are custom attributes too.
	SchemaCustomAttributes []string
	// HookClient sends hook verifications and deliveries; nil means a plain client (each attempt
	// is bounded by Okta's 3 s).
	HookClient *http.Client
}

// defaultHookBatchWindow groups events that occur close together into one delivery.
const defaultHookBatchWindow = time.Second

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.OrgURL != "" {
		u, err := url.Parse(c.OrgURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return fmt.Errorf("org URL %q must be an http(s) URL with no path, like http://127.0.0.1:8080", c.OrgURL)
		}
	}
	if c.OrgID != "" && !validOrgID(c.OrgID) {
		return fmt.Errorf("org id %q must be 00o followed by 17 letters or digits, like 00o1n8sbwArJ7OQRw4x7", c.OrgID)
	}
	if err := checkCustomDomains(c.CustomDomains); err != nil {
		return err
	}
	if c.LateShare < 0 || c.LateShare > 1 {
		return fmt.Errorf("late share %v must be between 0 and 1", c.LateShare)
	}
	if c.LateDelay < 0 {
		return fmt.Errorf("late delay %v must not be negative", c.LateDelay)
	}
	if c.LateShare > 0 && c.LateDelay == 0 {
		return fmt.Errorf("late share %v needs a positive late delay", c.LateShare)
	}
	if c.HookBatchWindow < 0 {
		return fmt.Errorf("hook batch window %v must not be negative", c.HookBatchWindow)
	}
	if c.RequestLogSize < 0 {
		return fmt.Errorf("request log size %d must not be negative", c.RequestLogSize)
	}
	for i, r := range c.Faults {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("fault rule %d: %w", i+1, err)
		}
	}
	if err := c.validateSchema(); err != nil {
		return err
	}
	if c.RateLimits.Buckets != nil || c.RateLimits.Concurrency != 0 || c.RateLimits.SharePercent != 0 {
		return c.RateLimits.Validate()
	}
	return nil
}

// Server is an emulated Okta org. Create it with New; it is an http.Handler.
type Server struct {
	cfg     Config
	clock   Clock
	log     *slog.Logger
	logs    *logStore
	limiter *rateLimiter
	ssws    *SSWSAuthenticator
	users   *userStore
	reqLog  *requestLog

	mu    sync.Mutex // guards authn and rng
	authn []Authenticator
	rng   *rand.Rand

	stories storyRegistry

	faults *fault.Injector
	wiring faultWiring
	api    http.Handler // the API path behind the fault injector
	skewed Clock        // clock plus any clock_skew fault: Date headers and OAuth times

	hooks     *hooks.Registry
	hooksLive atomic.Bool // a RunHooks is delivering
	paths     map[string]bool
	dir       directory
	adminsMu  sync.Mutex // serializes AddAdmin and SetUsers so no admin is lost
	admins    []User     // AddAdmin's users, kept through SetUsers
	schema    []string   // the user schema's declared custom attributes
	overlay   overlays
	created   time.Time // when the org was set up, for the schema's timestamps
	orgID     string    // published by /.well-known/okta-organization

	mux     *http.ServeMux // method-qualified routes
	pathMux *http.ServeMux // the same paths without methods, to tell 405 from 404
	control *http.ServeMux
}

type ctxKeyRoute struct{}

// route is an Okta API endpoint and what it needs.
type route struct {
	perm    Permission
	public  bool
	handler http.HandlerFunc
}

// routeMatch receives the route the mux picked and the request carrying its path values.
type routeMatch struct {
	route
	req *http.Request
}

// New returns a server with no events, users or tokens.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RateLimits.Buckets == nil && cfg.RateLimits.Concurrency == 0 && cfg.RateLimits.SharePercent == 0 {
		disabled := cfg.RateLimits.Disabled
		cfg.RateLimits = DefaultRateLimits()
		cfg.RateLimits.Disabled = disabled
	}
	if cfg.RequestLogSize == 0 {
		cfg.RequestLogSize = 100000
	}
	store, err := newLogStore()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, clock: cfg.Clock, ssws: NewSSWSAuthenticator(cfg.Clock), log: cfg.Logger, logs: store,
		limiter: newRateLimiter(cfg.RateLimits),
		users:   newUserStore(), reqLog: newRequestLog(cfg.RequestLogSize),
		rng: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6f6b746173696d)),
		mux: http.NewServeMux(), pathMux: http.NewServeMux(), control: http.NewServeMux()}
	if err := s.newFaults(cfg.Clock, cfg.Faults); err != nil {
		return nil, err
	}
	s.skewed = s.faults.Clock(cfg.Clock)
	s.api = s.apiHandler()
	s.authn = []Authenticator{s.ssws}
	s.paths = map[string]bool{}
	if err := s.newHooks(cfg); err != nil {
		return nil, err
	}
	s.HandleAPI(http.MethodGet, "/api/v1/logs", PermLogsRead, s.handleLogs)
	s.HandleAPI(http.MethodGet, "/api/v1/users", PermUsersRead, s.handleListUsers)
	s.created = cfg.Clock.Now().Add(-365 * 24 * time.Hour)
	s.schema = cfg.schemaAttributes()
	for _, a := range s.schema {
		s.users.profile[a] = true
	}
	s.orgID = cfg.OrgID
	if s.orgID == "" {
		s.orgID = derivedOrgID(cfg.Seed, cfg.OrgURL)
	}
	s.registerWellKnown()
	s.registerDirectory()
	s.registerSelf()
	s.overlay.by = map[string]lifecycleOverlay{}
	s.registerLifecycle()
	s.registerIAM()
	s.registerControl()
	s.registerFaultControl()
	return s, nil
}

// HandleAPI adds an authenticated, rate-limited Okta endpoint requiring perm (PermAuthenticated:
// any valid credentials). pattern uses net/http's syntax without the method, e.g.
// "/api/v1/users/{id}/lifecycle/suspend".
func (s *Server) HandleAPI(method, pattern string, perm Permission, h http.HandlerFunc) {
	s.addRoute(method, pattern, route{perm: perm, handler: h})
}

// HandlePublic adds an endpoint that needs no API credentials (the OAuth token endpoint, keys,
// metadata). It still gets Date and X-Okta-Request-Id.
func (s *Server) HandlePublic(method, pattern string, h http.HandlerFunc) {
	s.addRoute(method, pattern, route{public: true, handler: h})
}

func (s *Server) addRoute(method, pattern string, rt route) {
	s.mux.Handle(method+" "+pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := r.Context().Value(ctxKeyRoute{}).(*routeMatch)
		m.route, m.req = rt, r
	}))
	if !s.paths[pattern] {
		s.paths[pattern] = true
		s.pathMux.Handle(pattern, http.NotFoundHandler())
	}
}

// AddAuthenticator adds a way to authenticate API requests (e.g. OAuth access tokens with DPoP).
// Authenticators are asked in the order added, SSWS first.
func (s *Server) AddAuthenticator(a Authenticator) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.authn = append(s.authn, a)
}

// Tokens returns the SSWS token registry, to add or revoke API tokens.
func (s *Server) Tokens() *SSWSAuthenticator { return s.ssws }

// RateLimits returns the current rate-limit configuration.
func (s *Server) RateLimits() RateLimitConfig { return s.limiter.config() }

// SetRateLimits replaces the rate-limit configuration; every window starts afresh.
func (s *Server) SetRateLimits(c RateLimitConfig) error {
	if err := c.Validate(); err != nil {
		return err
	}
	s.limiter.setConfig(c)
	return nil
}

// RequestLog returns the API requests recorded after sequence number after (0 for all kept).
func (s *Server) RequestLog(after uint64) []RequestRecord { return s.reqLog.since(after) }

// Append adds an event to the System Log. It becomes visible at its published time, or later if
// chosen as a late event (Config.LateShare). Events should arrive in published order.
func (s *Server) Append(ev *event.LogEvent) error {
	raw, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", ev.UUID, err)
	}
	return s.appendRaw(raw, ev.UUID, ev.EventType, ev.Published, s.lateDelay())
}

// AppendRaw adds one event given as a JSON object, visible delay after the later of its published
// time and now. It returns the event's uuid.
func (s *Server) AppendRaw(raw []byte, delay time.Duration) (string, error) {
	var head struct {
		UUID      string `json:"uuid"`
		Published string `json:"published"`
		EventType string `json:"eventType"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return "", fmt.Errorf("event is not a JSON object: %w", err)
	}
	pub, err := time.Parse(time.RFC3339Nano, head.Published)
	if err != nil {
		return "", fmt.Errorf("event %s: published %q is not an RFC 3339 timestamp", head.UUID, head.Published)
	}
	if head.EventType == "" {
		return "", fmt.Errorf("event %s has no eventType", head.UUID)
	}
	compact, err := compactJSON(raw)
	if err != nil {
		return "", err
	}
	if now := s.clock.Now(); now.After(pub) {
		delay += now.Sub(pub)
	}
	return head.UUID, s.appendRaw(compact, head.UUID, head.EventType, pub, delay)
}

func (s *Server) appendRaw(raw []byte, uuid, eventType string, published time.Time, delay time.Duration) error {
	id, err := parseUUID(uuid)
	if err != nil {
		return err
	}
	pub := published.UnixNano()
	s.logs.add(raw, pub, id, eventType, pub+int64(delay), s.clock.Now().UnixNano())
	s.publishToHooks(raw, eventType)
	return nil
}

// lateDelay decides whether the next event is late and by how much.
func (s *Server) lateDelay() time.Duration {
	if s.cfg.LateShare == 0 {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rng.Float64() >= s.cfg.LateShare {
		return 0
	}
	half := s.cfg.LateDelay / 2
	return half + time.Duration(s.rng.Int64N(int64(s.cfg.LateDelay-half)+1))
}

// EventCount returns how many events are visible and how many wait to become visible.
func (s *Server) EventCount() (visible, pending int) {
	s.logs.promote(s.clock.Now().UnixNano())
	s.logs.mu.RLock()
	visible = len(s.logs.metas)
	s.logs.mu.RUnlock()
	return visible, s.logs.pendingCount()
}

// baseURL is the org URL as the client sees it.
func (s *Server) baseURL(r *http.Request) string {
	if d := s.customDomainOf(r); d != "" {
		return d
	}
	if s.cfg.OrgURL != "" {
		return strings.TrimSuffix(s.cfg.OrgURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// statusWriter records the status a handler sent.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// ServeHTTP implements http.Handler: control requests go to /_sim/; everything else passes the
// fault injector on its way to the API.
func (s *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sim/") {
		h := rw.Header()
		h.Set("Date", s.skewed.Now().UTC().Format(http.TimeFormat))
		h.Set("X-Okta-Request-Id", randomID(27))
		s.serveControl(rw, r)
		return
	}
	s.api.ServeHTTP(rw, r)
}

// serveAPI serves an Okta endpoint: every response gets Date and X-Okta-Request-Id; API
// requests are authenticated, limited, authorized and recorded in that order.
func (s *Server) serveAPI(rw http.ResponseWriter, r *http.Request) {
	now := s.clock.Now()
	reqID := randomID(27)
	h := rw.Header()
	h.Set("Date", s.skewed.Now().UTC().Format(http.TimeFormat))
	h.Set("X-Okta-Request-Id", reqID)
	w := &statusWriter{ResponseWriter: rw}
	rec := RequestRecord{Time: now, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, RequestID: reqID}
	defer func() {
		rec.Status = w.status
		s.reqLog.add(rec)
	}()

	var rt routeMatch
	if _, pattern := s.mux.Handler(r); pattern != "" {
		s.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKeyRoute{}, &rt))) // fills rt
	}
	bucket, metered := s.limiter.bucket(r.Method, r.URL.Path)
	if rt.public {
		rt.handler(w, rt.req)
		return
	}
	p, authn, authErr := s.authenticate(r)
	if metered {
		rec.Bucket = bucket.Name
	}
	if authErr != nil {
		if metered {
			s.limiter.take(bucket, "", now, false).setHeaders(h)
		}
		var responder AuthErrorResponder
		var apiErr *APIError
		switch {
		case errors.As(authErr, &responder):
			responder.WriteAuthError(w, r)
		case errors.As(authErr, &apiErr):
			writeAPIError(w, apiErr)
		default:
			writeAPIError(w, errInvalidToken())
		}
		return
	}
	rec.Principal = p.ID
	if ok, logIt := s.limiter.enter(now); !ok {
		if logIt {
			s.logRateEvent("core.concurrency.org.limit.violation", "Concurrency limit violation", reqID, r, p, BucketLimit{Path: r.URL.Path})
		}
		concurrencyRefusal(now).setHeaders(h)
		writeAPIError(w, errRateLimited())
		return
	}
	defer s.limiter.leave()
	if metered {
		d := s.limiter.take(bucket, p.ShareKey, now, true)
		d.setHeaders(h)
		if d.event != "" {
			msg := "Rate limit warning"
			if !d.allowed {
				msg = "Rate limit violation"
			}
			s.logRateEvent(d.event, msg, reqID, r, p, bucket)
		}
		if !d.allowed {
			writeAPIError(w, errRateLimited())
			return
		}
	}
	if rt.handler == nil {
		if _, pattern := s.pathMux.Handler(r); pattern != "" {
			writeAPIError(w, errMethodNotAllowed(r.Method))
		} else {
			writeAPIError(w, errNotFound(r.URL.Path))
		}
		return
	}
	if rt.perm != PermAuthenticated && !p.Can(rt.perm) {
		if sw, ok := authn.(ScopeErrorWriter); ok && p.Kind == PrincipalApp && !scopeAllows(p.Scopes, rt.perm) {
			sw.WriteScopeError(w, rt.req, p, rt.perm)
			return
		}
		writeAPIError(w, errAccessDenied())
		return
	}
	rt.handler(w, rt.req.WithContext(context.WithValue(rt.req.Context(), principalKey{}, p)))
}

// authenticate asks each authenticator in turn and returns the principal and who vouched for it.
func (s *Server) authenticate(r *http.Request) (Principal, Authenticator, error) {
	s.mu.Lock()
	authn := s.authn
	s.mu.Unlock()
	for _, a := range authn {
		p, err := a.Authenticate(r)
		if errors.Is(err, ErrNoCredentials) {
			continue
		}
		return p, a, err
	}
	return Principal{}, nil, errInvalidToken()
}

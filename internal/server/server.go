package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/process"
	"github.com/idwatch/idwatch/internal/respond"
	"github.com/idwatch/idwatch/internal/search"
	"github.com/idwatch/idwatch/internal/sink"
	"github.com/idwatch/idwatch/internal/store"
)

// Options are what New needs. Store and Logger are required.
type Options struct {
	Config Config
	// Store holds the API keys, integrations and everything the routes read.
	Store store.Store
	// Logger receives request logs and the internal errors behind 500 responses.
	Logger *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Ready reports the components of the running service for /readyz and /metrics (nil: only
	// the store is checked).
	Ready *Readiness
	// Verifier checks credentials against Okta (create, enable, verify, rotate); Clients builds
	// the Okta clients of backfills and holds the rate governors whose 429s are reported. Without
	// them those routes answer 503.
	Verifier *collect.Verifier
	Clients  *collect.Clients
	// OnChange is called after an integration is created, changed or removed, so that the
	// collector picks the change up at once (collect.Manager.Sync).
	OnChange func()
	// Rules say how the processor loads its rules (rules folder, placeholders), so that the
	// rule routes list and validate exactly what it runs.
	Rules process.RuleOptions
	// Responder runs response actions (nil: the response routes answer 503 with the fix);
	// SyncInventory runs a full inventory sync (nil: the sync route answers 503).
	Responder     *respond.Responder
	SyncInventory InventorySyncer
	// Sinks are the configured sinks, whose delivery the sink routes report.
	Sinks []sink.Config
	// Routes are added to the built-in route table (see Register).
	Routes []Route
	// Console, when set, serves every path outside /api/, /metrics, /healthz and /readyz.
	Console http.Handler
	// Version is reported by /healthz.
	Version string
	// Registry, when set, is the private registry /metrics serves, shared with the service's
	// other parts (event hooks, freshness); a new one otherwise.
	Registry *prometheus.Registry
}

// Server is the REST API: a route table behind authentication, and the HTTP listener.
type Server struct {
	cfg      Config
	st       store.Store
	log      *slog.Logger
	now      func() time.Time
	ready    *Readiness
	verifier *collect.Verifier
	clients  *collect.Clients
	onChange func()
	rates    *rates
	version  string
	proxies  []netip.Prefix

	mu        sync.Mutex
	routes    []Route
	byPath    map[string]map[string]*Route // path pattern → method → route
	mux       *http.ServeMux
	console   http.Handler
	touched   map[int64]time.Time
	backfill  *backfills
	search    *search.Service
	sinks     []sink.Config
	rules     process.RuleOptions
	responder *respond.Responder
	syncer    InventorySyncer

	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// New builds a server with the built-in routes and opts.Routes. It does not listen: call Run.
func New(opts Options) (*Server, error) {
	if opts.Store == nil || opts.Logger == nil {
		return nil, errors.New("server: Options.Store and Options.Logger are required")
	}
	if err := opts.Config.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: opts.Config.withDefaults(), st: opts.Store, log: opts.Logger, now: opts.Now, ready: opts.Ready,
		verifier: opts.Verifier, clients: opts.Clients, onChange: opts.OnChange, rates: newRates(), version: opts.Version, console: opts.Console, touched: map[int64]time.Time{},
		byPath: map[string]map[string]*Route{}, mux: http.NewServeMux(), registry: opts.Registry}
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.ready == nil {
		s.ready = NewReadiness()
	}
	for _, p := range s.cfg.TrustedProxies {
		pr, _ := parsePrefix(p) // Validate checked them
		s.proxies = append(s.proxies, pr)
	}
	s.backfill = newBackfills(s.now)
	s.search = search.New(opts.Store)
	s.sinks, s.rules = opts.Sinks, opts.Rules
	s.responder, s.syncer = opts.Responder, opts.SyncInventory
	s.initMetrics()
	if err := s.Register(s.builtinRoutes()...); err != nil {
		return nil, err
	}
	if err := s.Register(opts.Routes...); err != nil {
		return nil, err
	}
	s.mux.HandleFunc("/", s.fallback)
	return s, nil
}

// Routes returns a copy of the route table, in registration order.
func (s *Server) Routes() []Route {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.routes)
}

// Register adds routes; a second route with the same method and pattern, or one that does not
// validate, is an error. Register is safe to call while serving.
func (s *Server) Register(routes ...Route) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rt := range routes {
		if err := rt.validate(); err != nil {
			return err
		}
		methods, ok := s.byPath[rt.Pattern]
		if !ok {
			methods = map[string]*Route{}
			s.byPath[rt.Pattern] = methods
			pattern := rt.Pattern
			s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.dispatch(w, r, pattern) }))
		}
		if _, dup := methods[rt.Method]; dup {
			return fmt.Errorf("server: route %s %s registered twice", rt.Method, rt.Pattern)
		}
		r := rt
		methods[rt.Method] = &r
		s.routes = append(s.routes, rt)
	}
	return nil
}

// MountConsole serves h for every path that is not the API's (/api/, /metrics, /healthz, /readyz).
func (s *Server) MountConsole(h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.console = h
}

// MountHooks serves h, unauthenticated (it checks its own secrets), under prefix, which must
// start and end with "/" and lie outside /api/v1/ (e.g. /hooks/okta/).
func (s *Server) MountHooks(prefix string, h http.Handler) error {
	if !strings.HasPrefix(prefix, "/") || !strings.HasSuffix(prefix, "/") || strings.HasPrefix(prefix, "/api/") {
		return fmt.Errorf("server: hooks prefix %q must start and end with / and lie outside /api/", prefix)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mux.Handle(prefix, s.instrument(prefix+"*", http.MaxBytesHandler(h, s.cfg.MaxBodyBytes)))
	return nil
}

// Handler is the whole server as an http.Handler (what Run serves), for tests and embedding.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer s.recoverPanic(w, r)
		if s.cors(w, r) {
			return
		}
		s.mux.ServeHTTP(w, r)
	})
}

// ErrAddrInUse is returned (wrapped) by Listen when the address is taken.
var ErrAddrInUse = errors.New("address in use")

// Listen opens the configured address (with TLS when configured), so that a busy port fails
// the start before anything else runs.
func (s *Server) Listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("server.listen %s: %w", s.cfg.Listen, ErrAddrInUse)
	}
	if err != nil {
		return nil, fmt.Errorf("server.listen %s: %w", s.cfg.Listen, err)
	}
	if s.cfg.TLS.On() {
		certs, err := newCertReloader(s.cfg.TLS.CertFile, s.cfg.TLS.KeyFile, s.log)
		if err != nil {
			ln.Close()
			return nil, err
		}
		ln = tls.NewListener(ln, &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: certs.GetCertificate})
	}
	return ln, nil
}

// Serve serves on ln until ctx ends, then shuts down gracefully: it stops accepting, lets
// requests in hand finish (up to 10s) and cancels running backfills.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: s.cfg.ReadHeaderTimeout, ReadTimeout: s.cfg.ReadTimeout,
		WriteTimeout: s.cfg.WriteTimeout, IdleTimeout: s.cfg.IdleTimeout, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn), BaseContext: func(net.Listener) context.Context { return ctx }}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	s.log.Info("API listening", "addr", ln.Addr().String(), "tls", s.cfg.TLS.On())
	select {
	case err := <-done:
		s.backfill.cancelAll()
		return err
	case <-ctx.Done():
	}
	s.backfill.cancelAll()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if e := <-done; !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	s.backfill.wait()
	return err
}

// Run listens and serves until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	ln, err := s.Listen()
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// dispatch runs the route registered for the request's method on pattern, or answers 405.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, pattern string) {
	s.mu.Lock()
	methods := s.byPath[pattern]
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	rt := methods[method]
	var allow []string
	if rt == nil {
		for m := range methods {
			allow = append(allow, m)
		}
	}
	s.mu.Unlock()
	if rt == nil {
		slices.Sort(allow)
		w.Header().Set("Allow", strings.Join(allow, ", "))
		s.instrument(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			WriteError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, fmt.Sprintf("%s is not allowed on %s", r.Method, r.URL.Path),
				"use one of: "+strings.Join(allow, ", "), "")
		})).ServeHTTP(w, r)
		return
	}
	s.instrument(rt.Method+" "+rt.Pattern, s.routeHandler(rt)).ServeHTTP(w, r)
}

// routeHandler wraps a route's handler with the body limit, authentication and error handling.
func (s *Server) routeHandler(rt *Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		if !rt.Public {
			p, ok := s.authorize(w, r, rt.Role)
			if !ok {
				return
			}
			r = r.WithContext(withPrincipal(r.Context(), p))
		}
		if err := rt.Handler(w, r); err != nil {
			s.writeErr(w, r, err)
		}
	})
}

// writeErr answers a handler's error: a RequestError as it is, anything else as a 500 whose
// text stays in the log.
func (s *Server) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	var re *RequestError
	if errors.As(err, &re) {
		WriteError(w, re.Status, re.Body.Code, re.Body.Message, re.Body.Fix, re.Body.Field)
		return
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client went away
	}
	s.log.Error("API request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	if errors.Is(err, store.ErrUnavailable) {
		WriteError(w, http.StatusServiceUnavailable, CodeUnavailable, "the database is unavailable", "see the service log for the cause; retry once it is fixed", "")
		return
	}
	WriteError(w, http.StatusInternalServerError, CodeInternal, "the request failed inside the server", "see the service log for the cause", "")
}

// fallback answers paths no route matches: the console when mounted, else 404.
func (s *Server) fallback(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	console := s.console
	s.mu.Unlock()
	if console != nil && !strings.HasPrefix(r.URL.Path, "/api/") {
		s.instrument("console", console).ServeHTTP(w, r)
		return
	}
	s.instrument("unmatched", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusNotFound, CodeNotFound, fmt.Sprintf("no route for %s", r.URL.Path), "the routes are listed in /api/v1/openapi.json", "")
	})).ServeHTTP(w, r)
}

// recoverPanic turns a handler panic into a logged 500 instead of a dropped connection.
func (s *Server) recoverPanic(w http.ResponseWriter, r *http.Request) {
	if v := recover(); v != nil {
		if v == http.ErrAbortHandler {
			panic(v)
		}
		s.log.Error("API handler panicked", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
		WriteError(w, http.StatusInternalServerError, CodeInternal, "the request failed inside the server", "see the service log for the cause", "")
	}
}

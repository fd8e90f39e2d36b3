// Package console is idwatch's web console: server-rendered pages over a Backend, with htmx for
// the live parts, sessions signed in with an API key, and the API's roles.
package console

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configures the console.
type Options struct {
	// Backend serves the data and actions; required.
	Backend Backend
	// Logger receives errors the user is not shown in full; default slog.Default().
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// BasePath is where the console is mounted (e.g. "/console"); "" for the root. The caller
	// strips it (http.StripPrefix) before the handler sees the request.
	BasePath string
	// SecureCookies marks the session cookie Secure even on plain HTTP, for a TLS-terminating
	// proxy in front. Requests that arrive over TLS always get Secure cookies.
	SecureCookies bool
	// SessionIdle ends a session after this long without a request; default 30 minutes.
	SessionIdle time.Duration
	// SessionMax ends a session this long after sign-in; default 12 hours.
	SessionMax time.Duration
	// MaxSessions bounds the session store; default 10,000.
	MaxSessions int
	// ClientAddr names a request's client for the limit on failed sign-ins (ten at once, then
	// one every six seconds, per address); default the connection's remote address. Behind a
	// reverse proxy, pass the server's resolution of X-Forwarded-For from trusted proxies.
	ClientAddr func(*http.Request) string
}

// Validate checks the options and fills defaults.
func (o *Options) Validate() error {
	if o.Backend == nil {
		return errors.New("console: Options.Backend is required")
	}
	if o.BasePath != "" && (!strings.HasPrefix(o.BasePath, "/") || strings.HasSuffix(o.BasePath, "/")) {
		return fmt.Errorf("console: BasePath %q must start with / and not end with one (e.g. /console)", o.BasePath)
	}
	if o.SessionIdle < 0 || o.SessionMax < 0 || o.MaxSessions < 0 {
		return errors.New("console: session limits must not be negative")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SessionIdle == 0 {
		o.SessionIdle = 30 * time.Minute
	}
	if o.SessionMax == 0 {
		o.SessionMax = 12 * time.Hour
	}
	if o.MaxSessions == 0 {
		o.MaxSessions = 10000
	}
	if o.ClientAddr == nil {
		o.ClientAddr = remoteHost
	}
	return nil
}

// console holds the handler's state.
type console struct {
	o        Options
	b        Backend
	log      *slog.Logger
	pages    map[string]*template.Template
	sessions *sessions
	jobs     *verifyJobs
	logins   *loginLimiter
}

// pageFiles are the pages; each is parsed with the layout and the shared partials.
var pageFiles = []string{"login", "error", "integrations", "integration", "alerts", "alert", "incidents", "incident", "responses", "response", "identities", "posture", "events", "rules", "sinks", "settings"}

// New returns the console's handler. Mount it at Options.BasePath behind http.StripPrefix.
func New(o Options) (http.Handler, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	c := &console{o: o, b: o.Backend, log: o.Logger, pages: map[string]*template.Template{},
		sessions: newSessions(o.Now, o.SessionIdle, o.SessionMax, o.MaxSessions)}
	c.jobs = newVerifyJobs(o.Now)
	c.logins = newLoginLimiter()
	for _, name := range pageFiles {
		t, err := template.New(name).Funcs(c.funcs()).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
		c.pages[name] = t
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler(static)))
	mux.HandleFunc("GET /login", c.loginPage)
	mux.HandleFunc("POST /login", c.login)
	mux.HandleFunc("POST /logout", c.logout)
	mux.Handle("GET /{$}", c.need(RoleViewer, func(w http.ResponseWriter, r *http.Request, p Principal) {
		http.Redirect(w, r, c.url("/integrations"), http.StatusSeeOther)
	}))
	c.routeIntegrations(mux)
	c.routeAlerts(mux)
	c.routeIncidents(mux)
	c.routeResponses(mux)
	c.routeIdentities(mux)
	c.routeEvents(mux)
	c.routeRules(mux)
	c.routeSinks(mux)
	c.routeSettings(mux)
	mux.Handle("/", c.need(RoleViewer, func(w http.ResponseWriter, r *http.Request, p Principal) {
		c.fail(w, r, p, http.StatusNotFound, "Page not found", "Use the navigation above.")
	}))
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, Principal{}, http.StatusForbidden, "Cross-origin request refused",
			"Submit forms from the console's own pages; reload the page and try again.")
	}))
	return securityHeaders(cop.Handler(mux)), nil
}

// csp allows only the console's own script and style files: no inline code, no third parties.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			hd.Set("Cache-Control", "no-store")
		}
		h.ServeHTTP(w, r)
	})
}

func staticHandler(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") || r.URL.Path == "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// url prefixes a console path with the base path.
func (c *console) url(path string) string { return c.o.BasePath + path }

// handler is a page handler that knows who is signed in.
type handler func(w http.ResponseWriter, r *http.Request, p Principal)

// need wraps h so it runs only for a signed-in principal holding at least role; others are sent
// to the login page or shown the 403 page.
func (c *console) need(role Role, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := c.principal(r)
		if !ok {
			if isHTMX(r) {
				w.Header().Set("HX-Redirect", c.url("/login"))
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, c.url("/login"), http.StatusSeeOther)
			return
		}
		if p.Role.rank() < role.rank() {
			c.fail(w, r, p, http.StatusForbidden, "Not allowed for your role",
				fmt.Sprintf("This needs the %s role; you are signed in as %q with the %s role. Ask an admin for a key with the %s role.", role, p.Name, p.Role, role))
			return
		}
		h(w, r, p)
	})
}

func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

// view is what every page template receives.
type view struct {
	Title string
	Nav   string
	P     Principal
	Data  any
	Err   *Error
	Flash string
	Base  string
}

// render executes a page (or, with block set, one of its fragments) into a buffer first, so a
// template error becomes a clean 500 rather than half a page.
func (c *console) render(w http.ResponseWriter, r *http.Request, status int, page, block string, v view) {
	t := c.pages[page]
	if block == "" {
		block = "layout"
	}
	v.Base = c.o.BasePath
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, v); err != nil {
		c.log.Error("console: render", "page", page, "block", block, "err", err)
		http.Error(w, "The page could not be drawn; the server log has the details.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// fail shows the error page.
func (c *console) fail(w http.ResponseWriter, r *http.Request, p Principal, status int, msg, fix string) {
	c.render(w, r, status, "error", "", view{Title: http.StatusText(status), P: p, Data: status, Err: &Error{Message: msg, Fix: fix}})
}

// backendError shows a Backend error: user errors and not-found as they are, anything else as a
// generic failure with the detail in the log only (it may name internals).
func (c *console) backendError(w http.ResponseWriter, r *http.Request, p Principal, what string, err error) {
	var ue *Error
	switch {
	case errors.Is(err, ErrNotFound):
		c.fail(w, r, p, http.StatusNotFound, what+": not found", "It may have been removed; go back to the list.")
	case errors.As(err, &ue):
		c.fail(w, r, p, http.StatusBadRequest, what+": "+ue.Message, ue.Fix)
	case errors.Is(err, context.Canceled):
		// The browser went away.
	default:
		c.log.Error("console: backend", "what", what, "err", err)
		c.fail(w, r, p, http.StatusInternalServerError, what+" failed", "The server log has the details; try again shortly.")
	}
}

// userError returns err as an *Error for showing next to a form, logging anything else.
func (c *console) userError(what string, err error) *Error {
	var ue *Error
	if errors.As(err, &ue) {
		return ue
	}
	if errors.Is(err, ErrNotFound) {
		return &Error{Message: what + ": not found", Fix: "It may have been removed; reload the page."}
	}
	c.log.Error("console: backend", "what", what, "err", err)
	return &Error{Message: what + " failed", Fix: "The server log has the details; try again shortly."}
}

// back redirects to the page the form was on after a successful POST.
func (c *console) back(w http.ResponseWriter, r *http.Request, path, flash string) {
	if flash != "" {
		path += "?done=" + urlQueryEscape(flash)
	}
	http.Redirect(w, r, c.url(path), http.StatusSeeOther)
}

// Package hooks is oktasim's event hooks: the registry and management API
// (/api/v1/eventHooks), the one-time verification GET, and delivery of eligible System Log
// events as com.okta.event_hook POST batches, with Okta's timeout and retry rules.
package hooks

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
)

// Hook statuses and verification statuses.
const (
	StatusActive   = "ACTIVE"
	StatusInactive = "INACTIVE"
	Verified       = "VERIFIED"
	Unverified     = "UNVERIFIED"
)

// Okta's limits on event hooks.
const (
	maxActiveHooks    = 25
	maxEventsPerHook  = 300
	defaultTimeout    = 3 * time.Second
	maxHeaderValueLen = 4096
)

// Clock tells the registry what time it is.
type Clock interface{ Now() time.Time }

// Config configures a Registry.
type Config struct {
	// OrgURL is the org's base URL; deliveries name their hook as OrgURL/api/v1/eventHooks/{id}.
	OrgURL string
	// Client sends verification and delivery requests; nil means a client with no overall
	// timeout (each attempt is bounded by Timeout).
	Client *http.Client
	// Timeout bounds each verification or delivery attempt (Okta: 3 s).
	Timeout time.Duration
	// Clock stamps hooks and envelopes; nil means the system clock.
	Clock Clock
	// AllowHTTPLoopback accepts http:// hook URIs on loopback hosts (local receivers of the
	// simulator); Okta itself requires https.
	AllowHTTPLoopback bool
	// ExtraEligible adds event types to the eligible set, for catalog types this package
	// does not list.
	ExtraEligible []string
	// OnFailure, when set, is told about each delivery that failed after its retry, so the
	// server can write the event_hook.delivery System Log event. It must not block.
	OnFailure func(Failure)
	// Logger receives diagnostics; nil discards. Hook secrets are never logged.
	Logger *slog.Logger
}

// Validate reports a configuration error, naming the field to fix.
func (c Config) Validate() error {
	u, err := url.Parse(c.OrgURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("hooks: OrgURL %q must be an absolute http(s) URL", c.OrgURL)
	}
	if c.Timeout < 0 {
		return errors.New("hooks: Timeout must not be negative")
	}
	return nil
}

// Link is an Okta HAL link.
type Link struct {
	Href  string     `json:"href"`
	Hints *LinkHints `json:"hints,omitempty"`
}

// LinkHints lists the methods a link allows.
type LinkHints struct {
	Allow []string `json:"allow"`
}

// Hook is an event hook in the shape of Okta's EventHook object.
type Hook struct {
	ID                 string          `json:"id"`
	Status             string          `json:"status"`
	VerificationStatus string          `json:"verificationStatus"`
	Name               string          `json:"name"`
	Description        string          `json:"description,omitempty"`
	Created            time.Time       `json:"created"`
	CreatedBy          string          `json:"createdBy,omitempty"`
	LastUpdated        time.Time       `json:"lastUpdated"`
	Events             Events          `json:"events"`
	Channel            Channel         `json:"channel"`
	Links              map[string]Link `json:"_links,omitempty"`
}

// Events is the hook's subscription.
type Events struct {
	Type  string   `json:"type"`
	Items []string `json:"items"`
}

// Channel is where and how the hook delivers.
type Channel struct {
	Type    string        `json:"type"`
	Version string        `json:"version"`
	Config  ChannelConfig `json:"config"`
}

// ChannelConfig holds the receiver URI and the headers sent to it.
type ChannelConfig struct {
	URI        string      `json:"uri"`
	Headers    []Header    `json:"headers,omitempty"`
	AuthScheme *AuthScheme `json:"authScheme,omitempty"`
}

// Header is a custom header sent with every request to the receiver.
type Header struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// AuthScheme is the shared-secret header; Value is write-only and never returned.
type AuthScheme struct {
	Type  string `json:"type"`
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
}

// Failure describes a delivery that failed after its retry.
type Failure struct {
	Time     time.Time
	HookID   string
	HookName string
	URI      string
	// EventID is the envelope's eventId; EventUUIDs are the System Log events it carried.
	EventID    string
	EventUUIDs []string
	EventTypes []string
	Attempts   int
	// Status is the receiver's last HTTP status, 0 for a timeout or transport error.
	Status int
	// Reason says what went wrong, without any header value.
	Reason string
}

// Registry holds the org's event hooks and delivers to them. It is safe for concurrent use.
type Registry struct {
	cfg      Config
	eligible map[string]bool
	mu       sync.RWMutex
	hooks    map[string]*Hook
	order    []string
	queue    chan queued
}

// New builds a Registry.
func New(cfg Config) (*Registry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.OrgURL = strings.TrimSuffix(cfg.OrgURL, "/")
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	el := make(map[string]bool, len(eligible)+len(cfg.ExtraEligible))
	for t := range eligible {
		el[t] = true
	}
	for _, t := range cfg.ExtraEligible {
		el[t] = true
	}
	for t := range ineligible {
		delete(el, t)
	}
	return &Registry{cfg: cfg, eligible: el, hooks: make(map[string]*Hook), queue: make(chan queued, queueSize)}, nil
}

// Eligible reports whether this registry delivers eventType.
func (g *Registry) Eligible(eventType string) bool { return g.eligible[eventType] }

// APIError is an Okta management-API error from the registry.
type APIError struct {
	Status  int
	Code    string
	Summary string
	Causes  []string
}

// Error joins the summary and causes; it never contains a header value.
func (e *APIError) Error() string {
	if len(e.Causes) == 0 {
		return e.Summary
	}
	return e.Summary + ": " + strings.Join(e.Causes, "; ")
}

func validationError(causes ...string) *APIError {
	return &APIError{Status: http.StatusBadRequest, Code: "E0000001", Summary: "Api validation failed: eventHook", Causes: causes}
}

func notFound(id string) *APIError {
	return &APIError{Status: http.StatusNotFound, Code: "E0000007", Summary: "Not found: Resource not found: " + id + " (EventHook)"}
}

// Create validates and registers a hook as Okta's POST /api/v1/eventHooks does: it starts
// ACTIVE and UNVERIFIED, so it receives nothing until verified.
func (g *Registry) Create(h Hook, createdBy string) (Hook, error) {
	if err := g.validate(&h); err != nil {
		return Hook{}, err
	}
	now := g.cfg.Clock.Now().UTC()
	h.ID = "who" + randomHex(9)[:17]
	h.Status, h.VerificationStatus = StatusActive, Unverified
	h.Created, h.LastUpdated, h.CreatedBy = now, now, createdBy
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.activeCount() >= maxActiveHooks {
		return Hook{}, validationError(fmt.Sprintf("An org can have at most %d active event hooks.", maxActiveHooks))
	}
	g.hooks[h.ID] = &h
	g.order = append(g.order, h.ID)
	return g.view(&h), nil
}

// validate checks a hook definition and normalizes defaults.
func (g *Registry) validate(h *Hook) error {
	var causes []string
	if strings.TrimSpace(h.Name) == "" {
		causes = append(causes, "name: The field cannot be left blank.")
	}
	if h.Events.Type != "EVENT_TYPE" {
		causes = append(causes, "events.type: The value must be EVENT_TYPE.")
	}
	switch n := len(h.Events.Items); {
	case n == 0:
		causes = append(causes, "events.items: Subscribe to at least one event type.")
	case n > maxEventsPerHook:
		causes = append(causes, fmt.Sprintf("events.items: A hook can subscribe to at most %d event types.", maxEventsPerHook))
	}
	for _, t := range h.Events.Items {
		if !g.eligible[t] {
			causes = append(causes, fmt.Sprintf("events.items: %s is not eligible for event hooks.", t))
		}
	}
	h.Events.Items = dedupe(h.Events.Items)
	if h.Channel.Type != "HTTP" {
		causes = append(causes, "channel.type: The value must be HTTP.")
	}
	if h.Channel.Version != "1.0.0" {
		causes = append(causes, "channel.version: The value must be 1.0.0.")
	}
	if msg := g.checkURI(h.Channel.Config.URI); msg != "" {
		causes = append(causes, "channel.config.uri: "+msg)
	}
	if a := h.Channel.Config.AuthScheme; a != nil {
		if a.Type != "HEADER" || a.Key == "" || !validHeader(a.Key, a.Value) {
			causes = append(causes, "channel.config.authScheme: The type must be HEADER, with a header name and value.")
		}
	}
	for _, hd := range h.Channel.Config.Headers {
		if !validHeader(hd.Key, hd.Value) {
			causes = append(causes, fmt.Sprintf("channel.config.headers: %q is not a valid header.", hd.Key))
		}
	}
	if len(causes) > 0 {
		return validationError(causes...)
	}
	return nil
}

// dedupe drops repeated items, keeping the first of each in order.
func dedupe(items []string) []string {
	seen := make(map[string]bool, len(items))
	out := make([]string, 0, len(items))
	for _, it := range items {
		if !seen[it] {
			seen[it] = true
			out = append(out, it)
		}
	}
	return out
}

// checkURI returns why the receiver URI is refused, or "".
func (g *Registry) checkURI(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "The URI must be an absolute https URL."
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		host := u.Hostname()
		ip := net.ParseIP(host)
		if g.cfg.AllowHTTPLoopback && (host == "localhost" || ip != nil && ip.IsLoopback()) {
			return ""
		}
	}
	return "The URI must use HTTPS."
}

// validHeader reports whether a header name and value can be sent.
func validHeader(k, v string) bool {
	if k == "" || len(v) > maxHeaderValueLen || strings.ContainsAny(v, "\r\n\x00") {
		return false
	}
	for _, c := range k {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", c) {
			return false
		}
	}
	return true
}

// activeCount counts ACTIVE hooks. Callers hold mu.
func (g *Registry) activeCount() int {
	n := 0
	for _, h := range g.hooks {
		if h.Status == StatusActive {
			n++
		}
	}
	return n
}

// view copies a hook for output: links added, the auth secret removed.
func (g *Registry) view(h *Hook) Hook {
	c := *h
	c.Events.Items = slices.Clone(h.Events.Items)
	c.Channel.Config.Headers = slices.Clone(h.Channel.Config.Headers)
	if a := h.Channel.Config.AuthScheme; a != nil {
		c.Channel.Config.AuthScheme = &AuthScheme{Type: a.Type, Key: a.Key}
	}
	self := g.cfg.OrgURL + "/api/v1/eventHooks/" + h.ID
	post := &LinkHints{Allow: []string{http.MethodPost}}
	c.Links = map[string]Link{
		"self":   {Href: self, Hints: &LinkHints{Allow: []string{http.MethodGet, http.MethodPut, http.MethodDelete}}},
		"verify": {Href: self + "/lifecycle/verify", Hints: post},
	}
	if h.Status == StatusActive {
		c.Links["deactivate"] = Link{Href: self + "/lifecycle/deactivate", Hints: post}
	} else {
		c.Links["activate"] = Link{Href: self + "/lifecycle/activate", Hints: post}
	}
	return c
}

// Get returns the hook with id.
func (g *Registry) Get(id string) (Hook, error) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	h, ok := g.hooks[id]
	if !ok {
		return Hook{}, notFound(id)
	}
	return g.view(h), nil
}

// List returns every hook in creation order.
func (g *Registry) List() []Hook {
	g.mu.RLock()
	defer g.mu.RUnlock()
	out := make([]Hook, 0, len(g.order))
	for _, id := range g.order {
		out = append(out, g.view(g.hooks[id]))
	}
	return out
}

// setStatus activates or deactivates a hook.
func (g *Registry) setStatus(id, status string) (Hook, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	h, ok := g.hooks[id]
	if !ok {
		return Hook{}, notFound(id)
	}
	if status == StatusActive && h.Status != StatusActive && g.activeCount() >= maxActiveHooks {
		return Hook{}, validationError(fmt.Sprintf("An org can have at most %d active event hooks.", maxActiveHooks))
	}
	if h.Status != status {
		h.Status, h.LastUpdated = status, g.cfg.Clock.Now().UTC()
	}
	return g.view(h), nil
}

// Activate sets the hook ACTIVE.
func (g *Registry) Activate(id string) (Hook, error) { return g.setStatus(id, StatusActive) }

// Deactivate sets the hook INACTIVE; it receives nothing until activated again.
func (g *Registry) Deactivate(id string) (Hook, error) { return g.setStatus(id, StatusInactive) }

// Delete removes an INACTIVE hook; Okta refuses to delete an active one.
func (g *Registry) Delete(id string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	h, ok := g.hooks[id]
	if !ok {
		return notFound(id)
	}
	if h.Status != StatusInactive {
		return validationError("Only INACTIVE event hooks can be deleted; deactivate it first.")
	}
	delete(g.hooks, id)
	g.order = slices.DeleteFunc(g.order, func(x string) bool { return x == id })
	return nil
}

// randomHex returns 2n random hex digits.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// uuid returns a random RFC 4122 version 4 UUID.
func uuid() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

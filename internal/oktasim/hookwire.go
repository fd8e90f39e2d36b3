package oktasim

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/oktasim/hooks"
)

// configuredHookCreator is createdBy on hooks that came from the server's configuration.
const configuredHookCreator = "oktasim"

// newHooks builds the event hook registry with the configured hooks and mounts Okta's
// management API. Deliveries start with RunHooks.
func (s *Server) newHooks(cfg Config) error {
	orgURL := cfg.OrgURL
	if orgURL == "" {
		orgURL = "http://127.0.0.1"
	}
	reg, err := hooks.New(hooks.Config{OrgURL: orgURL, Clock: s.skewed, AllowHTTPLoopback: true,
		Client: cfg.HookClient, OnFailure: s.logHookFailure, Logger: s.log})
	if err != nil {
		return err
	}
	for i, h := range cfg.EventHooks {
		if len(h.Events.Items) == 0 {
			h.Events.Items = reg.EligibleTypes()
		}
		if _, err := reg.Create(h, configuredHookCreator); err != nil {
			return fmt.Errorf("event hook %d (%s): %w", i+1, h.Name, err)
		}
	}
	s.hooks = reg
	h := reg.Handler(func(_ http.ResponseWriter, r *http.Request, _ string) (string, bool) {
		// The server has already checked the permission the route needs.
		p, _ := PrincipalFrom(r.Context())
		if p.Kind == PrincipalToken {
			return p.AdminID, true
		}
		return p.ID, true
	}).ServeHTTP
	s.HandleAPI(http.MethodGet, "/api/v1/eventHooks", PermEventHooksRead, h)
	s.HandleAPI(http.MethodPost, "/api/v1/eventHooks", PermEventHooksManage, h)
	s.HandleAPI(http.MethodGet, "/api/v1/eventHooks/{id}", PermEventHooksRead, h)
	s.HandleAPI(http.MethodDelete, "/api/v1/eventHooks/{id}", PermEventHooksManage, h)
	s.HandleAPI(http.MethodPost, "/api/v1/eventHooks/{id}/lifecycle/{op}", PermEventHooksManage, h)
	return nil
}

// EventHooks returns the org's event hook registry.
func (s *Server) EventHooks() *hooks.Registry { return s.hooks }

// RunHooks delivers the events the org persists from now on to its event hooks until ctx ends.
// It first verifies the hooks that came from the configuration, as an admin would after
// creating them; a receiver that fails verification is logged and its hook stays UNVERIFIED.
func (s *Server) RunHooks(ctx context.Context) error {
	for _, h := range s.hooks.List() {
		if h.CreatedBy == configuredHookCreator && h.VerificationStatus == hooks.Unverified {
			if _, err := s.hooks.Verify(ctx, h.ID); err != nil {
				s.log.Warn("event hook verification failed; verify it later through the API", "hook", h.ID, "name", h.Name, "err", err)
			}
		}
	}
	s.hooksLive.Store(true)
	defer s.hooksLive.Store(false)
	window := s.cfg.HookBatchWindow
	if window == 0 {
		window = defaultHookBatchWindow
	}
	return s.hooks.Run(ctx, window, 0)
}

// publishToHooks hands a persisted event to the delivery runner when a hook wants it.
func (s *Server) publishToHooks(raw []byte, eventType string) {
	if !s.hooksLive.Load() || !s.hooks.Wants(eventType) {
		return
	}
	if err := s.hooks.Publish(raw); err != nil {
		s.log.Warn("event hook delivery dropped an event", "eventType", eventType, "err", err)
	}
}

// logHookFailure writes the event_hook.delivery System Log event Okta records for a delivery
// that failed after its retry. Okta does not document the event's contents; the hook is both
// actor and target and debugData carries what failed.
func (s *Server) logHookFailure(f hooks.Failure) {
	hook := event.Target{ID: f.HookID, Type: "EventHook", AlternateID: f.HookName, DisplayName: f.HookName}
	reason := f.Reason
	if f.Status != 0 {
		reason = "HTTP " + strconv.Itoa(f.Status) + ": " + reason
	}
	ev := &event.LogEvent{UUID: newUUID(), Published: s.clock.Now(), EventType: "event_hook.delivery", Version: "0",
		Severity: "ERROR", DisplayMessage: "Event hook delivery",
		Actor:   &event.Actor{ID: hook.ID, Type: hook.Type, AlternateID: hook.AlternateID, DisplayName: hook.DisplayName},
		Outcome: &event.Outcome{Result: "FAILURE", Reason: reason},
		DebugContext: &event.DebugContext{DebugData: map[string]any{"eventHookId": f.HookID, "eventId": f.EventID,
			"eventUuids": strings.Join(f.EventUUIDs, ","), "eventTypes": strings.Join(f.EventTypes, ","),
			"attempts": strconv.Itoa(f.Attempts), "responseStatus": strconv.Itoa(f.Status)}},
		Target: []event.Target{hook},
	}
	if err := s.Append(ev); err != nil {
		s.log.Error("write event hook delivery event", "err", err)
	}
}

// ParseEventHook reads a hook from the command-line form
// "uri=http://127.0.0.1:9000/okta,name=siem,events=user.session.start|user.lifecycle.suspend,auth=Authorization:secret,header=X-Env:test";
// a spec without "=" is just the URI. Without events the hook subscribes to every eligible type.
func ParseEventHook(spec string) (hooks.Hook, error) {
	h := hooks.Hook{Name: "sim hook", Events: hooks.Events{Type: "EVENT_TYPE"},
		Channel: hooks.Channel{Type: "HTTP", Version: "1.0.0"}}
	if !strings.Contains(spec, "=") {
		spec = "uri=" + spec
	}
	for part := range strings.SplitSeq(spec, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return hooks.Hook{}, fmt.Errorf("event hook: %q is not key=value", part)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "uri", "url":
			h.Channel.Config.URI = v
		case "name":
			h.Name = v
		case "events":
			for t := range strings.SplitSeq(v, "|") {
				if t = strings.TrimSpace(t); t != "" {
					h.Events.Items = append(h.Events.Items, t)
				}
			}
		case "auth", "header":
			name, value, ok := strings.Cut(v, ":")
			if !ok || strings.TrimSpace(name) == "" {
				return hooks.Hook{}, fmt.Errorf("event hook: %s needs Name:Value, e.g. %s=Authorization:secret", k, k)
			}
			name, value = strings.TrimSpace(name), strings.TrimSpace(value)
			if k == "auth" {
				h.Channel.Config.AuthScheme = &hooks.AuthScheme{Type: "HEADER", Key: name, Value: value}
			} else {
				h.Channel.Config.Headers = append(h.Channel.Config.Headers, hooks.Header{Key: name, Value: value})
			}
		default:
			return hooks.Hook{}, fmt.Errorf("event hook: unknown key %q (use uri, name, events, auth, header)", k)
		}
	}
	if h.Channel.Config.URI == "" {
		return hooks.Hook{}, fmt.Errorf("event hook: no uri given")
	}
	return h, nil
}

package oktasim

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// ControlKeyHeader carries the control key on /_sim/ requests.
const ControlKeyHeader = "X-Oktasim-Control-Key"

// maxControlBody bounds control request bodies (event batches).
const maxControlBody = 64 << 20

// registerControl sets up the /_sim/ control API, which is oktasim's own, not Okta's.
func (s *Server) registerControl() {
	c := s.control
	c.HandleFunc("GET /_sim/storylines", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Storylines())
	})
	c.HandleFunc("POST /_sim/storylines", s.controlInject)
	c.HandleFunc("GET /_sim/truth", func(w http.ResponseWriter, r *http.Request) {
		_, pending := s.EventCount()
		writeJSON(w, http.StatusOK, map[string]any{"visible": s.VisibleUUIDs(), "pending": pending,
			"storylines": s.StoryTruths()})
	})
	c.HandleFunc("GET /_sim/requests", func(w http.ResponseWriter, r *http.Request) {
		var after uint64
		if a := r.URL.Query().Get("after"); a != "" {
			n, err := strconv.ParseUint(a, 10, 64)
			if err != nil {
				writeAPIError(w, errValidation("after", "must be a request sequence number"))
				return
			}
			after = n
		}
		writeJSON(w, http.StatusOK, s.RequestLog(after))
	})
	c.HandleFunc("GET /_sim/ratelimits", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.RateLimits())
	})
	c.HandleFunc("PUT /_sim/ratelimits", func(w http.ResponseWriter, r *http.Request) {
		var cfg RateLimitConfig
		if !decodeControlBody(w, r, &cfg) {
			return
		}
		if err := s.SetRateLimits(cfg); err != nil {
			writeAPIError(w, errValidation("ratelimits", err.Error()))
			return
		}
		writeJSON(w, http.StatusOK, s.RateLimits())
	})
	c.HandleFunc("POST /_sim/events", s.controlAppend)
	c.HandleFunc("POST /_sim/tokens", func(w http.ResponseWriter, r *http.Request) {
		var req APIToken
		if !decodeControlBody(w, r, &req) {
			return
		}
		if apiErr := checkGrants(req.Roles, req.Permissions); apiErr != nil {
			writeAPIError(w, apiErr)
			return
		}
		if req.AdminID != "" {
			info, secret := s.ssws.Add(req)
			writeJSON(w, http.StatusCreated, map[string]any{"id": info.ID, "name": info.Name, "adminId": info.AdminID, "roles": info.Roles, "token": secret})
			return
		}
		// Without an admin id the token's admin becomes a directory user, as in a real org.
		_, info, secret, err := s.AddAdmin(User{AdminRoles: req.Roles, Permissions: req.Permissions}, req.Name)
		if err != nil {
			writeAPIError(w, errValidation("adminId", err.Error()))
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"id": info.ID, "name": info.Name, "adminId": info.AdminID, "roles": info.Roles, "token": secret})
	})
}

// checkGrants refuses roles and permissions oktasim does not know.
func checkGrants(roles []Role, perms []Permission) *APIError {
	for _, role := range roles {
		if _, ok := RolePermissions(role); !ok {
			return errValidation("roles", fmt.Sprintf("unknown role %q", role))
		}
	}
	for _, perm := range perms {
		if !slices.Contains(allPermissions, perm) {
			return errValidation("permissions", fmt.Sprintf("unknown permission %q", perm))
		}
	}
	return nil
}

func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get(ControlKeyHeader)
	if s.cfg.ControlKey == "" || subtle.ConstantTimeCompare([]byte(key), []byte(s.cfg.ControlKey)) != 1 {
		writeAPIError(w, newAPIError(http.StatusUnauthorized, "E0000011", "Invalid control key",
			ControlKeyHeader+": send the control key given when the simulator started"))
		return
	}
	if _, pattern := s.control.Handler(r); pattern == "" {
		writeAPIError(w, errNotFound(r.Method+" "+r.URL.Path))
		return
	}
	s.control.ServeHTTP(w, r)
}

func decodeControlBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxControlBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeAPIError(w, newAPIError(http.StatusBadRequest, "E0000003", "The request body was not well-formed.", err.Error()))
		return false
	}
	return true
}

func (s *Server) controlInject(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name string    `json:"name"`
		At   time.Time `json:"at"`
	}
	if !decodeControlBody(w, r, &req) {
		return
	}
	if req.At.IsZero() {
		req.At = s.clock.Now()
	}
	truth, err := s.InjectStoryline(req.Name, req.At)
	if err != nil {
		writeAPIError(w, errValidation("name", err.Error()))
		return
	}
	writeJSON(w, http.StatusCreated, truth)
}

// controlAppend appends raw events: one JSON object or an array. ?delay= makes them visible that
// much later (a Go duration such as 5m).
func (s *Server) controlAppend(w http.ResponseWriter, r *http.Request) {
	var delay time.Duration
	if d := r.URL.Query().Get("delay"); d != "" {
		var err error
		if delay, err = time.ParseDuration(d); err != nil || delay < 0 {
			writeAPIError(w, errValidation("delay", "must be a non-negative duration such as 90s or 5m"))
			return
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxControlBody))
	if err != nil {
		writeAPIError(w, newAPIError(http.StatusRequestEntityTooLarge, "E0000003", "The request body was not well-formed.", err.Error()))
		return
	}
	var batch []json.RawMessage
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '{' {
		batch = []json.RawMessage{trimmed}
	} else if err := json.Unmarshal(body, &batch); err != nil {
		writeAPIError(w, newAPIError(http.StatusBadRequest, "E0000003", "The request body was not well-formed.",
			"send one event object or an array of them: "+err.Error()))
		return
	}
	uuids := make([]string, 0, len(batch))
	for i, raw := range batch {
		id, err := s.AppendRaw(raw, delay)
		if err != nil {
			writeAPIError(w, errValidation(fmt.Sprintf("events[%d]", i), err.Error()))
			return
		}
		uuids = append(uuids, id)
	}
	writeJSON(w, http.StatusCreated, map[string]any{"uuids": uuids})
}

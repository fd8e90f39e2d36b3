package hooks

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// Scopes the management API requires.
const (
	ScopeRead   = "okta.eventHooks.read"
	ScopeManage = "okta.eventHooks.manage"
)

// Authorizer decides whether a request may use the event hook API with scope. It returns
// the actor (the admin user id or OAuth client id, recorded as createdBy) and true, or
// writes Okta's error response itself and returns false.
type Authorizer func(w http.ResponseWriter, r *http.Request, scope string) (actor string, ok bool)

// maxHookBytes bounds a hook definition in a request body.
const maxHookBytes = 256 << 10

// apiPrefix is where Okta serves the event hook API.
const apiPrefix = "/api/v1/eventHooks"

// Handler serves Okta's event hook management API; mount it at /api/v1/eventHooks and
// /api/v1/eventHooks/:
//
//	GET    /api/v1/eventHooks                          list (okta.eventHooks.read)
//	POST   /api/v1/eventHooks                          create (okta.eventHooks.manage)
//	GET    /api/v1/eventHooks/{id}                     get
//	DELETE /api/v1/eventHooks/{id}                     delete an INACTIVE hook → 204
//	POST   /api/v1/eventHooks/{id}/lifecycle/activate|deactivate|verify
func (g *Registry) Handler(authorize Authorizer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, apiPrefix)
		if !ok {
			writeAPIError(w, notFound(r.URL.Path))
			return
		}
		parts := strings.Split(strings.Trim(rest, "/"), "/")
		if parts[0] == "" {
			parts = nil
		}
		scope := ScopeManage
		if r.Method == http.MethodGet {
			scope = ScopeRead
		}
		route, id := routeOf(r.Method, parts)
		if route == "" {
			writeAPIError(w, &APIError{Status: http.StatusMethodNotAllowed, Code: "E0000022", Summary: "The endpoint does not support the provided HTTP method"})
			return
		}
		actor, ok := authorize(w, r, scope)
		if !ok {
			return
		}
		var (
			h   Hook
			err error
		)
		switch route {
		case "list":
			writeJSON(w, http.StatusOK, g.List())
			return
		case "create":
			h, err = g.createFromRequest(r, actor)
		case "get":
			h, err = g.Get(id)
		case "delete":
			if err = g.Delete(id); err == nil {
				w.WriteHeader(http.StatusNoContent)
				return
			}
		case "activate":
			h, err = g.Activate(id)
		case "deactivate":
			h, err = g.Deactivate(id)
		case "verify":
			h, err = g.Verify(r.Context(), id)
		}
		if err != nil {
			writeAPIError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, h)
	})
}

// routeOf maps a method and path segments to an operation and hook id.
func routeOf(method string, parts []string) (route, id string) {
	switch {
	case len(parts) == 0 && method == http.MethodGet:
		return "list", ""
	case len(parts) == 0 && method == http.MethodPost:
		return "create", ""
	case len(parts) == 1 && method == http.MethodGet:
		return "get", parts[0]
	case len(parts) == 1 && method == http.MethodDelete:
		return "delete", parts[0]
	case len(parts) == 3 && parts[1] == "lifecycle" && method == http.MethodPost:
		switch parts[2] {
		case "activate", "deactivate", "verify":
			return parts[2], parts[0]
		}
	}
	return "", ""
}

// createFromRequest decodes a hook definition and creates it.
func (g *Registry) createFromRequest(r *http.Request, actor string) (Hook, error) {
	var h Hook
	body, err := io.ReadAll(io.LimitReader(r.Body, maxHookBytes+1))
	if err != nil || len(body) > maxHookBytes || json.Unmarshal(body, &h) != nil {
		return Hook{}, &APIError{Status: http.StatusBadRequest, Code: "E0000003", Summary: "The request body was not well-formed."}
	}
	return g.Create(h, actor)
}

// writeAPIError renders an error as Okta's error object.
func writeAPIError(w http.ResponseWriter, err error) {
	var e *APIError
	if !errors.As(err, &e) {
		e = &APIError{Status: http.StatusInternalServerError, Code: "E0000009", Summary: "Internal Server Error"}
	}
	causes := make([]map[string]string, 0, len(e.Causes))
	for _, c := range e.Causes {
		causes = append(causes, map[string]string{"errorSummary": c})
	}
	writeJSON(w, e.Status, map[string]any{
		"errorCode": e.Code, "errorSummary": e.Summary, "errorLink": e.Code,
		"errorId": "oae" + randomHex(11), "errorCauses": causes,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

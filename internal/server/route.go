package server

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/idwatch/idwatch/internal/store"
)

// HandlerFunc handles one API request. It writes its own success response; an error it returns
// is answered by the server: a *RequestError (see Fail) as given, anything else as a 500 whose
// text is logged and never sent.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Route is one entry of the route table: adding an endpoint is adding one Route (and its
// operation in openapi.yaml; a test fails when the two differ).
type Route struct {
	// Method is GET, POST, PUT, PATCH or DELETE (GET also answers HEAD).
	Method string
	// Pattern is a net/http ServeMux path pattern such as /api/v1/integrations/{id}.
	Pattern string
	// Role is the least role that may call the route; ignored when Public.
	Role store.Role
	// Public routes need no API key (health, the API document); /metrics checks its own access.
	Public bool
	// OperationID names the route's operation in the OpenAPI document.
	OperationID string
	Handler     HandlerFunc
}

func (rt Route) validate() error {
	switch rt.Method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return fmt.Errorf("server: route %s %s: method must be GET, POST, PUT, PATCH or DELETE", rt.Method, rt.Pattern)
	}
	if !strings.HasPrefix(rt.Pattern, "/") || strings.ContainsAny(rt.Pattern, " \t") {
		return fmt.Errorf("server: route %s %q: the pattern must be a path starting with /", rt.Method, rt.Pattern)
	}
	if !rt.Public && rt.Role.Validate() != nil {
		return fmt.Errorf("server: route %s %s: role %q is not admin, analyst or viewer", rt.Method, rt.Pattern, rt.Role)
	}
	if rt.OperationID == "" || rt.Handler == nil {
		return fmt.Errorf("server: route %s %s needs an OperationID and a Handler", rt.Method, rt.Pattern)
	}
	return nil
}

// builtinRoutes is the route table of this package.
func (s *Server) builtinRoutes() []Route {
	const v1 = "/api/v1"
	viewer, admin := store.RoleViewer, store.RoleAdmin
	return append([]Route{
		{Method: "GET", Pattern: "/healthz", Public: true, OperationID: "getHealthz", Handler: s.healthz},
		{Method: "GET", Pattern: "/readyz", Public: true, OperationID: "getReadyz", Handler: s.readyz},
		{Method: "GET", Pattern: "/metrics", Public: true, OperationID: "getMetrics", Handler: s.metrics},
		{Method: "GET", Pattern: v1 + "/openapi.json", Public: true, OperationID: "getOpenAPI", Handler: s.openapi},
		{Method: "GET", Pattern: v1 + "/whoami", Role: viewer, OperationID: "getWhoami", Handler: s.whoami},
		{Method: "GET", Pattern: v1 + "/integrations", Role: viewer, OperationID: "listIntegrations", Handler: s.listIntegrations},
		{Method: "POST", Pattern: v1 + "/integrations", Role: admin, OperationID: "createIntegration", Handler: s.createIntegration},
		{Method: "GET", Pattern: v1 + "/integrations/{name}", Role: viewer, OperationID: "getIntegration", Handler: s.getIntegration},
		{Method: "DELETE", Pattern: v1 + "/integrations/{name}", Role: admin, OperationID: "deleteIntegration", Handler: s.deleteIntegration},
		{Method: "PUT", Pattern: v1 + "/integrations/{name}/credentials", Role: admin, OperationID: "updateIntegrationCredentials", Handler: s.updateCredentials},
		{Method: "POST", Pattern: v1 + "/integrations/{name}/verify", Role: admin, OperationID: "verifyIntegration", Handler: s.verifyIntegration},
		{Method: "POST", Pattern: v1 + "/integrations/{name}/enable", Role: admin, OperationID: "enableIntegration", Handler: s.enableIntegration},
		{Method: "POST", Pattern: v1 + "/integrations/{name}/disable", Role: admin, OperationID: "disableIntegration", Handler: s.disableIntegration},
		{Method: "POST", Pattern: v1 + "/integrations/{name}/backfill", Role: admin, OperationID: "startBackfill", Handler: s.startBackfill},
		{Method: "GET", Pattern: v1 + "/integrations/{name}/backfill", Role: viewer, OperationID: "getBackfill", Handler: s.getBackfill},
		{Method: "DELETE", Pattern: v1 + "/integrations/{name}/backfill", Role: admin, OperationID: "cancelBackfill", Handler: s.cancelBackfill},
	}, slices.Concat(s.incidentRoutes(), s.eventRoutes(), s.alertRoutes(), s.suppressionRoutes(), s.sinkRoutes(), s.ruleRoutes(), s.identityRoutes(), s.responseRoutes())...)
}

// Package server is idwatch's REST API: the HTTP listener of `idwatch serve`, API keys and roles,
// the integrations routes, health, readiness and Prometheus metrics, and the OpenAPI document.
//
// Contract for code built on it:
//
//   - New(Options) builds a Server; Listen then Serve (or Run) serve it until the context ends,
//     with a graceful shutdown. Handler returns the whole server as an http.Handler for tests.
//   - A route is one Route entry (method, ServeMux path pattern, least role, OperationID,
//     HandlerFunc) passed in Options.Routes or to Register, plus its operation in openapi.yaml;
//     the tests walk every route with every role and with no key, and fail when the route table
//     and the document differ.
//   - A HandlerFunc writes its success with WriteJSON and returns errors: a *RequestError (Fail)
//     is sent as the one error shape {"error":{"code","message","fix","field"}}; any other error
//     is logged and answered with a 500 that does not repeat it. DecodeJSON reads exactly one JSON
//     object, refusing unknown fields and bodies over server.max_body_bytes (413).
//   - PrincipalFrom(ctx) is the API key a request acts as; Authenticate checks a bearer key for
//     callers that authenticate outside the route table (the console's own pages).
//   - MountConsole serves an http.Handler for every path outside /api/, /metrics, /healthz and
//     /readyz; MountHooks serves an http.Handler, without API keys, under its own prefix.
//   - Readiness collects the state of the service's parts for /readyz.
//
// Secrets never leave through this package: responses carry IntegrationView (no credentials),
// API keys are stored as SHA-256 hashes and shown once when created, and internal errors stay in
// the log.
package server

package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
)

// Invoke runs the API route registered for method and pattern in this process, as p, so that
// another front end (the console) gets exactly the API's validation, storage and answers
// without holding an API key. values fill the pattern's {wildcards}; body, when not nil, is
// sent as JSON; a 2xx answer is decoded into out (when not nil) and so is a 4xx that is not an
// error body (e.g. a 422 carrying a failed verification). The route's role is checked against
// p. Errors are *RequestError as the API would send them, or the handler's internal error.
func (s *Server) Invoke(ctx context.Context, p Principal, method, pattern string, values map[string]string, body, out any) (int, error) {
	return s.InvokeQuery(ctx, p, method, pattern, values, nil, body, out)
}

// InvokeQuery is Invoke with a query string (a search's filters).
func (s *Server) InvokeQuery(ctx context.Context, p Principal, method, pattern string, values map[string]string, query url.Values, body, out any) (int, error) {
	s.mu.Lock()
	rt := s.byPath[pattern][method]
	s.mu.Unlock()
	if rt == nil {
		return 0, fmt.Errorf("server: no route %s %s", method, pattern)
	}
	if !rt.Public && !p.Can(rt.Role) {
		re := Fail(http.StatusForbidden, CodeForbidden, fmt.Sprintf("this needs the %s role; %q has the %s role", rt.Role, p.Name, p.Role),
			fmt.Sprintf("use a key with the %s role", rt.Role), "")
		return re.Status, re
	}
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	path := pattern
	for k, v := range values {
		path = strings.ReplaceAll(path, "{"+k+"}", url.PathEscape(v))
	}
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	r, err := http.NewRequestWithContext(withPrincipal(ctx, p), method, "http://idwatch.internal"+path, rd)
	if err != nil {
		return 0, err
	}
	r.RemoteAddr = "127.0.0.1:0" // in process
	for k, v := range values {
		r.SetPathValue(k, v)
	}
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	if err := rt.Handler(w, r); err != nil {
		if re := (*RequestError)(nil); errors.As(err, &re) {
			return re.Status, re
		}
		return http.StatusInternalServerError, err
	}
	res := w.Result()
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, err
	}
	if res.StatusCode >= 400 {
		var eb errorBody
		if json.Unmarshal(raw, &eb) == nil && eb.Error.Code != "" {
			return res.StatusCode, &RequestError{Status: res.StatusCode, Body: eb.Error}
		}
	}
	if out != nil && len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return res.StatusCode, fmt.Errorf("server: %s %s answered unreadable JSON: %w", method, pattern, err)
		}
	}
	return res.StatusCode, nil
}

// ClientAddr is the request's client address: the connection's peer, or the right-most address
// of X-Forwarded-For that is not a trusted proxy (server.trusted_proxies).
func (s *Server) ClientAddr(r *http.Request) netip.Addr { return s.clientAddr(r) }

package oktasim

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
)

// APIError is Okta's error object. It is both a Go error and the body a failed request gets.
type APIError struct {
	Status       int          `json:"-"`
	ErrorCode    string       `json:"errorCode"`
	ErrorSummary string       `json:"errorSummary"`
	ErrorLink    string       `json:"errorLink"`
	ErrorID      string       `json:"errorId"`
	ErrorCauses  []ErrorCause `json:"errorCauses"`
}

// ErrorCause is one entry of an error object's errorCauses.
type ErrorCause struct {
	ErrorSummary string `json:"errorSummary"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.ErrorCode, e.ErrorSummary)
}

// newAPIError builds an error object; causes become errorCauses entries.
func newAPIError(status int, code, summary string, causes ...string) *APIError {
	e := &APIError{Status: status, ErrorCode: code, ErrorSummary: summary, ErrorLink: code,
		ErrorCauses: []ErrorCause{}}
	for _, c := range causes {
		e.ErrorCauses = append(e.ErrorCauses, ErrorCause{ErrorSummary: c})
	}
	return e
}

// The error codes oktasim answers with, as catalogued by Okta.
func errValidation(param, cause string) *APIError {
	return newAPIError(http.StatusBadRequest, "E0000001", "Api validation failed: "+param, param+": "+cause)
}

func errInvalidToken() *APIError {
	return newAPIError(http.StatusUnauthorized, "E0000011", "Invalid token provided")
}

func errAccessDenied() *APIError {
	return newAPIError(http.StatusForbidden, "E0000006", "You do not have permission to perform the requested action")
}

func errNotFound(what string) *APIError {
	return newAPIError(http.StatusNotFound, "E0000007", "Not found: "+what)
}

func errMethodNotAllowed(method string) *APIError {
	return newAPIError(http.StatusMethodNotAllowed, "E0000022", "The endpoint does not support the provided HTTP method",
		"method: "+method+" is not supported")
}

func errRateLimited() *APIError {
	return newAPIError(http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.")
}

func errInvalidSearch(cause string) *APIError {
	return newAPIError(http.StatusBadRequest, "E0000031", "Invalid search criteria.", cause)
}

func errSearchAndFilter() *APIError {
	return newAPIError(http.StatusBadRequest, "E0000033", "Search and filter are not allowed at the same time.")
}

func errInvalidSCIM(cause string) *APIError {
	return newAPIError(http.StatusBadRequest, "E0000053", "Invalid search criteria.", cause)
}

func errInternal() *APIError {
	return newAPIError(http.StatusInternalServerError, "E0000009", "Internal Server Error")
}

// writeAPIError sends e with a fresh errorId.
func writeAPIError(w http.ResponseWriter, e *APIError) {
	c := *e
	c.ErrorID = "oae" + randomID(22)
	writeJSON(w, c.Status, &c)
}

// writeJSON sends v as the JSON body with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"errorCode":"E0000009","errorSummary":"Internal Server Error","errorLink":"E0000009","errorId":"oae0","errorCauses":[]}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomID returns n random characters from [A-Za-z0-9], the shape of Okta ids and request ids.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b)
}

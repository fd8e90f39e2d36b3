package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Error is the body of every error response: {"error": {...}}.
type Error struct {
	// Code is a stable machine-readable name (e.g. "unauthorized", "invalid_field").
	Code string `json:"code"`
	// Message says what is wrong; Fix says what to do; Field names the request field at fault.
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
	Field   string `json:"field,omitempty"`
}

type errorBody struct {
	Error Error `json:"error"`
}

// Error codes used by the framework.
const (
	CodeBadRequest       = "bad_request"
	CodeInvalidField     = "invalid_field"
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeConflict         = "conflict"
	CodeTooLarge         = "body_too_large"
	CodeUnsupported      = "unsupported_media_type"
	CodeInternal         = "internal"
	CodeUnavailable      = "unavailable"
)

// WriteJSON writes v as JSON with the status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"the response could not be encoded"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// WriteError writes the one error shape.
func WriteError(w http.ResponseWriter, status int, code, message, fix, field string) {
	WriteJSON(w, status, errorBody{Error{Code: code, Message: message, Fix: fix, Field: field}})
}

// RequestError is an error a handler returns to say the request was wrong (4xx); anything else a
// handler returns is logged and answered with a 500 that does not repeat it.
type RequestError struct {
	Status int
	Body   Error
}

// Error implements error.
func (e *RequestError) Error() string { return e.Body.Message }

// Fail builds a RequestError.
func Fail(status int, code, message, fix, field string) *RequestError {
	return &RequestError{Status: status, Body: Error{Code: code, Message: message, Fix: fix, Field: field}}
}

// DecodeJSON reads the request body as exactly one JSON object into v, refusing unknown fields,
// a second value after the first, another content type, and bodies over the server's limit. Its
// error is a *RequestError ready for WriteRequestError.
func DecodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return Fail(http.StatusUnsupportedMediaType, CodeUnsupported, fmt.Sprintf("content type %q is not JSON", ct), "send the body as application/json", "")
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return decodeError(err)
		}
		return Fail(http.StatusBadRequest, CodeBadRequest, "the body holds more than one JSON value", "send exactly one JSON object", "")
	}
	return nil
}

func decodeError(err error) *RequestError {
	var (
		tooBig *http.MaxBytesError
		syn    *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooBig):
		return Fail(http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("the body is over %d bytes", tooBig.Limit),
			"send a smaller body (server.max_body_bytes sets the limit)", "")
	case errors.Is(err, io.EOF):
		return Fail(http.StatusBadRequest, CodeBadRequest, "the body is empty", "send a JSON object", "")
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return Fail(http.StatusBadRequest, CodeBadRequest, "the body is not valid JSON", "send one JSON object", "")
	case errors.As(err, &typ):
		return Fail(http.StatusBadRequest, CodeInvalidField, fmt.Sprintf("%s is %s; want %s", typ.Field, typ.Value, typ.Type), "send the field with the type the API document gives", typ.Field)
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		f = strings.Trim(f, `"`)
		return Fail(http.StatusBadRequest, CodeInvalidField, fmt.Sprintf("unknown field %q", f), "remove it; the API document (/api/v1/openapi.json) lists the fields", f)
	}
	return Fail(http.StatusBadRequest, CodeBadRequest, "the body could not be read as the expected JSON object", "send one JSON object with the documented fields", "")
}

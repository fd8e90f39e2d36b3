package okta

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
)

// ErrorKind classifies an Okta failure by what the user has to change. Kinds are errors
// themselves, so errors.Is(err, okta.KindRateLimited) works on any error wrapping an *APIError.
type ErrorKind int

// The error kinds, from the decoded Okta error object, OAuth error or WWW-Authenticate challenge.
const (
	KindOther         ErrorKind = iota // anything not listed below
	KindInvalidToken                   // API token or access token invalid, expired or revoked (E0000011, invalid_token)
	KindPermission                     // admin role lacks the permission (E0000006)
	KindScope                          // OAuth scope not granted or not requested (insufficient_scope, invalid_scope)
	KindInvalidClient                  // service app or client assertion rejected (invalid_client)
	KindRateLimited                    // rate limit exhausted (429, E0000047)
	KindDPoP                           // DPoP proof rejected or required (invalid_dpop_proof, use_dpop_nonce)
	KindNotFound                       // object does not exist (404, E0000007)
	KindValidation                     // bad request parameters (E0000001, E0000053, E0000031, ...)
	KindServer                         // Okta-side failure (5xx)
)

var kindNames = [...]string{"other", "invalid token", "missing permission", "missing scope", "invalid client", "rate limited", "DPoP", "not found", "validation", "server error"}

// String names the kind.
func (k ErrorKind) String() string {
	if int(k) < len(kindNames) && k >= 0 {
		return kindNames[k]
	}
	return "unknown"
}

// Error makes a kind usable as an errors.Is target.
func (k ErrorKind) Error() string { return "okta: " + k.String() }

// APIError is a failed Okta call, decoded from the Okta error object or OAuth error body and the
// WWW-Authenticate header. It never carries credentials.
type APIError struct {
	Kind   ErrorKind
	Status int
	// Method and Path identify the call (the path has no query string).
	Method string
	Path   string
	// Code is Okta's errorCode (E0000011, ...); branch on it, not on Summary.
	Code    string
	Summary string
	Causes  []string
	// ErrorID is Okta's per-request troubleshooting id (errorId).
	ErrorID string
	// OAuthError and OAuthDescription are the OAuth error and error_description (body or challenge).
	OAuthError       string
	OAuthDescription string
	// Scope is the scope a challenge says is required, when Okta names one.
	Scope string
	// RequestID is the X-Okta-Request-Id of the response.
	RequestID string
	// RetryAt is, for rate-limit errors, the local time when the bucket resets.
	RetryAt time.Time
	// ServiceApp is true when the call authenticated as an OAuth service app (else an API token).
	ServiceApp bool
}

// Error summarises the failure on one line.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "okta %s %s: %d", e.Method, e.Path, e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.OAuthError != "" {
		b.WriteString(" " + e.OAuthError)
	}
	switch {
	case e.Summary != "":
		b.WriteString(": " + e.Summary)
	case e.OAuthDescription != "":
		b.WriteString(": " + e.OAuthDescription)
	}
	if len(e.Causes) > 0 {
		b.WriteString(" (" + strings.Join(e.Causes, "; ") + ")")
	}
	if !e.RetryAt.IsZero() {
		b.WriteString("; resets at " + e.RetryAt.UTC().Format(time.RFC3339))
	}
	if e.ErrorID != "" {
		b.WriteString(" [errorId " + e.ErrorID + "]")
	}
	return b.String()
}

// Is matches the error's kind.
func (e *APIError) Is(target error) bool {
	k, ok := target.(ErrorKind)
	return ok && k == e.Kind
}

// Fix tells the user what to change, in the Okta admin console or in idwatch, to clear the error.
func (e *APIError) Fix() string {
	desc := strings.ToLower(e.OAuthError + " " + e.OAuthDescription + " " + e.Summary)
	switch e.Kind {
	case KindInvalidToken:
		if e.ServiceApp {
			return "Okta rejected the access token. Check that the API Services app is active (Admin Console > Applications > Applications) and not revoked; idwatch fetches a new token automatically, so a repeat means the app or its grants changed."
		}
		return "The API token is invalid, revoked, expired (30 days unused) or its admin was deactivated. Create a new token in Admin Console > Security > API > Tokens while signed in as the admin the integration should act as, and update the integration."
	case KindPermission:
		who := "the admin who created the API token"
		if e.ServiceApp {
			who = "the service app (Applications > your app > Admin roles)"
		}
		return fmt.Sprintf("Okta denied %s %s: %s lacks the permission. In Admin Console > Security > Administrators, assign %s Read-Only Administrator (or Report Administrator for System Log only) and, for response actions, the custom role with \"edit users' lifecycle states\" and \"edit users' authenticator operations\".", e.Method, e.Path, who, who)
	case KindScope:
		scope := e.Scope
		if scope == "" {
			scope = "the scope this call needs (okta.logs.read, okta.users.read, okta.roles.read, okta.schemas.read, okta.groups.read or okta.users.manage)"
		}
		if strings.Contains(desc, "no scopes") {
			return "No scopes were requested: give the integration okta.logs.read (leave --scopes out and idwatch requests what its features need)."
		}
		return fmt.Sprintf("The service app is missing %s. Grant it in Admin Console > Applications > your app > Okta API Scopes, or turn off the feature that needs it (idwatch integrations update NAME --features ...).", scope)
	case KindInvalidClient:
		return invalidClientFix(desc)
	case KindRateLimited:
		when := "the reset time Okta reports"
		if !e.RetryAt.IsZero() {
			when = e.RetryAt.UTC().Format(time.RFC3339)
		}
		return fmt.Sprintf("Okta's rate limit for %s is used up (the bucket is shared by every tool using this org). idwatch waits until %s; if this repeats, lower the share other integrations use or raise this token's or app's rate-limit percentage in Admin Console > Security > API (Rate limits).", e.Path, when)
	case KindDPoP:
		switch {
		case strings.Contains(desc, "too_old") || strings.Contains(desc, "future") || strings.Contains(desc, "iat"):
			return "Okta rejected the DPoP proof's timestamp: synchronise this host's clock (NTP); proofs must be less than 5 minutes old."
		case strings.Contains(desc, "missing"), strings.Contains(desc, "required"):
			return "The app requires DPoP: in the integration, do not disable DPoP (Okta's app setting \"Require Demonstrating Proof of Possession (DPoP) header in token requests\" is on)."
		}
		return "Okta rejected the DPoP proof. Check that \"Require Demonstrating Proof of Possession (DPoP) header in token requests\" on the app matches the integration's DPoP setting, and that this host's clock is correct."
	case KindNotFound:
		return fmt.Sprintf("Okta has no object at %s: check the user, group or schema id (a deleted user is gone for good).", e.Path)
	case KindValidation:
		return "Okta rejected the request parameters; correct the query (filter syntax, since within 180 days, keyword length, user state for lifecycle actions) as the message above describes."
	case KindServer:
		return "Okta had a server-side failure; idwatch retries automatically. If it persists, check Okta's status page and contact Okta support with the errorId."
	}
	return "Unexpected response from Okta; check the org URL and any proxy between idwatch and Okta."
}

func invalidClientFix(desc string) string {
	switch {
	case strings.Contains(desc, "private_key_jwt"):
		return "The app authenticates with a client secret: in Admin Console > Applications > your app > General, set Client authentication to \"Public key / Private key\" and add the public key idwatch uses."
	case strings.Contains(desc, "kid") || strings.Contains(desc, "jwks") || strings.Contains(desc, "key"):
		return "The client assertion's key id or key does not match: in Applications > your app > General > Public keys, check that the KID configured in idwatch is listed and active, and that idwatch has the matching private key."
	case strings.Contains(desc, "signature"):
		return "The client assertion's signature does not verify: the private key in idwatch is not the one whose public key is registered on the app; upload the matching public key or fix the private key."
	case strings.Contains(desc, "expire") || strings.Contains(desc, "future") || strings.Contains(desc, "issued"):
		return "The client assertion's timestamps were rejected: synchronise this host's clock (NTP)."
	case strings.Contains(desc, "client_credentials") || strings.Contains(desc, "grant"):
		return "The app is not allowed to use client credentials: create it as an API Services app and enable the Client Credentials grant."
	}
	return "Okta rejected the service app: check the client id in idwatch against Admin Console > Applications > your app > General, that the app is active, and that its Client authentication is \"Public key / Private key\"."
}

// oktaErrorBody is the union of Okta's error object and the OAuth 2.0 error response.
type oktaErrorBody struct {
	ErrorCode        string            `json:"errorCode"`
	ErrorSummary     string            `json:"errorSummary"`
	ErrorID          string            `json:"errorId"`
	ErrorCauses      []json.RawMessage `json:"errorCauses"`
	Error            string            `json:"error"`
	ErrorDescription string            `json:"error_description"`
}

// DecodeError builds an *APIError from a failed response's status, headers and body. It accepts
// any bytes: an unparseable body still gives an error classified by status.
func DecodeError(status int, h http.Header, body []byte) *APIError {
	e := &APIError{Status: status, RequestID: clean(h.Get("X-Okta-Request-Id"), 64)}
	var b oktaErrorBody
	if json.Unmarshal(body, &b) == nil {
		e.Code = clean(b.ErrorCode, 32)
		e.Summary = clean(b.ErrorSummary, 500)
		e.ErrorID = clean(b.ErrorID, 64)
		e.OAuthError = clean(b.Error, 64)
		e.OAuthDescription = clean(b.ErrorDescription, 500)
		for _, c := range b.ErrorCauses {
			var cause struct {
				ErrorSummary string `json:"errorSummary"`
			}
			if json.Unmarshal(c, &cause) == nil && cause.ErrorSummary != "" && len(e.Causes) < 10 {
				e.Causes = append(e.Causes, clean(cause.ErrorSummary, 300))
			}
		}
	}
	if ch, ok := challengeError(ParseChallenges(h.Values("WWW-Authenticate"))); ok {
		if e.OAuthError == "" {
			e.OAuthError = clean(ch.Params["error"], 64)
			e.OAuthDescription = clean(ch.Params["error_description"], 500)
		}
		e.Scope = clean(ch.Params["scope"], 200)
	}
	e.Kind = classify(e)
	return e
}

func classify(e *APIError) ErrorKind {
	oe := strings.ToLower(e.OAuthError)
	desc := strings.ToLower(e.OAuthDescription)
	switch {
	case e.Status == http.StatusTooManyRequests || e.Code == "E0000047":
		return KindRateLimited
	case oe == "use_dpop_nonce" || oe == "invalid_dpop_proof" || strings.Contains(desc, "dpop"):
		return KindDPoP
	case oe == "insufficient_scope" || oe == "invalid_scope":
		return KindScope
	case oe == "invalid_client" || oe == "unauthorized_client" || oe == "invalid_grant":
		return KindInvalidClient
	case e.Code == "E0000011" || oe == "invalid_token" || e.Code == "E0000004":
		return KindInvalidToken
	case e.Code == "E0000006" || e.Code == "E0000005":
		return KindPermission
	case e.Code == "E0000007" || e.Status == http.StatusNotFound:
		return KindNotFound
	case e.Status >= 500 || e.Code == "E0000009":
		return KindServer
	case e.Status == http.StatusUnauthorized:
		return KindInvalidToken
	case e.Status == http.StatusForbidden:
		return KindPermission
	case strings.HasPrefix(e.Code, "E0000") || e.Status == http.StatusBadRequest || oe == "invalid_request":
		return KindValidation
	}
	return KindOther
}

// clean bounds a server-supplied string and strips control characters so it is safe to log.
func clean(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return truncate(strings.TrimSpace(s), n)
}

// Package fault injects the faults a real Okta org throws at a connector (5xx, slow and
// broken responses, rate-limit storms, concurrency limits, clock skew, revoked credentials,
// DPoP nonce rotation) into oktasim's HTTP handlers, with rules managed at runtime.
package fault

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Kind names a fault.
type Kind string

// The fault kinds.
const (
	// KindStatus answers with a 5xx status (Status, default 500).
	KindStatus Kind = "status"
	// KindSlow holds the response for Delay before serving it, to outlast client timeouts.
	KindSlow Kind = "slow"
	// KindTruncate serves the real response with its body cut short.
	KindTruncate Kind = "truncate"
	// KindMalformed serves the real response with its JSON body made invalid.
	KindMalformed Kind = "malformed"
	// KindRateLimit answers 429 E0000047 with X-Rate-Limit-Limit=Limit, Remaining=0 and
	// Reset=now+Reset, like an exhausted rate-limit bucket.
	KindRateLimit Kind = "rate_limit"
	// KindConcurrency answers 429 E0000047 with Limit=0, Remaining=0 and Reset=now+Reset (an
	// estimate), like Okta's concurrency limit.
	KindConcurrency Kind = "concurrency_limit"
	// KindSkew shifts the server's clock and Date header by Skew.
	KindSkew Kind = "clock_skew"
	// KindRevoke revokes a credential (Target token, key or app) when a request matches.
	KindRevoke Kind = "revoke"
	// KindNonceRotate rotates the DPoP nonce when a request matches; with Invalidate, earlier
	// nonces stop working at once.
	KindNonceRotate Kind = "dpop_nonce_rotation"
	// KindForeignLink serves the real response with its rel="next" link pointed at Origin, as a
	// misconfigured proxy or a hostile server would.
	KindForeignLink Kind = "foreign_link"
)

// kinds lists every kind, for validation messages.
var kinds = []Kind{KindStatus, KindSlow, KindTruncate, KindMalformed, KindRateLimit, KindConcurrency, KindSkew, KindRevoke, KindNonceRotate, KindForeignLink}

// DefaultForeignOrigin is where a KindForeignLink fault points the next link unless Origin says.
const DefaultForeignOrigin = "https://foreign.example"

// Revoke targets.
const (
	TargetToken = "token"
	TargetKey   = "key"
	TargetApp   = "app"
)

// Duration is a time.Duration that reads and writes JSON as a Go duration string ("90s").
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string such as "250ms" or "2m".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"30s\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: use a Go duration such as \"30s\" or \"2m\"", s)
	}
	*d = Duration(v)
	return nil
}

// Rule is one fault with its scope. A rule applies to requests whose path starts with Path
// (and whose method is Method, when set), to the next Count of them (0: no count limit),
// for Duration after it is added (0: until removed).
type Rule struct {
	ID       string   `json:"id,omitempty"`
	Kind     Kind     `json:"kind"`
	Path     string   `json:"path,omitempty"`
	Method   string   `json:"method,omitempty"`
	Count    int      `json:"count,omitempty"`
	Duration Duration `json:"duration,omitempty"`

	// Status is the status of a KindStatus fault (500–599).
	Status int `json:"status,omitempty"`
	// Delay is how long a KindSlow fault holds the response.
	Delay Duration `json:"delay,omitempty"`
	// Limit is X-Rate-Limit-Limit of a KindRateLimit fault (default 600).
	Limit int `json:"limit,omitempty"`
	// Reset is how far ahead X-Rate-Limit-Reset lies (default 60 s for rate limits, 5 s for
	// the concurrency estimate).
	Reset Duration `json:"reset,omitempty"`
	// Skew is the clock shift of a KindSkew fault; negative puts the server behind.
	Skew Duration `json:"skew,omitempty"`
	// Target is what a KindRevoke fault revokes: "token", "key" or "app".
	Target string `json:"target,omitempty"`
	// ClientID and KeyID name the app and key a KindRevoke fault acts on; a token revocation
	// without ClientID revokes the token the matching request presents.
	ClientID string `json:"clientId,omitempty"`
	KeyID    string `json:"keyId,omitempty"`
	// Invalidate makes a KindNonceRotate fault end earlier nonces at once.
	Invalidate bool `json:"invalidate,omitempty"`
	// Origin is the scheme://host[:port] a KindForeignLink fault points the next link at
	// (default DefaultForeignOrigin).
	Origin string `json:"origin,omitempty"`

	// Added, Expires, Remaining and Hits are reported state; they are ignored on input.
	Added     time.Time  `json:"added,omitzero"`
	Expires   *time.Time `json:"expires,omitempty"`
	Remaining *int       `json:"remaining,omitempty"`
	Hits      int        `json:"hits"`
}

// Validate reports what is wrong with the rule, naming the field to fix.
func (r Rule) Validate() error {
	known := false
	for _, k := range kinds {
		known = known || r.Kind == k
	}
	if !known {
		return fmt.Errorf("fault: kind %q is not one of %v", r.Kind, kinds)
	}
	if r.Path != "" && !strings.HasPrefix(r.Path, "/") {
		return fmt.Errorf("fault: path %q must start with /", r.Path)
	}
	if r.Method != "" && strings.ToUpper(r.Method) != r.Method {
		return fmt.Errorf("fault: method %q must be upper case, e.g. GET", r.Method)
	}
	if r.Count < 0 || r.Duration < 0 || r.Delay < 0 || r.Reset < 0 || r.Limit < 0 {
		return errors.New("fault: count, duration, delay, reset and limit must not be negative")
	}
	switch r.Kind {
	case KindStatus:
		if r.Status != 0 && (r.Status < 500 || r.Status > 599) {
			return fmt.Errorf("fault: status %d must be a 5xx status", r.Status)
		}
	case KindSlow:
		if r.Delay <= 0 {
			return errors.New("fault: a slow fault needs a positive delay, e.g. \"delay\": \"30s\"")
		}
	case KindSkew:
		if r.Skew == 0 {
			return errors.New("fault: a clock_skew fault needs a non-zero skew, e.g. \"skew\": \"-10m\"")
		}
	case KindForeignLink:
		if r.Origin != "" {
			if u, err := url.Parse(r.Origin); err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") {
				return fmt.Errorf("fault: origin %q must be scheme://host[:port], e.g. https://foreign.example", r.Origin)
			}
		}
	case KindRevoke:
		switch r.Target {
		case TargetToken:
		case TargetKey:
			if r.ClientID == "" || r.KeyID == "" {
				return errors.New("fault: revoking a key needs clientId and keyId")
			}
		case TargetApp:
			if r.ClientID == "" {
				return errors.New("fault: revoking an app needs clientId")
			}
		default:
			return fmt.Errorf("fault: revoke target %q must be token, key or app", r.Target)
		}
	}
	return nil
}

// ParseRule reads a rule from the command-line form "kind=status,path=/api/v1/logs,status=503,count=3";
// keys are the JSON field names, durations are Go durations.
func ParseRule(spec string) (Rule, error) {
	var r Rule
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return Rule{}, fmt.Errorf("fault: %q is not key=value", part)
		}
		if err := r.set(strings.TrimSpace(k), strings.TrimSpace(v)); err != nil {
			return Rule{}, err
		}
	}
	return r, r.Validate()
}

// set assigns one key=value pair of ParseRule.
func (r *Rule) set(k, v string) error {
	num := func(dst *int) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("fault: %s=%q is not a whole number", k, v)
		}
		*dst = n
		return nil
	}
	dur := func(dst *Duration) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("fault: %s=%q is not a duration such as 30s", k, v)
		}
		*dst = Duration(d)
		return nil
	}
	switch k {
	case "kind":
		r.Kind = Kind(v)
	case "path":
		r.Path = v
	case "method":
		r.Method = v
	case "target":
		r.Target = v
	case "clientId":
		r.ClientID = v
	case "keyId":
		r.KeyID = v
	case "origin":
		r.Origin = v
	case "invalidate":
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("fault: invalidate=%q is not true or false", v)
		}
		r.Invalidate = b
	case "count":
		return num(&r.Count)
	case "status":
		return num(&r.Status)
	case "limit":
		return num(&r.Limit)
	case "duration":
		return dur(&r.Duration)
	case "delay":
		return dur(&r.Delay)
	case "reset":
		return dur(&r.Reset)
	case "skew":
		return dur(&r.Skew)
	default:
		return fmt.Errorf("fault: unknown key %q", k)
	}
	return nil
}

// matches reports whether the rule scopes in the request.
func (r *Rule) matches(req *http.Request) bool {
	return strings.HasPrefix(req.URL.Path, r.Path) && (r.Method == "" || r.Method == req.Method)
}

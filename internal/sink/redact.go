package sink

import (
	"net/url"
	"slices"
	"strings"
)

// redacted stands in for the parts of a target URL that may hold secrets.
const redacted = "[redacted]"

// RedactURL returns a sink target's URL with only its scheme, host and port, so that logs, errors
// and the stored status still say which destination is meant: its path and query may hold
// secrets (Slack-style webhook paths, tokens in queries), and so may user information. A
// comma-separated list (a NATS cluster) is redacted URL by URL; what does not parse is redacted
// whole.
func RedactURL(raw string) string {
	raw = strings.TrimSpace(raw)
	if strings.Contains(raw, ",") {
		parts := strings.Split(raw, ",")
		for i, p := range parts {
			parts[i] = RedactURL(p)
		}
		return strings.Join(parts, ",")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return redacted
	}
	out := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		out += "/" + redacted
	}
	return out
}

// urlRedactor scrubs one target URL's secret parts from text that may quote them: errors of
// net/http (a *url.Error prints the whole URL) and answers of receivers that echo the request.
type urlRedactor struct {
	secrets []string // longest first
}

func newURLRedactor(raw string) urlRedactor {
	var r urlRedactor
	add := func(s string) {
		if len(s) > 1 && !slices.Contains(r.secrets, s) {
			r.secrets = append(r.secrets, s)
		}
	}
	add(raw)
	add(strings.TrimSuffix(raw, "/"))
	if u, err := url.Parse(raw); err == nil {
		add(u.EscapedPath())
		add(u.Path)
		add(strings.TrimSuffix(u.Path, "/"))
		add(u.RawQuery)
		if q, err := url.QueryUnescape(u.RawQuery); err == nil {
			add(q)
		}
		add(u.Fragment)
		if u.User != nil {
			add(u.User.String())
			add(u.User.Username())
			if p, ok := u.User.Password(); ok {
				add(p)
			}
		}
	}
	slices.SortFunc(r.secrets, func(a, b string) int { return len(b) - len(a) })
	return r
}

// scrub replaces the URL's secret parts in s.
func (r urlRedactor) scrub(s string) string {
	for _, p := range r.secrets {
		s = strings.ReplaceAll(s, p, redacted)
	}
	return s
}

// err returns err with the URL's secret parts removed from its message; its chain (and so its
// Class) is kept. A *url.Error is copied with its URL redacted.
func (r urlRedactor) err(err error) error {
	if ue, ok := err.(*url.Error); ok {
		c := *ue
		c.URL = RedactURL(c.URL)
		err = &c
	}
	if msg := r.scrub(err.Error()); msg != err.Error() {
		return redactedError{msg, err}
	}
	return err
}

// redactedError is an error with a scrubbed message.
type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }

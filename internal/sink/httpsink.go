package sink

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// checkURL enforces the URL policy of HTTP sinks: https, or http only to a loopback host or when
// explicitly allowed; never credentials in the URL, where logs and errors would show them.
func checkURL(what, raw string, allowHTTP bool) error {
	if raw == "" {
		return fmt.Errorf("%s: url is required", what)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%s: url %s is not an absolute URL (scheme://host/path)", what, RedactURL(raw))
	}
	if u.User != nil {
		return fmt.Errorf("%s: url must not carry credentials; put them in the sink's secret options", what)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !allowHTTP && !isLoopback(u.Hostname()) {
			return fmt.Errorf("%s: url %s is plain http to a non-loopback host: use https, or set allow_http: true", what, RedactURL(raw))
		}
	default:
		return fmt.Errorf("%s: url scheme %q is not https", what, u.Scheme)
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// httpClient returns the client for an HTTP sink: env's client, or a new one, with its own
// transport when TLS options are set.
func httpClient(env Env, tlsCfg TLSConfig, timeout time.Duration) (*http.Client, error) {
	base := env.HTTPClient
	if base == nil {
		base = &http.Client{}
	}
	c := *base
	c.Timeout = timeout
	if tlsCfg != (TLSConfig{}) {
		tc, err := tlsCfg.build()
		if err != nil {
			return nil, err
		}
		var t *http.Transport
		if bt, ok := base.Transport.(*http.Transport); ok {
			t = bt.Clone()
		} else {
			t = http.DefaultTransport.(*http.Transport).Clone()
		}
		t.TLSClientConfig = tc
		c.Transport = t
	}
	// A redirect could carry the signed body or token elsewhere: refuse it.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c, nil
}

// drain reads a little of the body (for the error message) and closes it, so the connection is reused.
func drain(r io.ReadCloser) string {
	b, _ := io.ReadAll(io.LimitReader(r, 4096))
	io.Copy(io.Discard, io.LimitReader(r, 1<<20))
	r.Close()
	return strings.TrimSpace(string(b))
}

// statusError classifies an HTTP answer other than success (see httpClass). body is the start of
// the answer, scrubbed of the target's path and query by red (a receiver may echo the URL).
func statusError(what string, code int, body string, red urlRedactor) error {
	if len(body) > 200 {
		body = body[:200] + "…"
	}
	class, hint := httpClass(code)
	return mark(class, fmt.Errorf("%s: receiver answered %d %s%s: %s", what, code, http.StatusText(code), hint, red.scrub(body)))
}

// httpClass says what an HTTP status means for the batch that got it. 400, 413 and 422 refuse the
// data itself. 408, 425, 429 and 5xx say the receiver is busy or down; 401, 403 and 407 refuse
// idwatch's credentials, and 404, 405, 410, 415, 421 and redirects say the URL is wrong: a
// configuration the operator must fix, which no record is to blame for, so the sink waits with its
// lag growing instead of dead-lettering everything. Any other status refuses the records in a way
// a retry might get past.
func httpClass(code int) (Class, string) {
	switch {
	case code == http.StatusBadRequest, code == http.StatusRequestEntityTooLarge, code == http.StatusUnprocessableEntity:
		return ClassRefusedNow, ""
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly, code == http.StatusTooManyRequests, code >= 500:
		return ClassUnavailable, ""
	case code == http.StatusUnauthorized, code == http.StatusForbidden, code == http.StatusProxyAuthRequired:
		return ClassUnavailable, " (check the sink's credentials)"
	case code == http.StatusNotFound, code == http.StatusMethodNotAllowed, code == http.StatusGone,
		code == http.StatusUnsupportedMediaType, code == http.StatusMisdirectedRequest:
		return ClassUnavailable, " (check the sink's url)"
	case code < 200 || (code >= 300 && code < 400):
		return ClassUnavailable, " (redirects are not followed: point the sink's url at the final address)"
	case code < 300:
		return ClassUnavailable, " (not the answer this receiver type gives: check the sink's url)"
	}
	return ClassRefused, ""
}

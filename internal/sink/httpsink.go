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
		return fmt.Errorf("%s: url %q is not an absolute URL", what, raw)
	}
	if u.User != nil {
		return fmt.Errorf("%s: url must not carry credentials; put them in the sink's secret options", what)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !allowHTTP && !isLoopback(u.Hostname()) {
			return fmt.Errorf("%s: url %s is plain http to a non-loopback host: use https, or set allow_http: true", what, u.Redacted())
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

// statusError classifies a refused HTTP delivery: the data itself was refused (permanent) or the
// receiver may take it later.
func statusError(what string, code int, body string) error {
	if len(body) > 200 {
		body = body[:200] + "…"
	}
	err := fmt.Errorf("%s: receiver answered %d %s: %s", what, code, http.StatusText(code), body)
	switch code {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		return Permanent(err)
	}
	return err
}

package sink

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.slack.com/services/T0/B0/XyZ":      "https://hooks.slack.com/[redacted]",
		"https://splunk.example.com:8088":                 "https://splunk.example.com:8088",
		"https://splunk.example.com:8088/":                "https://splunk.example.com:8088",
		"https://h.example.com/?token=abc":                "https://h.example.com/[redacted]",
		"https://user:pw@h.example.com/x":                 "https://h.example.com/[redacted]",
		"nats://a:4222,nats://b:4222/x":                   "nats://a:4222,nats://b:4222/[redacted]",
		"not a url with a secret":                         "[redacted]",
		"mailto:secret@example.com":                       "[redacted]",
		"https://h.example.com/#frag":                     "https://h.example.com/[redacted]",
		"http://127.0.0.1:9/services/abc?x=1&token=s%20t": "http://127.0.0.1:9/[redacted]",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's and the test's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// A webhook URL with a secret in its path and query (Slack-style) must appear in no log line,
// error, dead letter or stored status of a failing sink, while its host still does.
func TestWebhookSecretURLIsRedacted(t *testing.T) {
	const secretPath, secretQuery = "/services/T0SECRET1/B0SECRET2/xoxSECRET3", "token=SECRET4query"
	var answer atomic.Int32
	answer.Store(http.StatusServiceUnavailable)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Receivers that echo the request (proxies, error pages) put the secret in the answer.
		http.Error(w, "no route for "+r.URL.RequestURI()+" at "+r.Host+r.URL.Path, int(answer.Load()))
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	st := openStore(t, t.TempDir())
	appendEvents(t, st, 0, 5)
	var logs syncBuffer
	spec := webhookType().New().(*WebhookConfig)
	spec.URL = srv.URL + secretPath + "?" + secretQuery
	cfg := testConfig("slack", spec)
	cfg.Type = "webhook"
	r := startRunner(t, RunnerOptions{Store: st, Config: cfg, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})

	var seen []string // every error text the sink produced, as the runner saw it
	waitFor(t, "retrying on 503", func() bool {
		c, _ := findConsumer(t, st, "sink/slack")
		return c.Status == string(StateRetrying) && strings.Contains(c.StatusError, "503")
	})
	seen = append(seen, consumer(t, st, "sink/slack").StatusError, r.Status().LastError)

	answer.Store(http.StatusBadRequest) // the batch is refused as data: dead letters
	waitFor(t, "dead letters", func() bool { return offsetOf(t, st, "sink/slack") == 5 })
	letters, err := st.ListDeadLetters(context.Background(), "slack", 100)
	if err != nil || len(letters) != 5 {
		t.Fatalf("%d dead letters (%v)", len(letters), err)
	}
	seen = append(seen, letters[0].Error)

	srv.Close() // now the destination is gone: net/http's *url.Error names the whole URL
	appendEvents(t, st, 5, 5)
	waitFor(t, "retrying on a refused connection", func() bool {
		c, _ := findConsumer(t, st, "sink/slack")
		return c.Status == string(StateRetrying) && strings.Contains(c.StatusError, "unreachable")
	})
	unreachable := consumer(t, st, "sink/slack").StatusError
	seen = append(seen, unreachable, r.Status().LastError)
	if !strings.Contains(unreachable, host) {
		t.Errorf("the error no longer names the destination's host %s: %s", host, unreachable)
	}

	for _, bad := range []string{"http://10.0.0.1" + secretPath + "?" + secretQuery, "::" + secretPath + "?" + secretQuery} {
		if err := (&WebhookConfig{URL: bad, Timeout: 1}).Validate(); err == nil {
			t.Errorf("%s passed validation", bad)
		} else {
			seen = append(seen, err.Error())
		}
	}
	seen = append(seen, logs.String())
	for _, text := range seen {
		for _, s := range []string{"SECRET1", "SECRET2", "SECRET3", "SECRET4"} {
			if strings.Contains(text, s) {
				t.Errorf("%s leaked in: %s", s, text)
			}
		}
	}
	if !strings.Contains(logs.String(), "[redacted]") {
		t.Errorf("the logs show no redacted URL; were they written?\n%s", logs.String())
	}
}

// FuzzRedactURL checks that no path, query, fragment or user information of a URL survives
// redaction, and that the redacted form keeps the host.
func FuzzRedactURL(f *testing.F) {
	for _, s := range []string{"https://hooks.slack.com/services/T0/B0/XyZ", "https://u:p@h:8088/x?token=t#f", "nats://a:4222, nats://b:4222/s", "::", "http://[::1]:9/p?q"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		out := RedactURL(raw)
		for _, part := range strings.Split(raw, ",") {
			u, err := url.Parse(strings.TrimSpace(part))
			if err != nil || u.Host == "" {
				continue
			}
			if !strings.Contains(out, u.Host) {
				t.Fatalf("RedactURL(%q) = %q lost the host %q", raw, out, u.Host)
			}
			for _, secret := range []string{u.RawQuery, u.Fragment, u.User.String()} {
				if len(secret) > 1 && !strings.Contains(u.Scheme+"://"+u.Host+"/"+redacted+",", secret) && strings.Contains(out, secret) {
					t.Fatalf("RedactURL(%q) = %q keeps %q", raw, out, secret)
				}
			}
		}
	})
}

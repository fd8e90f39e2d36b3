package sink

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/secret"
)

// Webhook headers.
const (
	// HeaderTimestamp carries the Unix time (seconds) the batch was signed at.
	HeaderTimestamp = "X-Idwatch-Timestamp"
	// HeaderSignature is "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
	HeaderSignature = "X-Idwatch-Signature"
	// HeaderBatch names the batch ("<stream>:<afterSeq>-<lastSeq>"), the same on every retry.
	HeaderBatch = "X-Idwatch-Batch"
)

// WebhookConfig configures the webhook sink: HTTPS POSTs of JSON batches.
type WebhookConfig struct {
	URL       string                  `yaml:"url" doc:"https:// endpoint (http:// only to loopback or with allow_http)"`
	Secret    secret.Value            `yaml:"secret" doc:"HMAC-SHA256 key signing timestamp.body into X-Idwatch-Signature"`
	Headers   map[string]secret.Value `yaml:"headers" doc:"extra request headers (values are kept secret: they may hold credentials)"`
	Timeout   time.Duration           `yaml:"timeout" doc:"per-request timeout"`
	AllowHTTP bool                    `yaml:"allow_http" doc:"allow plain http:// to a non-loopback host"`
	TLS       TLSConfig               `yaml:"tls"`
}

func webhookType() Type {
	return Type{Name: "webhook", Summary: "HTTPS POST of JSON batches, signed with HMAC-SHA256", New: func() Spec {
		return &WebhookConfig{Timeout: 30 * time.Second}
	}}
}

// reservedHeaders are set by the sink itself.
var reservedHeaders = []string{"Content-Type", "Content-Length", "Host", HeaderTimestamp, HeaderSignature, HeaderBatch}

// Validate checks the options.
func (c *WebhookConfig) Validate() error {
	var errs []error
	if err := checkURL("webhook", c.URL, c.AllowHTTP); err != nil {
		errs = append(errs, err)
	}
	for k := range c.Headers {
		for _, r := range reservedHeaders {
			if strings.EqualFold(k, r) {
				errs = append(errs, fmt.Errorf("webhook: header %s is set by idwatch", r))
			}
		}
	}
	if c.Timeout <= 0 {
		errs = append(errs, errors.New("webhook: timeout must be positive"))
	}
	if err := c.TLS.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("webhook: %w", err))
	}
	return errors.Join(errs...)
}

// Build returns the webhook sink.
func (c *WebhookConfig) Build(env Env) (Sink, error) {
	cl, err := httpClient(env, c.TLS, c.Timeout)
	if err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	if env.Clock == nil {
		env.Clock = clock.System{}
	}
	return &webhookSink{cfg: *c, name: env.Name, client: cl, clock: env.Clock, red: newURLRedactor(c.URL)}, nil
}

type webhookSink struct {
	cfg    WebhookConfig
	name   string
	client *http.Client
	clock  Clock
	red    urlRedactor
	buf    bytes.Buffer
}

// webhookBody is what one POST carries.
type webhookBody struct {
	Sink    string   `json:"sink"`
	Records []Record `json:"records"`
}

// Sign returns the signature header value for body signed at ts with key.
func Sign(key []byte, ts int64, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Connect has nothing to set up: each batch is one request.
func (s *webhookSink) Connect(context.Context) error { return nil }

// Write POSTs the batch and returns nil on a 2xx answer.
func (s *webhookSink) Write(ctx context.Context, b Batch) error {
	s.buf.Reset()
	if err := json.NewEncoder(&s.buf).Encode(webhookBody{Sink: s.name, Records: b.Records}); err != nil {
		return Permanent(fmt.Errorf("webhook: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(s.buf.Bytes()))
	if err != nil { // the URL passed Validate
		return Bug(fmt.Errorf("webhook: building the request: %w", s.red.err(err)))
	}
	for k, v := range s.cfg.Headers {
		req.Header.Set(k, v.Reveal())
	}
	ts := s.clock.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderBatch, fmt.Sprintf("%s:%d-%d", b.Stream, b.AfterSeq, b.LastSeq))
	if !s.cfg.Secret.IsZero() {
		req.Header.Set(HeaderSignature, Sign([]byte(s.cfg.Secret.Reveal()), ts, s.buf.Bytes()))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w: %w", ErrNotConnected, s.red.err(err))
	}
	body := drain(resp.Body)
	if resp.StatusCode/100 != 2 {
		return statusError("webhook", resp.StatusCode, body, s.red)
	}
	return nil
}

// Close releases idle connections.
func (s *webhookSink) Close(context.Context) error {
	s.client.CloseIdleConnections()
	return nil
}

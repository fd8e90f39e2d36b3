package sink

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
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

// HECConfig configures the Splunk HTTP Event Collector sink.
type HECConfig struct {
	URL         string        `yaml:"url" doc:"HEC base URL, e.g. https://splunk.example.com:8088"`
	Token       secret.Value  `yaml:"token" doc:"HEC token (sent as Authorization: Splunk <token>)"`
	SourceTypes Topics        `yaml:"sourcetypes"`
	Index       string        `yaml:"index" doc:"target index (empty: the token's default)"`
	Source      string        `yaml:"source" doc:"source field"`
	Host        string        `yaml:"host" doc:"host field (empty: Splunk's default)"`
	Gzip        bool          `yaml:"gzip" doc:"gzip request bodies"`
	Ack         bool          `yaml:"ack" doc:"wait for indexer acknowledgement (the token must have it enabled)"`
	Channel     string        `yaml:"channel" doc:"channel GUID for acknowledgements (empty: a random one per run)"`
	AckTimeout  time.Duration `yaml:"ack_timeout" doc:"give up waiting for an ack after this long and resend"`
	AckPoll     time.Duration `yaml:"ack_poll" doc:"interval between /services/collector/ack polls"`
	Timeout     time.Duration `yaml:"timeout" doc:"per-request timeout"`
	AllowHTTP   bool          `yaml:"allow_http" doc:"allow plain http:// to a non-loopback host"`
	TLS         TLSConfig     `yaml:"tls"`
}

func hecType() Type {
	return Type{Name: "splunk_hec", Summary: "Splunk HTTP Event Collector with gzip and indexer acknowledgement", New: func() Spec {
		return &HECConfig{
			SourceTypes: Topics{Event: "OktaIM2:log", OCSF: "ocsf", Alert: "idwatch:alert", Incident: "idwatch:incident"},
			Source:      "idwatch",
			Gzip:        true,
			AckTimeout:  2 * time.Minute,
			AckPoll:     time.Second,
			Timeout:     30 * time.Second,
		}
	}}
}

// Validate checks the options.
func (c *HECConfig) Validate() error {
	var errs []error
	if err := checkURL("splunk_hec", c.URL, c.AllowHTTP); err != nil {
		errs = append(errs, err)
	}
	if c.Token.IsZero() {
		errs = append(errs, errors.New("splunk_hec: token is required"))
	}
	if err := c.SourceTypes.validate("splunk_hec: sourcetypes"); err != nil {
		errs = append(errs, err)
	}
	if c.Ack && (c.AckTimeout <= 0 || c.AckPoll <= 0) {
		errs = append(errs, errors.New("splunk_hec: ack needs positive ack_timeout and ack_poll"))
	}
	if c.Timeout <= 0 {
		errs = append(errs, errors.New("splunk_hec: timeout must be positive"))
	}
	if err := c.TLS.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("splunk_hec: %w", err))
	}
	return errors.Join(errs...)
}

// Build returns the HEC sink.
func (c *HECConfig) Build(env Env) (Sink, error) {
	cl, err := httpClient(env, c.TLS, c.Timeout)
	if err != nil {
		return nil, fmt.Errorf("splunk_hec: %w", err)
	}
	if env.Clock == nil {
		env.Clock = clock.System{}
	}
	s := &hecSink{cfg: *c, client: cl, clock: env.Clock, base: strings.TrimSuffix(c.URL, "/"), red: newURLRedactor(c.URL)}
	if s.cfg.Channel == "" {
		s.cfg.Channel = newGUID()
	}
	return s, nil
}

func newGUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

type hecSink struct {
	cfg    HECConfig
	client *http.Client
	clock  Clock
	base   string
	red    urlRedactor
	buf    bytes.Buffer
	zbuf   bytes.Buffer
}

// hecEvent is one event in HEC's JSON format.
type hecEvent struct {
	Time       json.Number       `json:"time"`
	Host       string            `json:"host,omitempty"`
	Source     string            `json:"source,omitempty"`
	SourceType string            `json:"sourcetype"`
	Index      string            `json:"index,omitempty"`
	Event      json.RawMessage   `json:"event"`
	Fields     map[string]string `json:"fields"`
}

// hecReply is HEC's answer to an event or ack request.
type hecReply struct {
	Text  string          `json:"text"`
	Code  int             `json:"code"`
	AckID *int64          `json:"ackId"`
	Acks  map[string]bool `json:"acks"`
}

// hecTime is seconds since the epoch with milliseconds, as HEC wants it.
func hecTime(t time.Time) json.Number {
	ms := t.UnixMilli()
	sign := ""
	if ms < 0 {
		sign, ms = "-", -ms
	}
	return json.Number(fmt.Sprintf("%s%d.%03d", sign, ms/1000, ms%1000))
}

// Connect checks nothing up front: HEC answers per request.
func (s *hecSink) Connect(context.Context) error { return nil }

// Write sends the batch to /services/collector/event and, with acks on, waits until the indexers
// confirm it.
func (s *hecSink) Write(ctx context.Context, b Batch) error {
	s.buf.Reset()
	enc := json.NewEncoder(&s.buf)
	for _, r := range b.Records {
		ev := hecEvent{Time: hecTime(r.Time), Host: s.cfg.Host, Source: s.cfg.Source, SourceType: s.cfg.SourceTypes.of(r.Kind), Index: s.cfg.Index, Event: r.Body,
			Fields: map[string]string{"idwatch_id": r.ID, "idwatch_kind": string(r.Kind)}}
		if err := enc.Encode(ev); err != nil {
			return Permanent(fmt.Errorf("splunk_hec: record %s: %w", r.ID, err))
		}
	}
	body := s.buf.Bytes()
	if s.cfg.Gzip {
		s.zbuf.Reset()
		zw := gzip.NewWriter(&s.zbuf)
		zw.Write(body)
		if err := zw.Close(); err != nil { // into memory: cannot fail
			return Bug(fmt.Errorf("splunk_hec: gzip: %w", err))
		}
		body = s.zbuf.Bytes()
	}
	reply, err := s.post(ctx, "/services/collector/event", body, s.cfg.Gzip)
	if err != nil {
		return err
	}
	if !s.cfg.Ack {
		return nil
	}
	if reply.AckID == nil {
		// Every batch would get the same answer: a configuration to fix, not data to dead-letter.
		return Unavailable(errors.New("splunk_hec: ack is on but HEC returned no ackId: enable indexer acknowledgement on the token, or set ack: false"))
	}
	return s.waitAck(ctx, *reply.AckID)
}

func (s *hecSink) waitAck(ctx context.Context, id int64) error {
	deadline := s.clock.Now().Add(s.cfg.AckTimeout)
	body, _ := json.Marshal(map[string][]int64{"acks": {id}})
	key := strconv.FormatInt(id, 10)
	for {
		reply, err := s.post(ctx, "/services/collector/ack", body, false)
		if err != nil {
			return err
		}
		if reply.Acks[key] {
			return nil
		}
		if !s.clock.Now().Before(deadline) {
			return Unavailable(fmt.Errorf("splunk_hec: ack %d not confirmed within %s; resending the batch", id, s.cfg.AckTimeout))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.clock.After(s.cfg.AckPoll):
		}
	}
}

func (s *hecSink) post(ctx context.Context, path string, body []byte, gz bool) (hecReply, error) {
	var reply hecReply
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+path, bytes.NewReader(body))
	if err != nil { // the URL passed Validate
		return reply, Bug(fmt.Errorf("splunk_hec: building the request: %w", s.red.err(err)))
	}
	req.Header.Set("Authorization", "Splunk "+s.cfg.Token.Reveal())
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Splunk-Request-Channel", s.cfg.Channel)
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return reply, fmt.Errorf("splunk_hec: %w: %w", ErrNotConnected, s.red.err(err))
	}
	text := drain(resp.Body)
	jerr := json.Unmarshal([]byte(text), &reply)
	if resp.StatusCode == http.StatusOK && jerr == nil && reply.Code == 0 {
		return reply, nil
	}
	if jerr != nil {
		return reply, statusError("splunk_hec", resp.StatusCode, text, s.red)
	}
	return reply, hecError(resp.StatusCode, reply, s.red)
}

// hecError classifies HEC's error codes: data the indexer refuses is dead-lettered; a token, ack
// or channel problem (a configuration to fix) and a busy or unhealthy server are outages; other
// codes go by the HTTP status.
func hecError(status int, r hecReply, red urlRedactor) error {
	err := fmt.Errorf("splunk_hec: HTTP %d, HEC code %d: %s", status, r.Code, red.scrub(r.Text))
	switch r.Code {
	case 5, 6, 12, 13, 15: // no data, invalid data format, event field required/blank, indexed fields error
		return Permanent(err)
	case 7: // incorrect index
		return Permanent(fmt.Errorf("%w (check the index option and the token's allowed indexes)", err))
	case 1, 2, 3, 4:
		return Unavailable(fmt.Errorf("%w (check the HEC token)", err))
	case 10, 11, 14:
		return Unavailable(fmt.Errorf("%w (enable indexer acknowledgement on the token or set ack: false)", err))
	case 8, 9, 18: // internal error, server busy, unhealthy
		return Unavailable(err)
	}
	class, _ := httpClass(status)
	return mark(class, err)
}

// Close releases idle connections.
func (s *hecSink) Close(context.Context) error {
	s.client.CloseIdleConnections()
	return nil
}

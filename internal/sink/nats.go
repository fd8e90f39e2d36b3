package sink

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/idwatch/idwatch/internal/secret"
)

// NATSConfig configures the NATS JetStream sink.
type NATSConfig struct {
	URL string `yaml:"url" doc:"server URL(s), comma-separated: nats://host:4222 or tls://host:4222"`
	// Subjects per kind; OCSF records go to "<ocsf>.<schema>".
	Subjects  Topics        `yaml:"subjects"`
	Stream    NATSStream    `yaml:"stream"`
	CredsFile string        `yaml:"creds_file" doc:"NATS user credentials file (JWT + nkey)"`
	Token     secret.Value  `yaml:"token" doc:"authentication token"`
	Username  string        `yaml:"username" doc:"user name"`
	Password  secret.Value  `yaml:"password" doc:"password"`
	Timeout   time.Duration `yaml:"timeout" doc:"how long a batch may take to be acknowledged"`
	TLS       TLSConfig     `yaml:"tls"`
}

// NATSStream optionally creates the JetStream stream that captures the subjects.
type NATSStream struct {
	Name       string        `yaml:"name" doc:"stream name"`
	Create     bool          `yaml:"create" doc:"create or update the stream on connect"`
	Duplicates time.Duration `yaml:"duplicates" doc:"server-side dedup window on Nats-Msg-Id (when creating)"`
	MaxAge     time.Duration `yaml:"max_age" doc:"stream retention (when creating; 0: unlimited)"`
	Replicas   int           `yaml:"replicas" doc:"replicas (when creating)"`
}

func natsType() Type {
	return Type{Name: "nats", Summary: "NATS JetStream subjects per record kind; Nats-Msg-Id = record id for server-side dedup", New: func() Spec {
		return &NATSConfig{
			Subjects: Topics{Event: "idwatch.events", OCSF: "idwatch.ocsf", Alert: "idwatch.alerts", Incident: "idwatch.incidents"},
			Stream:   NATSStream{Name: "IDWATCH", Duplicates: 2 * time.Hour, Replicas: 1},
			Timeout:  30 * time.Second,
		}
	}}
}

// Validate checks the options.
func (c *NATSConfig) Validate() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("nats: url is required"))
	} else if u, err := url.Parse(c.URL); err == nil && u.User != nil {
		errs = append(errs, errors.New("nats: url must not carry credentials; use username/password, token or creds_file"))
	}
	if err := c.Subjects.validate("nats: subjects"); err != nil {
		errs = append(errs, err)
	}
	if c.Stream.Create && (c.Stream.Name == "" || c.Stream.Duplicates <= 0 || c.Stream.Replicas < 1) {
		errs = append(errs, errors.New("nats: stream.create needs stream.name, a positive stream.duplicates and stream.replicas ≥ 1"))
	}
	if c.Timeout <= 0 {
		errs = append(errs, errors.New("nats: timeout must be positive"))
	}
	if err := c.TLS.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("nats: %w", err))
	}
	return errors.Join(errs...)
}

// Build returns the NATS sink; it connects on Connect.
func (c *NATSConfig) Build(env Env) (Sink, error) {
	opts := []nats.Option{nats.Name("idwatch sink " + env.Name), nats.MaxReconnects(-1), nats.Timeout(c.Timeout)}
	if c.TLS.Enabled || c.TLS.CAFile != "" || c.TLS.CertFile != "" {
		tc, err := c.TLS.build()
		if err != nil {
			return nil, fmt.Errorf("nats: %w", err)
		}
		opts = append(opts, nats.Secure(tc))
	}
	if c.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	}
	if !c.Token.IsZero() {
		opts = append(opts, nats.Token(c.Token.Reveal()))
	}
	if c.Username != "" {
		opts = append(opts, nats.UserInfo(c.Username, c.Password.Reveal()))
	}
	return &natsSink{cfg: *c, opts: opts}, nil
}

type natsSink struct {
	cfg     NATSConfig
	opts    []nats.Option
	nc      *nats.Conn
	js      jetstream.JetStream
	futures []jetstream.PubAckFuture
}

// Connect dials the server and, when configured, creates or updates the stream.
func (s *natsSink) Connect(ctx context.Context) error {
	if s.nc == nil {
		nc, err := nats.Connect(s.cfg.URL, s.opts...)
		if err != nil {
			return fmt.Errorf("nats: connect %s: %w", RedactURL(s.cfg.URL), err)
		}
		js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(1<<16))
		if err != nil {
			nc.Close()
			return fmt.Errorf("nats: %w", err)
		}
		s.nc, s.js = nc, js
	}
	if s.cfg.Stream.Create {
		cctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
		defer cancel()
		_, err := s.js.CreateOrUpdateStream(cctx, jetstream.StreamConfig{
			Name:       s.cfg.Stream.Name,
			Subjects:   []string{s.cfg.Subjects.Event, s.cfg.Subjects.OCSF + ".>", s.cfg.Subjects.Alert},
			Duplicates: s.cfg.Stream.Duplicates,
			MaxAge:     s.cfg.Stream.MaxAge,
			Replicas:   s.cfg.Stream.Replicas,
			Storage:    jetstream.FileStorage,
		})
		if err != nil {
			return fmt.Errorf("nats: create stream %s: %w", s.cfg.Stream.Name, err)
		}
	}
	return nil
}

// Write publishes every record asynchronously and returns once JetStream acked all of them.
func (s *natsSink) Write(ctx context.Context, b Batch) error {
	if s.js == nil {
		return ErrNotConnected
	}
	wctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	s.futures = s.futures[:0]
	for _, r := range b.Records {
		subject := s.cfg.Subjects.of(r.Kind)
		if r.Kind == KindOCSF {
			subject += "." + r.Schema
		}
		m := &nats.Msg{Subject: subject, Data: r.Body, Header: nats.Header{}}
		m.Header.Set(jetstream.MsgIDHeader, r.DedupKey())
		m.Header.Set("Idwatch-Kind", string(r.Kind))
		f, err := s.js.PublishMsgAsync(m)
		if err != nil {
			return natsError("publish", err)
		}
		s.futures = append(s.futures, f)
	}
	for _, f := range s.futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return natsError("publish to "+f.Msg().Subject, err)
		case <-wctx.Done():
			return fmt.Errorf("nats: waiting for acks: %w: %w", ErrNotConnected, wctx.Err())
		}
	}
	return nil
}

// natsError classifies a publish failure: a message over the server's or the stream's size limit
// is refused as data; any other JetStream refusal (stream full, no quorum, no stream for the
// subject) is an outage of the stream, and every other failure an unreachable server.
func natsError(op string, err error) error {
	var apiErr *jetstream.APIError
	switch {
	case errors.Is(err, nats.ErrMaxPayload), errors.Is(err, jetstream.ErrStreamMessageExceedsMaximum):
		return Permanent(fmt.Errorf("nats: %s: %w", op, err))
	case errors.As(err, &apiErr):
		if apiErr.ErrorCode == jetstream.JSErrCodeStreamMessageExceedsMaximum {
			return Permanent(fmt.Errorf("nats: %s: %w", op, err))
		}
		return Unavailable(fmt.Errorf("nats: %s: %w", op, err))
	}
	return fmt.Errorf("nats: %s: %w: %w", op, ErrNotConnected, err)
}

// Close drains nothing (Write waits for acks) and closes the connection.
func (s *natsSink) Close(context.Context) error {
	if s.nc != nil {
		s.nc.Close()
		s.nc, s.js = nil, nil
	}
	return nil
}

package sink

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/idwatch/idwatch/internal/secret"
)

// KafkaConfig configures the Kafka sink: an idempotent producer keyed by record id.
type KafkaConfig struct {
	Brokers     []string      `yaml:"brokers" doc:"seed brokers, host:port"`
	Topics      Topics        `yaml:"topics"`
	ClientID    string        `yaml:"client_id" doc:"Kafka client id"`
	Compression string        `yaml:"compression" doc:"none, gzip, snappy, lz4 or zstd"`
	Timeout     time.Duration `yaml:"timeout" doc:"how long a batch may take to be acknowledged"`
	TLS         TLSConfig     `yaml:"tls"`
	SASL        SASLConfig    `yaml:"sasl"`
}

// SASLConfig is Kafka SASL authentication.
type SASLConfig struct {
	Mechanism string       `yaml:"mechanism" doc:"PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (empty: no SASL)"`
	Username  string       `yaml:"username" doc:"SASL user"`
	Password  secret.Value `yaml:"password" doc:"SASL password"`
}

func kafkaType() Type {
	return Type{Name: "kafka", Summary: "Kafka topics per record kind; idempotent producer, key = record id", New: func() Spec {
		return &KafkaConfig{
			Topics:      Topics{Event: "okta.events", OCSF: "okta.ocsf", Alert: "idwatch.alerts", Incident: "idwatch.incidents"},
			ClientID:    "idwatch",
			Compression: "lz4",
			Timeout:     30 * time.Second,
		}
	}}
}

// Validate checks the options.
func (c *KafkaConfig) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("kafka: brokers is required"))
	}
	if err := c.Topics.validate("kafka: topics"); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.codec(); err != nil {
		errs = append(errs, err)
	}
	if c.Timeout <= 0 {
		errs = append(errs, errors.New("kafka: timeout must be positive"))
	}
	switch strings.ToUpper(c.SASL.Mechanism) {
	case "":
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		if c.SASL.Username == "" || c.SASL.Password.IsZero() {
			errs = append(errs, errors.New("kafka: sasl needs username and password"))
		}
	default:
		errs = append(errs, fmt.Errorf("kafka: sasl.mechanism %q is not PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", c.SASL.Mechanism))
	}
	if err := c.TLS.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("kafka: %w", err))
	}
	return errors.Join(errs...)
}

func (c *KafkaConfig) codec() (kgo.CompressionCodec, error) {
	switch c.Compression {
	case "none", "":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.NoCompression(), fmt.Errorf("kafka: compression %q is not none, gzip, snappy, lz4 or zstd", c.Compression)
}

// Build returns the Kafka sink; the client is made on Connect.
func (c *KafkaConfig) Build(Env) (Sink, error) {
	codec, _ := c.codec()
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.ClientID(c.ClientID),
		kgo.RequiredAcks(kgo.AllISRAcks()), // idempotence needs acks from all in-sync replicas
		kgo.ProducerBatchCompression(codec),
		kgo.ProducerLinger(0),
		kgo.MaxBufferedRecords(100_000),
	}
	if c.TLS.Enabled || c.TLS.CAFile != "" || c.TLS.CertFile != "" {
		tc, err := c.TLS.build()
		if err != nil {
			return nil, fmt.Errorf("kafka: %w", err)
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	switch strings.ToUpper(c.SASL.Mechanism) {
	case "PLAIN":
		opts = append(opts, kgo.SASL(plain.Auth{User: c.SASL.Username, Pass: c.SASL.Password.Reveal()}.AsMechanism()))
	case "SCRAM-SHA-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: c.SASL.Username, Pass: c.SASL.Password.Reveal()}.AsSha256Mechanism()))
	case "SCRAM-SHA-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: c.SASL.Username, Pass: c.SASL.Password.Reveal()}.AsSha512Mechanism()))
	}
	return &kafkaSink{cfg: *c, opts: opts}, nil
}

type kafkaSink struct {
	cfg  KafkaConfig
	opts []kgo.Opt
	cl   *kgo.Client
	recs []*kgo.Record
}

// Connect creates the producer and checks that a broker answers.
func (s *kafkaSink) Connect(ctx context.Context) error {
	if s.cl != nil {
		return nil
	}
	cl, err := kgo.NewClient(s.opts...)
	if err != nil {
		return fmt.Errorf("kafka: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if err := cl.Ping(pctx); err != nil {
		cl.Close()
		return fmt.Errorf("kafka: no broker of %s answers: %w", strings.Join(s.cfg.Brokers, ","), err)
	}
	s.cl = cl
	return nil
}

// Write produces every record and returns once all are acknowledged.
func (s *kafkaSink) Write(ctx context.Context, b Batch) error {
	if s.cl == nil {
		return ErrNotConnected
	}
	s.recs = s.recs[:0]
	for _, r := range b.Records {
		kr := &kgo.Record{Topic: s.cfg.Topics.of(r.Kind), Key: []byte(r.DedupKey()), Value: r.Body, Timestamp: r.Time,
			Headers: []kgo.RecordHeader{{Key: "idwatch-kind", Value: []byte(r.Kind)}, {Key: "idwatch-id", Value: []byte(r.ID)}}}
		if r.Schema != "" {
			kr.Headers = append(kr.Headers, kgo.RecordHeader{Key: "idwatch-schema", Value: []byte(r.Schema)})
		}
		s.recs = append(s.recs, kr)
	}
	wctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if err := s.cl.ProduceSync(wctx, s.recs...).FirstErr(); err != nil {
		return kafkaError(err)
	}
	return nil
}

// kafkaError classifies a produce error. Records too large, invalid or with a timestamp the topic
// does not accept are refused as data; retriable broker errors (no leader, not enough replicas,
// timeouts) and refusals of idwatch's credentials or topic names (configuration to fix) are
// outages, as is every client-side failure (no broker reachable, record timeout); any other broker
// error refuses the records in a way a retry might get past.
func kafkaError(err error) error {
	var ke *kerr.Error
	switch {
	case errors.Is(err, kerr.MessageTooLarge), errors.Is(err, kerr.RecordListTooLarge), errors.Is(err, kerr.InvalidRecord),
		errors.Is(err, kerr.InvalidTimestamp):
		return Permanent(fmt.Errorf("kafka: %w", err))
	case errors.Is(err, kerr.TopicAuthorizationFailed), errors.Is(err, kerr.ClusterAuthorizationFailed),
		errors.Is(err, kerr.SaslAuthenticationFailed), errors.Is(err, kerr.InvalidTopicException):
		return Unavailable(fmt.Errorf("kafka: %w (check the sink's credentials, ACLs and topics)", err))
	case errors.As(err, &ke):
		if ke.Retriable {
			return Unavailable(fmt.Errorf("kafka: %w", err))
		}
		return Refused(fmt.Errorf("kafka: %w", err))
	}
	return fmt.Errorf("kafka: %w: %w", ErrNotConnected, err)
}

// Close flushes nothing (Write waits for acks) and closes the client.
func (s *kafkaSink) Close(context.Context) error {
	if s.cl != nil {
		s.cl.Close()
		s.cl = nil
	}
	return nil
}

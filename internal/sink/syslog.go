package sink

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// SyslogConfig configures the RFC 5424 syslog sink over TCP with octet-counted framing (RFC 6587),
// optionally over TLS (RFC 5425).
type SyslogConfig struct {
	Address  string        `yaml:"address" doc:"host:port of the syslog receiver"`
	Facility int           `yaml:"facility" doc:"syslog facility number (13: log audit)"`
	AppName  string        `yaml:"app_name" doc:"APP-NAME field"`
	Hostname string        `yaml:"hostname" doc:"HOSTNAME field (empty: this machine's name)"`
	Timeout  time.Duration `yaml:"timeout" doc:"dial and write timeout"`
	TLS      TLSConfig     `yaml:"tls"`
}

func syslogType() Type {
	return Type{Name: "syslog", Summary: "RFC 5424 syslog over TCP (octet counting) or TLS", New: func() Spec {
		return &SyslogConfig{Facility: 13, AppName: "idwatch", Timeout: 30 * time.Second}
	}}
}

// Validate checks the options.
func (c *SyslogConfig) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Address); err != nil {
		errs = append(errs, fmt.Errorf("syslog: address %q is not host:port", c.Address))
	}
	if c.Facility < 0 || c.Facility > 23 {
		errs = append(errs, fmt.Errorf("syslog: facility %d is not 0..23", c.Facility))
	}
	if c.AppName == "" || len(c.AppName) > 48 || strings.ContainsAny(c.AppName, " \t") {
		errs = append(errs, errors.New("syslog: app_name must be 1 to 48 characters without spaces"))
	}
	if c.Timeout <= 0 {
		errs = append(errs, errors.New("syslog: timeout must be positive"))
	}
	if err := c.TLS.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("syslog: %w", err))
	}
	return errors.Join(errs...)
}

// Build returns the syslog sink.
func (c *SyslogConfig) Build(env Env) (Sink, error) {
	s := &syslogSink{cfg: *c}
	if s.cfg.Hostname == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "-"
		}
		s.cfg.Hostname = h
	}
	if c.TLS.Enabled || c.TLS.CAFile != "" || c.TLS.CertFile != "" {
		tc, err := c.TLS.build()
		if err != nil {
			return nil, fmt.Errorf("syslog: %w", err)
		}
		s.tls = tc
	}
	return s, nil
}

type syslogSink struct {
	cfg  SyslogConfig
	tls  *tls.Config
	conn net.Conn
	buf  bytes.Buffer
}

// Connect dials the receiver.
func (s *syslogSink) Connect(ctx context.Context) error {
	if s.conn != nil {
		return nil
	}
	d := &net.Dialer{Timeout: s.cfg.Timeout}
	var (
		c   net.Conn
		err error
	)
	if s.tls != nil {
		c, err = (&tls.Dialer{NetDialer: d, Config: s.tls}).DialContext(ctx, "tcp", s.cfg.Address)
	} else {
		c, err = d.DialContext(ctx, "tcp", s.cfg.Address)
	}
	if err != nil {
		return fmt.Errorf("syslog: %w", err)
	}
	s.conn = c
	return nil
}

// severity: alerts are warnings (4), everything else informational (6).
func severity(k Kind) int {
	if k == KindAlert || k == KindIncident {
		return 4
	}
	return 6
}

// appendMessage appends one octet-counted RFC 5424 message: "LEN SP <PRI>1 TIME HOST APP - MSGID SD MSG".
func (s *syslogSink) appendMessage(r Record) {
	var m bytes.Buffer
	fmt.Fprintf(&m, "<%d>1 %s %s %s - %s [idwatch@32473 id=\"%s\" seq=\"%d\"", s.cfg.Facility*8+severity(r.Kind),
		r.Time.UTC().Format("2006-01-02T15:04:05.000Z"), s.cfg.Hostname, s.cfg.AppName, r.Kind, sdEscape(r.ID), r.Seq)
	if r.Schema != "" {
		fmt.Fprintf(&m, " schema=\"%s\"", sdEscape(r.Schema))
	}
	m.WriteString("] ")
	m.Write(r.Body)
	s.buf.WriteString(strconv.Itoa(m.Len()))
	s.buf.WriteByte(' ')
	s.buf.Write(m.Bytes())
}

// sdEscape escapes a structured-data parameter value (RFC 5424 §6.3.3).
func sdEscape(v string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, `]`, `\]`).Replace(v)
}

// Write sends the batch. TCP syslog has no application ack: nil means the bytes reached the
// kernel's send buffer without error.
func (s *syslogSink) Write(_ context.Context, b Batch) error {
	if s.conn == nil {
		return ErrNotConnected
	}
	s.buf.Reset()
	for _, r := range b.Records {
		s.appendMessage(r)
	}
	s.conn.SetWriteDeadline(time.Now().Add(s.cfg.Timeout))
	if _, err := s.conn.Write(s.buf.Bytes()); err != nil {
		s.conn.Close()
		s.conn = nil
		return fmt.Errorf("syslog: %w: %w", ErrNotConnected, err)
	}
	return nil
}

// Close closes the connection.
func (s *syslogSink) Close(context.Context) error {
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}

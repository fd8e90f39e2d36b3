package sink

import (
	"bufio"
	"crypto/tls"
	"encoding/pem"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// syslogReceiver accepts connections and parses octet-counted RFC 5424 frames.
type syslogReceiver struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []string
	wg   sync.WaitGroup
}

func startSyslog(t *testing.T, ln net.Listener) *syslogReceiver {
	r := &syslogReceiver{ln: ln}
	r.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.wg.Go(func() { r.read(t, c) })
		}
	})
	t.Cleanup(func() { ln.Close(); r.wg.Wait() })
	return r
}

func (r *syslogReceiver) read(t *testing.T, c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		lenText, err := br.ReadString(' ')
		if err != nil {
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(lenText))
		if err != nil {
			t.Errorf("bad frame length %q", lenText)
			return
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(br, msg); err != nil {
			t.Errorf("short frame: %v", err)
			return
		}
		r.mu.Lock()
		r.msgs = append(r.msgs, string(msg))
		r.mu.Unlock()
	}
}

func (r *syslogReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

var rfc5424 = regexp.MustCompile(`^<(\d+)>1 (\S+) (\S+) (\S+) - (\S+) \[idwatch@32473 id="([^"]+)" seq="(\d+)"\] (\{.*\})$`)

func TestSyslogOctetCounting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rcv := startSyslog(t, ln)
	st := openStore(t, t.TempDir())
	appendEvents(t, st, 0, 60)
	spec := syslogType().New().(*SyslogConfig)
	spec.Address, spec.Hostname = ln.Addr().String(), "collector-1"
	startRunner(t, RunnerOptions{Store: st, Config: testConfig("syslog", spec)})
	waitFor(t, "60 messages", func() bool { return rcv.count() == 60 })
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	var ids []string
	for _, m := range rcv.msgs {
		p := rfc5424.FindStringSubmatch(m)
		if p == nil {
			t.Fatalf("not RFC 5424: %q", m)
		}
		if p[1] != "110" || p[3] != "collector-1" || p[4] != "idwatch" || p[5] != "event" {
			t.Fatalf("header fields %q", p[1:6])
		}
		ids = append(ids, p[6])
	}
	checkExactlyOnce(t, ids, 60)
}

func TestSyslogTLS(t *testing.T) {
	srv := httptest.NewTLSServer(nil) // only for its certificate
	srv.Close()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: srv.TLS.Certificates})
	if err != nil {
		t.Fatal(err)
	}
	rcv := startSyslog(t, ln)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	st := openStore(t, t.TempDir())
	appendEvents(t, st, 0, 10)
	spec := syslogType().New().(*SyslogConfig)
	spec.Address = ln.Addr().String()
	spec.TLS = TLSConfig{Enabled: true, CAFile: ca, ServerName: "example.com"}
	startRunner(t, RunnerOptions{Store: st, Config: testConfig("syslog", spec)})
	waitFor(t, "10 messages over TLS", func() bool { return rcv.count() == 10 })
}

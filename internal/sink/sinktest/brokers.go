// Package sinktest runs real message brokers on loopback for tests of sinks and of idwatch serve:
// franz-go's kfake Kafka cluster and an in-process JetStream nats-server.
package sinktest

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// StartKafka runs an in-process fake Kafka cluster on loopback with the default topics.
func StartKafka(t testing.TB) []string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "okta.events", "okta.ocsf", "idwatch.alerts"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

// KafkaKeys reads topic until it has seen want distinct keys and returns the keys in order.
func KafkaKeys(t testing.TB, brokers []string, topic string, want int) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var keys []string
	distinct := map[string]bool{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for len(distinct) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("topic %s: read %d records, want %d", topic, len(keys), want)
		}
		fs.EachRecord(func(r *kgo.Record) {
			keys = append(keys, string(r.Key))
			distinct[string(r.Key)] = true
		})
	}
	return keys
}

// NATSServer is an in-process JetStream server that a test can stop and start again on the same
// port and store directory.
type NATSServer struct {
	t    testing.TB
	opts server.Options
	ns   *server.Server
}

// StartNATS starts a JetStream server on 127.0.0.1 with its store in a temporary directory; it
// stops when the test ends.
func StartNATS(t testing.TB) *NATSServer {
	t.Helper()
	s := &NATSServer{t: t, opts: server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true}}
	s.Start()
	s.opts.Port = s.ns.Addr().(*net.TCPAddr).Port // restarts reuse the port
	t.Cleanup(s.Stop)
	return s
}

// Start (re)starts the server on its port and store directory.
func (s *NATSServer) Start() {
	s.t.Helper()
	opts := s.opts
	ns, err := server.NewServer(&opts)
	if err != nil {
		s.t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		s.t.Fatal("nats server did not start")
	}
	s.ns = ns
}

// Stop shuts the server down; Start brings it back.
func (s *NATSServer) Stop() {
	if s.ns != nil {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
		s.ns = nil
	}
}

// URL is the client URL of the running server.
func (s *NATSServer) URL() string { return s.ns.ClientURL() }

// NATSIDs returns the Nats-Msg-Id of every message in the stream, in order.
func NATSIDs(t testing.TB, url, stream string) []string {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.Header.Get(jetstream.MsgIDHeader))
	}
	return ids
}

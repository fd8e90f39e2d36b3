package sink

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/sink/sinktest"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/twmb/franz-go/pkg/kfake"
)

func TestKafkaSinkDeliversEveryRecordKeyedByID(t *testing.T) {
	brokers := sinktest.StartKafka(t)
	st := openStore(t, t.TempDir())
	appendEvents(t, st, 0, 300)
	if _, err := st.AppendAlerts(context.Background(), []store.Alert{{ID: "alert-7", RuleID: "r", Severity: "high", Time: time.Unix(1e9, 0), IntegrationID: 1, Body: json.RawMessage(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	spec := kafkaType().New().(*KafkaConfig)
	spec.Brokers = brokers
	cfg := testConfig("kafka", spec)
	cfg.Carry = []Kind{KindEvent, KindAlert}
	startRunner(t, RunnerOptions{Store: st, Config: cfg})
	waitFor(t, "offsets", func() bool {
		return offsetOf(t, st, "sink/kafka") == 300 && offsetOf(t, st, "sink/kafka/alerts") == 1
	})
	checkExactlyOnce(t, sinktest.KafkaKeys(t, brokers, "okta.events", 300), 300)
	if keys := sinktest.KafkaKeys(t, brokers, "idwatch.alerts", 1); keys[0] != "alert-7" {
		t.Fatalf("alert key %q", keys[0])
	}
}

func TestKafkaConnectFailsWithoutBroker(t *testing.T) {
	spec := kafkaType().New().(*KafkaConfig)
	spec.Brokers = []string{"127.0.0.1:1"}
	spec.Timeout = 200 * time.Millisecond
	s, err := spec.Build(Env{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(context.Background()); err == nil {
		t.Fatal("connected to nothing")
	}
	if err := s.Write(context.Background(), Batch{}); err != ErrNotConnected {
		t.Fatalf("write before connect: %v", err)
	}
}

func TestKafkaSASLSCRAM(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "idwatch", "kafka-pass"), kfake.SeedTopics(1, "okta.events"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tc := range []struct {
		pass string
		ok   bool
	}{{"kafka-pass", true}, {"wrong-pass", false}} {
		spec := kafkaType().New().(*KafkaConfig)
		spec.Brokers, spec.Timeout = c.ListenAddrs(), 2*time.Second
		spec.SASL = SASLConfig{Mechanism: "SCRAM-SHA-256", Username: "idwatch", Password: secret.New(tc.pass)}
		if err := spec.Validate(); err != nil {
			t.Fatal(err)
		}
		s, _ := spec.Build(Env{})
		ctx := context.Background()
		err := s.Connect(ctx)
		if err == nil {
			e := testEvent(1)
			err = s.Write(ctx, Batch{Records: []Record{{ID: e.UUID, Kind: KindEvent, Body: e.Raw}}})
		}
		s.Close(ctx)
		if (err == nil) != tc.ok {
			t.Fatalf("password %s: %v", tc.pass, err)
		}
		if err != nil && strings.Contains(err.Error(), tc.pass) {
			t.Fatalf("error leaks the password: %v", err)
		}
	}
}

package sink

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

func TestKafkaSinkDeliversEveryRecordKeyedByID(t *testing.T) {
	brokers := startKafka(t)
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
	checkExactlyOnce(t, kafkaKeys(t, brokers, "okta.events", 300), 300)
	if keys := kafkaKeys(t, brokers, "idwatch.alerts", 1); keys[0] != "alert-7" {
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

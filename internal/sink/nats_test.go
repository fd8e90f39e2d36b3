package sink

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/sink/sinktest"
	"github.com/idwatch/idwatch/internal/store"
)

func natsSpec(url string) *NATSConfig {
	spec := natsType().New().(*NATSConfig)
	spec.URL = url
	spec.Stream.Create = true
	spec.Timeout = 5 * time.Second
	return spec
}

func TestNATSSinkDedupsOnRecordID(t *testing.T) {
	srv := sinktest.StartNATS(t)
	ctx := context.Background()
	s, err := natsSpec(srv.URL()).Build(Env{Name: "n"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	b := Batch{Stream: store.StreamJournal, LastSeq: 50}
	for i := range 50 {
		e := testEvent(i)
		b.Records = append(b.Records, Record{ID: e.UUID, Kind: KindEvent, Seq: int64(i + 1), Body: e.Raw})
	}
	b.Records = append(b.Records, Record{ID: testEvent(0).UUID, Kind: KindOCSF, Schema: "auth", Body: []byte(`{}`)})
	// Written twice, as after a crash between the ack and the offset commit.
	for range 2 {
		if err := s.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	ids := sinktest.NATSIDs(t, srv.URL(), "IDWATCH")
	checkExactlyOnce(t, ids[:50], 50)
	if len(ids) != 51 || ids[50] != "ocsf:auth:"+testEvent(0).UUID {
		t.Fatalf("stream holds %d messages (last %q), want 50 events and 1 OCSF record", len(ids), ids[len(ids)-1])
	}
}

// A NATS server stopped for a while: the file sink carries on, and the NATS sink catches up with
// nothing lost once the server is back.
func TestSinkCatchesUpAfterReceiverOutage(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	srv := sinktest.StartNATS(t)
	url := srv.URL()
	cfgN := testConfig("nats", natsSpec(url))
	// Few attempts: an unreachable server must not use them up.
	cfgN.Retry = RetryConfig{MaxAttempts: 2, InitialBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond}
	path := filepath.Join(dir, "events.jsonl")
	startRunner(t, RunnerOptions{Store: st, Config: cfgN})
	startRunner(t, RunnerOptions{Store: st, Config: testConfig("file", &FileConfig{Path: path, NoSync: true})})
	appendEvents(t, st, 0, 100)
	waitFor(t, "nats sink delivered the first events", func() bool { return offsetOf(t, st, "sink/nats") == 100 })

	srv.Stop()
	appendEvents(t, st, 100, 400)
	waitFor(t, "file sink carried on", func() bool { return offsetOf(t, st, "sink/file") == 500 })
	if off := offsetOf(t, st, "sink/nats"); off != 100 {
		t.Fatalf("nats sink committed %d while its server was down", off)
	}
	srv.Start()
	waitFor(t, "nats sink caught up", func() bool { return offsetOf(t, st, "sink/nats") == 500 })
	checkExactlyOnce(t, sinktest.NATSIDs(t, srv.URL(), "IDWATCH"), 500)
	checkExactlyOnce(t, readIDs(t, path), 500)
	letters, _ := st.ListDeadLetters(context.Background(), "", 10)
	if len(letters) != 0 {
		t.Fatalf("dead letters during a recoverable outage: %+v", letters)
	}
}

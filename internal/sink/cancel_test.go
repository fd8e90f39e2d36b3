package sink

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// TestRunnerStopsBetweenOCSFEvents: a cancelled runner stops normalizing after the event in hand,
// not at the end of the page (which may hold many large events), and delivers nothing of it.
func TestRunnerStopsBetweenOCSFEvents(t *testing.T) {
	st := openStore(t, t.TempDir())
	appendEvents(t, st, 0, 50)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	calls := 0
	ocsf := func(store.Entry) ([]OCSFRecord, error) {
		if calls++; calls == 2 {
			cancel()
		}
		return []OCSFRecord{{Schema: "auth", Body: json.RawMessage(`{}`)}}, nil
	}
	fs := &funcSink{}
	cfg := testConfig("c", &FileConfig{Path: "x"})
	cfg.Carry = []Kind{KindOCSF}
	cfg.Batch.MaxWait = time.Hour
	r, err := NewRunner(RunnerOptions{Store: st, Config: cfg, Sink: fs, OCSF: ocsf, PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("normalized %d events after cancellation, want to stop after the one in hand", calls-2)
	}
	if n := len(fs.records()); n != 0 || offsetOf(t, st, "sink/c") != 0 {
		t.Errorf("delivered %d records, offset %d: want nothing", n, offsetOf(t, st, "sink/c"))
	}
}

package sink

import (
	"encoding/json"
	"testing"

	"github.com/idwatch/idwatch/internal/normalize"
)

func TestOCSFRecordsFromTheNormalizer(t *testing.T) {
	st := openStore(t, t.TempDir())
	appendEvents(t, st, 0, 20)
	fs := &funcSink{}
	cfg := testConfig("ocsf", &FileConfig{Path: "x"})
	cfg.Carry, cfg.Schemas = []Kind{KindOCSF}, []string{"auth"}
	startRunner(t, RunnerOptions{Store: st, Config: cfg, Sink: fs, OCSF: NormalizeOCSF(normalize.New())})
	waitFor(t, "offset 20", func() bool { return offsetOf(t, st, "sink/ocsf") == 20 })
	recs := fs.records()
	if len(recs) != 20 {
		t.Fatalf("%d OCSF records, want 20", len(recs))
	}
	var o struct {
		ClassUID int `json:"class_uid"`
		Metadata struct {
			UID string `json:"uid"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(recs[3].Body, &o); err != nil || o.ClassUID == 0 || recs[3].Schema != "auth" || recs[3].ID != testEvent(3).UUID {
		t.Fatalf("record %+v: %s (%v)", recs[3], recs[3].Body, err)
	}
}

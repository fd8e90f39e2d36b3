package sink

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/normalize"
	"github.com/idwatch/idwatch/internal/store"
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

// oneUser is an inventory that knows one login.
type oneUser struct {
	login string
	id    normalize.Identity
}

func (o oneUser) EnrichUser(k string) (normalize.Identity, bool) {
	return o.id, strings.EqualFold(k, o.login)
}

// TestOCSFRecordsEnriched: records built for sinks carry the inventory's AD link for the org
// that has one, and are unchanged for another org.
func TestOCSFRecordsEnriched(t *testing.T) {
	raw := json.RawMessage(`{"uuid":"u-1","published":"2026-11-01T00:00:00.000Z","eventType":"user.session.start",` +
		`"actor":{"id":"00ukim","type":"User","alternateId":"kim@example.com"},"outcome":{"result":"SUCCESS"}}`)
	inv := oneUser{"kim@example.com", normalize.Identity{UserID: "00ukim", Status: "ACTIVE", ADSid: "S-1-5-21-1-2-3-1001"}}
	fn := NormalizeOCSFEnriched(normalize.New(), func(id int64) normalize.Enricher {
		if id == 1 {
			return inv
		}
		return nil
	})
	for org, want := range map[int64]bool{1: true, 2: false} {
		recs, err := fn(store.Entry{Seq: 1, IntegrationID: org, Raw: raw})
		if err != nil || len(recs) == 0 {
			t.Fatalf("org %d: %v %v", org, recs, err)
		}
		if got := strings.Contains(string(recs[0].Body), `"uid_alt":"S-1-5-21-1-2-3-1001"`); got != want {
			t.Errorf("org %d: enriched=%v, want %v:\n%s", org, got, want, recs[0].Body)
		}
	}
}

package server

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/sink"
	"github.com/idwatch/idwatch/internal/store"
)

// TestSinkRoutes reports the configured sinks' state from their offsets and reported status,
// lists dead letters without their payload, and replays them as an admin into the real file sink.
func TestSinkRoutes(t *testing.T) {
	dir := t.TempDir()
	cfgs, err := sink.ParseConfigs([]byte("sinks:\n  - name: archive\n    type: file\n    path: " + filepath.Join(dir, "archive.jsonl") +
		"\n  - name: siem\n    type: file\n    path: " + filepath.Join(dir, "siem.jsonl") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *Options) { o.Sinks = cfgs })
	base := time.Now().Add(-time.Hour).UTC()
	journalFixture(t, e, base, 10)
	ctx := t.Context()
	if _, err := e.st.RegisterConsumer(ctx, sink.ConsumerName("archive", store.StreamJournal), store.StreamJournal, 0); err != nil {
		t.Fatal(err)
	}
	if err := e.st.CommitOffset(ctx, sink.ConsumerName("archive", store.StreamJournal), 4); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetConsumerStatus(ctx, sink.ConsumerName("archive", store.StreamJournal), string(sink.StateRetrying), "write archive.jsonl: no space left on device"); err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(sink.Record{ID: "ev-002", Kind: sink.KindEvent, Seq: 2, Time: base, IntegrationID: 1, EventType: "user.session.start",
		Body: json.RawMessage(`{"uuid":"ev-002","eventType":"user.session.start","displayMessage":"kim's personal data"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.AddDeadLetter(ctx, store.DeadLetter{Sink: "archive", RecordID: "ev-002", Payload: payload, Error: "400 refused"}); err != nil {
		t.Fatal(err)
	}
	viewer, admin := e.keys[store.RoleViewer], e.keys[store.RoleAdmin]

	code, body := e.do(call{method: "GET", path: "/api/v1/sinks", key: viewer})
	var list struct{ Sinks []SinkView }
	if err := json.Unmarshal(body, &list); code != http.StatusOK || err != nil || len(list.Sinks) != 2 {
		t.Fatalf("list: %d %s", code, body)
	}
	a, s := list.Sinks[0], list.Sinks[1]
	if a.Name != "archive" || a.Status != SinkRetrying || a.Lag != 7 || a.LagSeconds < 3000 || a.DeadLetters != 1 ||
		!strings.Contains(a.LastError, "no space left") || a.Since.IsZero() || len(a.Streams) != 1 || a.Streams[0].Position != 4 {
		t.Fatalf("archive: %+v", a)
	}
	if s.Name != "siem" || s.Status != SinkPaused || s.LastError == "" {
		t.Fatalf("siem: %+v", s)
	}

	code, body = e.do(call{method: "GET", path: "/api/v1/sinks/archive/deadletters?limit=10", key: viewer})
	if code != http.StatusOK || !strings.Contains(string(body), `"recordId":"ev-002"`) || strings.Contains(string(body), "personal data") {
		t.Fatalf("dead letters (no payload): %d %s", code, body)
	}
	code, body = e.do(call{method: "POST", path: "/api/v1/sinks/archive/deadletters/replay", key: admin})
	var res sink.ReplayResult
	if err := json.Unmarshal(body, &res); code != http.StatusOK || err != nil || res.Delivered != 1 || res.Failed != 0 {
		t.Fatalf("replay: %d %s", code, body)
	}
	out, err := os.ReadFile(filepath.Join(dir, "archive.jsonl"))
	if err != nil || !strings.Contains(string(out), "ev-002") {
		t.Fatalf("the replayed letter is not in the file: %q %v", out, err)
	}
	if left, err := e.st.ListDeadLetters(ctx, "archive", 10); err != nil || len(left) != 0 {
		t.Fatalf("dead letters after replay: %+v %v", left, err)
	}
	for _, c := range []struct {
		call
		want  int
		field string
	}{
		{call{method: "GET", path: "/api/v1/sinks/nope/deadletters", key: viewer}, 404, "name"},
		{call{method: "GET", path: "/api/v1/sinks/archive/deadletters?limit=0", key: viewer, invalid: true}, 400, "limit"},
		{call{method: "POST", path: "/api/v1/sinks/nope/deadletters/replay", key: admin}, 404, "name"},
		{call{method: "POST", path: "/api/v1/sinks/archive/deadletters/replay", key: e.keys[store.RoleAnalyst]}, 403, ""},
	} {
		code, body := e.do(c.call)
		if code != c.want {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, code, body, c.want)
			continue
		}
		if er := e.errorOf(body); er.Fix == "" || er.Field != c.field {
			t.Errorf("%s %s: error %+v", c.method, c.path, er)
		}
	}
}

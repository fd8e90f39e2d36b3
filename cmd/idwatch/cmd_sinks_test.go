package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/sink"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

func TestSinksTypes(t *testing.T) {
	code, out, _ := runCLI(t, "", "sinks", "types")
	for _, want := range []string{"file:", "splunk_hec:", "kafka:", "nats:", "syslog:", "webhook:", "max_bytes", "sasl.password"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("sinks types (code %d) lacks %q:\n%s", code, want, out)
		}
	}
}

func TestSinksListAndDeadLetterReplay(t *testing.T) {
	t.Setenv("IDWATCH_MASTER_KEY", "")
	dir := t.TempDir()
	ctx := context.Background()
	st, err := sqlite.OpenDataDir(ctx, dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AppendPage(ctx, 1, []store.Event{{UUID: "u1", Published: time.Unix(1e9, 0), EventType: "x", Raw: json.RawMessage(`{"uuid":"u1"}`)}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RegisterConsumer(ctx, "sink/archive", store.StreamJournal, 0); err != nil {
		t.Fatal(err)
	}
	// What a running serve reports while the archive's disk refuses writes.
	if err := st.SetConsumerStatus(ctx, "sink/archive", "retrying", "file sink: write /data/out.jsonl: no space left on device"); err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(sink.Record{ID: "u1", Kind: sink.KindEvent, Seq: 1, Body: json.RawMessage(`{"uuid":"u1"}`)})
	if err := st.AddDeadLetter(ctx, store.DeadLetter{Sink: "archive", RecordID: "u1", Payload: payload, Error: "disk full", Attempts: 10, FirstFailure: time.Now(), LastFailure: time.Now()}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	out := filepath.Join(dir, "replayed.jsonl")
	cfg := filepath.Join(dir, "idwatch.yml")
	os.WriteFile(cfg, []byte("sinks:\n  - {name: archive, type: file, path: "+out+"}\n  - {name: later, type: file, path: x}\n"), 0o600)

	code, stdout, stderr := runCLI(t, "", "sinks", "list", "--data-dir", dir, "--config", cfg, "--json")
	var rows []sinkRow
	if code != 0 || json.Unmarshal([]byte(stdout), &rows) != nil || len(rows) != 2 {
		t.Fatalf("sinks list: code %d out %s err %s", code, stdout, stderr)
	}
	if r := rows[0]; r.Name != "archive" || r.Type != "file" || r.Lag != 1 || r.State != "retrying, behind" || r.DeadLetters != 1 ||
		r.StatusError == "" || r.StatusAt.IsZero() || rows[1].State != "never started" {
		t.Fatalf("rows %+v", rows)
	}
	code, stdout, stderr = runCLI(t, "", "sinks", "list", "--data-dir", dir, "--config", cfg)
	if code != 0 || !strings.Contains(stdout, "retrying, behind") || !strings.Contains(stdout, "archive (journal): retrying since ") ||
		!strings.Contains(stdout, "no space left on device") {
		t.Fatalf("sinks list table: code %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, "", "deadletter", "list", "--data-dir", dir)
	if code != 0 || !strings.Contains(stdout, "disk full") {
		t.Fatalf("deadletter list: %d %s", code, stdout)
	}
	if code, _, _ := runCLI(t, "", "deadletter", "replay", "--data-dir", dir); code != 2 {
		t.Fatalf("replay without --sink: code %d, want 2", code)
	}
	code, stdout, stderr = runCLI(t, "", "deadletter", "replay", "--data-dir", dir, "--config", cfg, "--sink", "archive")
	if code != 0 || !strings.Contains(stdout, "delivered 1") {
		t.Fatalf("replay: %d %s %s", code, stdout, stderr)
	}
	if b, _ := os.ReadFile(out); string(b) != "{\"uuid\":\"u1\"}\n" {
		t.Fatalf("replayed file %q", b)
	}
	code, stdout, _ = runCLI(t, "", "deadletter", "list", "--data-dir", dir, "--json")
	if code != 0 || strings.TrimSpace(stdout) != "[]" {
		t.Fatalf("after replay: %s", stdout)
	}
}

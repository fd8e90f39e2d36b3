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

// The sinks and deadletter commands read the data directory the configuration names (--data-dir
// overriding it, as for serve), and never create a database or a master key where there is none.
func TestSinkCommandsUseConfigDataDir(t *testing.T) {
	t.Setenv("IDWATCH_MASTER_KEY", "")
	root := t.TempDir()
	def := filepath.Join(root, "default") // what the commands used before the config's data_dir
	t.Setenv("IDWATCH_DATA_DIR", def)
	ctx := context.Background()
	data := filepath.Join(root, "etc", "data")
	st, err := sqlite.OpenDataDir(ctx, data, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RegisterConsumer(ctx, "sink/archive", store.StreamJournal, 0); err != nil {
		t.Fatal(err)
	}
	if err := st.AddDeadLetter(ctx, store.DeadLetter{Sink: "archive", RecordID: "u1", Payload: []byte(`{}`), Error: "refused by the receiver", Attempts: 3, FirstFailure: time.Now(), LastFailure: time.Now()}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	cfg := filepath.Join(root, "etc", "idwatch.yml")
	if err := os.WriteFile(cfg, []byte("data_dir: data\nsinks:\n  - {name: archive, type: file, path: /tmp/archive.jsonl}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	nothingCreated := func(dir string) {
		t.Helper()
		for _, name := range []string{sqlite.FileName, "master.key"} {
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
				t.Fatalf("a read-only command created %s in %s", name, dir)
			}
		}
	}

	code, stdout, stderr := runCLI(t, "", "sinks", "list", "--config", cfg, "--json")
	var rows []sinkRow
	if code != 0 || json.Unmarshal([]byte(stdout), &rows) != nil || len(rows) != 1 || rows[0].Name != "archive" || rows[0].DeadLetters != 1 || rows[0].Type != "file" {
		t.Fatalf("sinks list --config: code %d out %s err %s", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, "", "deadletter", "list", "--config", cfg)
	if code != 0 || !strings.Contains(stdout, "refused by the receiver") {
		t.Fatalf("deadletter list --config: code %d out %s err %s", code, stdout, stderr)
	}
	nothingCreated(def)

	// --data-dir overrides the config; an empty directory is reported, not filled.
	empty := filepath.Join(root, "empty")
	os.Mkdir(empty, 0o700)
	for _, args := range [][]string{
		{"sinks", "list", "--config", cfg, "--data-dir", empty},
		{"deadletter", "list", "--data-dir", empty},
		{"deadletter", "replay", "--sink", "archive", "--config", cfg, "--data-dir", empty},
	} {
		code, _, stderr = runCLI(t, "", args...)
		if code != 1 || !strings.Contains(stderr, "no idwatch database in data directory "+empty) || !strings.Contains(stderr, "--data-dir") {
			t.Fatalf("%v: code %d stderr %s", args, code, stderr)
		}
	}
	nothingCreated(empty)
	// Without --config or --data-dir: the default directory, named in the error, left alone.
	code, _, stderr = runCLI(t, "", "sinks", "list")
	if code != 1 || !strings.Contains(stderr, def) || !strings.Contains(stderr, "--config") {
		t.Fatalf("sinks list in an empty default: code %d stderr %s", code, stderr)
	}
	nothingCreated(def)
	if _, err := os.Stat(def); err == nil {
		t.Fatalf("the default data directory %s was created", def)
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// consumerNames lists the registered consumers of the data directory dir.
func consumerNames(t *testing.T, dir string) []string {
	t.Helper()
	st, err := sqlite.OpenDataDir(t.Context(), dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cs, err := st.Consumers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	return names
}

func TestSinksRemove(t *testing.T) {
	t.Setenv("IDWATCH_MASTER_KEY", "")
	dir := t.TempDir()
	ctx := context.Background()
	st, err := sqlite.OpenDataDir(ctx, dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		ev := store.Event{UUID: fmt.Sprint("u", i), Published: time.Unix(1e9, 0), EventType: "x", Raw: json.RawMessage(`{}`)}
		if _, err := st.AppendPage(ctx, 1, []store.Event{ev}, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"sink/archive", "sink/old"} {
		if _, err := st.RegisterConsumer(ctx, n, store.StreamJournal, 1); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	cfg := filepath.Join(dir, "idwatch.yml")
	os.WriteFile(cfg, []byte("data_dir: "+dir+"\nsinks:\n  - {name: archive, type: file, path: "+filepath.Join(dir, "o.jsonl")+"}\n"), 0o600)

	code, out, _ := runCLI(t, "", "sinks", "list", "--config", cfg)
	if want := "old (journal): not in " + cfg + "; it holds back journal retention until serve starts with that configuration, or: idwatch sinks remove old --config " + cfg + "\n"; code != 0 || !strings.Contains(out, want) {
		t.Fatalf("sinks list: code %d\n%s\nwant the line %q", code, out, want)
	}
	for _, tc := range []struct {
		args       []string
		code       int
		out, errIn string
	}{
		{[]string{"sinks", "remove"}, 2, "", "sinks remove takes one sink name"},
		{[]string{"sinks", "remove", "a", "b"}, 2, "", "sinks remove takes one sink name"},
		{[]string{"sinks", "remove", "archive", "--config", cfg}, 1, "", `sink "archive" is still configured (sinks[0] in ` + cfg + `): remove it from the configuration first, or pass --force`},
		{[]string{"sinks", "remove", "nope", "--data-dir", dir}, 1, "", `no sink "nope" has an offset in data directory ` + dir},
		{[]string{"sinks", "remove", "old", "--config", cfg}, 0, "removed sink old (journal stream, offset 1, 2 records never sent); it no longer holds back journal retention\n", ""},
		{[]string{"sinks", "remove", "--config", cfg, "--force", "--json", "archive"}, 0, `[{"name":"archive","stream":"journal","offset":1,"unsent":2}]` + "\n", ""},
	} {
		code, out, errOut := runCLI(t, "", tc.args...)
		if code != tc.code || out != tc.out || !strings.Contains(errOut, tc.errIn) {
			t.Errorf("%v: code %d, want %d\nstdout %q\nwant   %q\nstderr %q\nwant %q", tc.args, code, tc.code, out, tc.out, errOut, tc.errIn)
		}
	}
	if names := consumerNames(t, dir); len(names) != 0 {
		t.Fatalf("consumers left: %v", names)
	}
}

func TestServePrunesRemovedSinks(t *testing.T) {
	org := startSimOrg(t, oktasim.Config{})
	org.appendSimEvents(t, 0, 10, time.Now(), nil)
	dir := t.TempDir()
	dd := org.addIntegration(t, dir)
	st, err := sqlite.OpenDataDir(t.Context(), filepath.Join(dir, "data"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RegisterConsumer(t.Context(), "sink/old", store.StreamJournal, 0); err != nil {
		t.Fatal(err)
	}
	st.Close()
	cfgPath := filepath.Join(dir, "idwatch.yml")
	cfg := fmt.Sprintf("process: {enabled: false}\nsinks:\n  - {name: f, type: file, path: %s, no_sync: true}\n", filepath.Join(dir, "events.jsonl"))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, errOut := runCLI(t, "", "serve", dd, "--config", cfgPath, "--once")
	if code != 0 {
		t.Fatalf("serve --once: %d\n%s\n%s", code, stdout, errOut)
	}
	if !strings.Contains(errOut, "level=WARN msg=\"sink is no longer in the configuration") || !strings.Contains(errOut, "sink=old stream=journal offset=0 unsent=0") {
		t.Fatalf("no warning naming the removed sink:\n%s", errOut)
	}
	if names := consumerNames(t, filepath.Join(dir, "data")); strings.Join(names, ",") != "sink/f" {
		t.Fatalf("consumers after serve: %v", names)
	}
	// collect --once --json adds the integration's name to each health record.
	code, stdout, errOut = runCLI(t, "", "collect", dd, "--once", "--json", "--quiet", "--process=false")
	var hs []map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &hs) != nil || len(hs) != 1 || hs[0]["integrationName"] != "acme" ||
		hs[0]["integrationId"] != 1.0 || hs[0]["eventsCollected"] != 10.0 || hs[0]["state"] != "collecting" {
		t.Fatalf("collect --once --json: %d\n%s\n%s", code, stdout, errOut)
	}
}

func TestServeRefusesMissingSinkDirectory(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "x", "y")
	cfgPath := filepath.Join(dir, "idwatch.yml")
	cfg := fmt.Sprintf("sinks:\n  - {name: f, type: file, path: %s}\n", filepath.Join(missing, "events.jsonl"))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "", "serve", "--data-dir", filepath.Join(dir, "data"), "--config", cfgPath, "--once")
	want := "create " + missing + " or change sinks[0].path"
	if code != 1 || !strings.Contains(errOut, want) {
		t.Fatalf("serve: code %d, want 1 and %q in:\n%s", code, want, errOut)
	}
}

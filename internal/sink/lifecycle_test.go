package sink

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/store"
)

func TestFileCheckStart(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "plain")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "x", "y")
	for _, tc := range []struct {
		path string
		want string // "" for no error
	}{
		{filepath.Join(dir, "out.jsonl"), ""},
		{filepath.Join(missing, "out.jsonl"), "file: directory " + missing + " does not exist: create " + missing + " or change sinks[1].path"},
		{filepath.Join(notDir, "out.jsonl"), "file: " + notDir + " is not a directory: change sinks[1].path"},
	} {
		cfgs := []Config{testConfig("ok", &FileConfig{Path: filepath.Join(dir, "a.jsonl")}), testConfig("f", &FileConfig{Path: tc.path})}
		err := CheckStart(cfgs)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.path, err)
			}
			continue
		}
		if err == nil || err.Error() != `sink "f": `+tc.want {
			t.Errorf("%s: got %v\nwant %s", tc.path, err, tc.want)
		}
	}
}

func TestRunGroupRefusesMissingDirectory(t *testing.T) {
	st := openStore(t, t.TempDir())
	missing := filepath.Join(t.TempDir(), "gone")
	err := RunGroup(context.Background(), GroupOptions{Store: st, Configs: []Config{testConfig("f", &FileConfig{Path: filepath.Join(missing, "o.jsonl")})}})
	if err == nil || !strings.Contains(err.Error(), "create "+missing+" or change sinks[0].path") {
		t.Fatalf("RunGroup: %v", err)
	}
	if cs, _ := st.Consumers(context.Background()); len(cs) != 0 {
		t.Fatalf("a sink that cannot start registered %v", cs)
	}
}

func TestPruneConsumers(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	appendEvents(t, st, 0, 5)
	for _, c := range []struct {
		name   string
		stream store.Stream
		start  int64
	}{
		{"sink/kept", store.StreamJournal, 1},
		{"sink/kept/alerts", store.StreamAlerts, 0}, // kept no longer carries alerts
		{"sink/gone", store.StreamJournal, 2},
		{"processor", store.StreamJournal, 0}, // not a sink's: never touched
	} {
		if _, err := st.RegisterConsumer(ctx, c.name, c.stream, c.start); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := PruneConsumers(ctx, st, []Config{testConfig("kept", &FileConfig{Path: "x"})})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range removed {
		names = append(names, c.Name)
		if c.Name == "sink/gone" && c.Lag != 3 {
			t.Errorf("gone's unsent lag %d, want 3", c.Lag)
		}
	}
	if !slices.Equal(names, []string{"sink/gone", "sink/kept/alerts"}) {
		t.Fatalf("removed %v", names)
	}
	left, _ := st.Consumers(ctx)
	names = nil
	for _, c := range left {
		names = append(names, c.Name)
	}
	if !slices.Equal(names, []string{"processor", "sink/kept"}) {
		t.Fatalf("left %v", names)
	}
	if again, err := PruneConsumers(ctx, st, []Config{testConfig("kept", &FileConfig{Path: "x"})}); err != nil || len(again) != 0 {
		t.Fatalf("second prune: %v %v", again, err)
	}
}

func TestRemoveSink(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	for _, n := range []string{"sink/a", "sink/a.b"} {
		if _, err := st.RegisterConsumer(ctx, n, store.StreamJournal, 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.RegisterConsumer(ctx, "sink/a/alerts", store.StreamAlerts, 0); err != nil {
		t.Fatal(err)
	}
	removed, err := RemoveSink(ctx, st, "a")
	if err != nil || len(removed) != 2 {
		t.Fatalf("remove a: %v %v", removed, err)
	}
	if _, err := RemoveSink(ctx, st, "a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("remove a twice: %v", err)
	}
	if offsetOf(t, st, "sink/a.b") != 0 {
		t.Fatal("a.b was removed with a")
	}
}

// TestFileDirectoryGoneLaterIsOutage: once started, a file sink whose directory disappears is
// unavailable (retried), not a configuration error.
func TestFileDirectoryGoneLaterIsOutage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := &FileConfig{Path: filepath.Join(dir, "o.jsonl")}
	if err := CheckStart([]Config{testConfig("f", cfg)}); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	s, err := cfg.Build(Env{Name: "f"})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Connect(context.Background())
	if err == nil || Classify(err) != ClassUnavailable {
		t.Fatalf("connect with the directory gone: %v (%s), want unavailable", err, Classify(err))
	}
}

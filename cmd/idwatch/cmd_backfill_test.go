package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// TestBackfillDetectsWhatReplayDetects collects 30 hours of an oktasim org holding every attack
// storyline over HTTP, the way a new user does, into two data directories: one by a backfill of
// the whole period, one by live collection of the last hour followed by a backfill of the hours
// before. Processed, each stores every alert that a replay of its time-sorted export (`events
// export --sort published`) raises; the backfill alone stores exactly those.
func TestBackfillDetectsWhatReplayDetects(t *testing.T) {
	if testing.Short() {
		t.Skip("collects 30 hours of an emulated org")
	}
	f := simFlags{listen: "127.0.0.1:0", history: 30 * time.Hour, users: 60, storylines: 17, seed: 7,
		lateShare: 0.02, lateDelay: 2 * time.Minute, orgDomain: "acme.example", noRateLimits: true}
	var logs strings.Builder
	sim, serve, err := f.start(stdio{out: &logs, err: &logs, log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	// The org keeps producing live traffic while the test runs, as a real one does.
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-served
	})
	tokFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokFile, []byte(sim.Info.APIToken), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		steps [][]string
		exact bool
	}{
		{"backfill 30h", [][]string{{"backfill", "--integration", "acme", "--since", "30h"}, {"collect", "--once"}}, true},
		{"live last hour, then backfill 29h before it", [][]string{{"collect", "--once", "--lookback", "1h"},
			{"backfill", "--integration", "acme", "--since", "30h", "--until", "1h"}, {"collect", "--once"}}, false},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			dir := t.TempDir()
			dd := "--data-dir=" + dir
			if code, out, errOut := runCLI(t, "", "integrations", "add", dd, "--name", "acme", "--org-url", sim.Info.OrgURL, "--api-token-file", tokFile); code != 0 {
				t.Fatalf("add: %d\n%s\n%s", code, out, errOut)
			}
			for _, step := range c.steps {
				if code, out, errOut := runCLI(t, "", append(step, dd)...); code != 0 {
					t.Fatalf("%v: %d\n%s\n%s", step, code, out, errOut)
				}
			}
			code, export, errOut := runCLI(t, "", "events", "export", dd, "--sort", "published")
			if code != 0 {
				t.Fatalf("export: %d %s", code, errOut)
			}
			want := replayExport(t, export)
			got := storedAlertIDs(t, dir)
			var missing, extra []string
			for _, id := range want {
				if _, ok := slices.BinarySearch(got, id); !ok {
					missing = append(missing, id)
				}
			}
			for _, id := range got {
				if _, ok := slices.BinarySearch(want, id); !ok {
					extra = append(extra, id)
				}
			}
			t.Logf("%s: %d events, %d alerts stored, the time-sorted replay raises %d (%d raised on partial history)",
				c.name, strings.Count(export, "\n"), len(got), len(want), len(extra))
			if len(want) < 17 {
				t.Fatalf("the replay raises only %d alerts; the storylines did not reach the journal", len(want))
			}
			if len(missing) > 0 || (c.exact && len(extra) > 0) {
				t.Fatalf("missing %v, extra %v", missing, extra)
			}
		})
	}
}

// replayExport runs `idwatch replay` (the built-in rules, as the processor runs them) over a
// time-sorted export and returns the sorted ids of the alerts it raises.
func replayExport(t *testing.T, export string) []string {
	t.Helper()
	code, out, errOut := runCLI(t, export, "replay", "-")
	if code != 0 {
		t.Fatalf("replay: %d\n%s", code, errOut)
	}
	ids, _ := findingIDs(t, out)
	return ids
}

// storedAlertIDs returns the sorted ids of the alerts stored in a data directory.
func storedAlertIDs(t *testing.T, dir string) []string {
	t.Helper()
	st, err := sqlite.OpenDataDir(context.Background(), dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var ids []string
	for after := int64(0); ; {
		page, err := st.ReadAlerts(context.Background(), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, a := range page {
			ids = append(ids, a.ID)
		}
		after = page[len(page)-1].Seq
	}
	slices.Sort(ids)
	return ids
}

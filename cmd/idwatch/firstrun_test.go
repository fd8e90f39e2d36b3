package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/secret"
)

// dirNames lists the names in dir (nil when it does not exist).
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestExampleConfigFirstRun runs the documented example configuration as it is, for a user whose
// only directory is HOME: an integration added without --data-dir and serve --once with the
// example land in the per-user data directory, the example's file sink writes every event there,
// and nothing is written next to the configuration file, in the working directory or under
// /var/lib.
func TestExampleConfigFirstRun(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, v := range []string{envDataDir, "XDG_DATA_HOME", "XDG_CONFIG_HOME", secret.EnvMasterKey} {
		t.Setenv(v, "")
	}
	example := filepath.Join("..", "..", "docs", "examples", "idwatch.yml")
	exampleDir, cwd := dirNames(t, filepath.Dir(example)), dirNames(t, ".")
	_, varLibErr := os.Stat("/var/lib/idwatch")

	const events = 40
	org := startSimOrg(t, oktasim.Config{})
	org.appendSimEvents(t, 0, events, time.Now(), nil)
	tokFile := filepath.Join(home, "okta-token")
	if err := os.WriteFile(tokFile, []byte(org.token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, "", "integrations", "add", "--name", "acme", "--org-url", org.url, "--api-token-file", tokFile); code != 0 {
		t.Fatalf("integrations add: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, "", "serve", "--config", example, "--once"); code != 0 {
		t.Fatalf("serve --once with the example: exit %d\n%s\n%s", code, out, errOut)
	}

	dataDir := filepath.Join(home, ".local", "share", "idwatch")
	checkEachOnce(t, "the example's file sink", fileSinkIDs(t, filepath.Join(dataDir, "okta-events.jsonl")), events)
	err := filepath.WalkDir(home, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == tokFile {
			return err
		}
		if rel, _ := filepath.Rel(dataDir, p); !filepath.IsLocal(rel) {
			t.Errorf("%s written outside the data directory %s", p, dataDir)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := dirNames(t, filepath.Dir(example)); !slices.Equal(got, exampleDir) {
		t.Errorf("files next to the example changed: %v, was %v", got, exampleDir)
	}
	if got := dirNames(t, "."); !slices.Equal(got, cwd) {
		t.Errorf("files in the working directory changed: %v, was %v", got, cwd)
	}
	if _, err := os.Stat("/var/lib/idwatch"); errors.Is(varLibErr, fs.ErrNotExist) && err == nil {
		t.Error("/var/lib/idwatch was created")
	}
}

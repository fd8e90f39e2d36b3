package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// dataDirEnv overrides the default data directory.
const dataDirEnv = "IDWATCH_DATA_DIR"

// dataDirFlag registers --data-dir with its per-user default.
func dataDirFlag(fs *flag.FlagSet) *string {
	return fs.String("data-dir", userDataDir(), "directory of the database and master key (env "+dataDirEnv+")")
}

// userDataDir is $IDWATCH_DATA_DIR, else $XDG_DATA_HOME/idwatch, else the per-user data
// directory (~/.local/share/idwatch on Linux, the user config directory elsewhere).
func userDataDir() string {
	if d := os.Getenv(dataDirEnv); d != "" {
		return d
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "idwatch")
	}
	if home, err := os.UserHomeDir(); err == nil && filepath.Separator == '/' {
		if _, err := os.Stat("/Library"); err != nil { // not macOS
			return filepath.Join(home, ".local", "share", "idwatch")
		}
	}
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "idwatch")
	}
	return "idwatch-data"
}

// openDataDir opens the data directory's database with its master key (IDWATCH_MASTER_KEY or the
// key file created on first use).
func openDataDir(ctx context.Context, io stdio, dir string) (*sqlite.Store, error) {
	if dir == "" {
		return nil, fmt.Errorf("%w: --data-dir is empty", errUsage)
	}
	return sqlite.OpenDataDir(ctx, dir, sqlite.Options{Logger: io.log})
}

// parseSince accepts RFC 3339 or a duration back from now (90m, 36h, 7d).
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	bad := fmt.Errorf("%w: time %q is neither RFC 3339 (2026-03-01T00:00:00Z) nor a duration back from now (90m, 7d)", errUsage, s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil || n < 0 || n > 36500 {
			return time.Time{}, bad
		}
		return now.Add(-time.Duration(n * float64(24*time.Hour))), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, bad
	}
	return now.Add(-d), nil
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/dirlock"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

func runBackfill(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "backfill", "backfill --integration N --since T [--until T]")
	c := addCommon(fs)
	name := fs.String("integration", "", "integration to backfill")
	sinceS := fs.String("since", "", "start: RFC 3339 or a duration back from now (7d, 36h); at most 90 days back")
	untilS := fs.String("until", "", "end (default now)")
	window := fs.Duration("window", collect.DefaultBackfillWindow, "span of each bounded read")
	share := fs.Float64("share", 0.25, "largest share of the logs rate-limit bucket the backfill may use (live collection keeps priority)")
	restart := fs.Bool("restart", false, "ignore the saved progress of this job and start over")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *sinceS == "" {
		return fmt.Errorf("%w: --since is required", errUsage)
	}
	now := time.Now()
	since, err := parseTime(*sinceS, now)
	if err != nil {
		return err
	}
	st, err := c.openStore(ctx, io, sqlite.KeyCollect)
	if err != nil {
		return err
	}
	defer st.Close()
	in, err := integration(ctx, st, *name)
	if err != nil {
		return err
	}
	if err := readable(in); err != nil {
		return err
	}
	// Backfill merges by uuid and never moves the live cursor, so it runs beside serve or collect;
	// two backfills of one integration would overwrite each other's progress file.
	lock, err := dirlock.TryExclusive(filepath.Join(c.dataDir, "backfill", fmt.Sprintf("%d.lock", in.ID)), "backfill "+in.Name)
	if errors.Is(err, dirlock.ErrHeld) {
		var held *dirlock.HeldError
		errors.As(err, &held)
		return fmt.Errorf("a backfill of %s is already running in %s; wait for it to finish or stop it, then rerun this command to resume", in.Name, held.Holder)
	}
	if err != nil {
		return err
	}
	defer lock.Release()
	ckpt := filepath.Join(c.dataDir, "backfill", fmt.Sprintf("%d.json", in.ID))
	saved, _ := loadBackfill(ckpt)
	until := now
	switch {
	case *untilS != "":
		if until, err = parseTime(*untilS, now); err != nil {
			return err
		}
	case saved != nil && !*restart && saved.IntegrationID == in.ID && saved.Since.Equal(since) && !saved.Done:
		until = saved.Until // rerunning the same command resumes the same job
	}
	cfg := collect.BackfillConfig{IntegrationID: in.ID, Since: since, Until: until, Window: *window, Logger: io.log}
	if err := cfg.Validate(now); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if *share <= 0 || *share > 1 {
		return fmt.Errorf("%w: --share must be in (0, 1]", errUsage)
	}
	govs, err := okta.NewGovernorSet(okta.GovernorConfig{Share: max(*share, 0.5), Logger: io.log,
		LaneShares: map[okta.Lane]float64{okta.LaneBackfill: *share}})
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	in, err = collect.EnsureDPoPKey(ctx, st, in)
	if err != nil {
		return err
	}
	client, err := (&collect.Clients{Governors: govs, Logger: io.log, Dial: io.dial}).Client(in)
	if err != nil {
		return err
	}
	if *restart || saved == nil || !saved.Matches(cfg) {
		saved = nil
	} else if !c.json {
		fmt.Fprintf(io.err, "resuming the backfill of %s from %s\n", in.Name, saved.WindowStart.UTC().Format(time.RFC3339))
	}
	tty := isTerminal(io.err)
	lastShown := time.Time{}
	show := func(p collect.Progress) {
		if c.json || (!tty && time.Since(lastShown) < 5*time.Second && p.Fraction < 1) {
			return
		}
		lastShown = time.Now()
		line := fmt.Sprintf("%s: %5.1f%%  %d new, %d already held  %.0f events/min  through %s  ETA %s",
			in.Name, p.Fraction*100, p.Events, p.Duplicates, p.Rate, p.Covered.UTC().Format(time.RFC3339), p.ETA.Round(time.Second))
		if tty {
			fmt.Fprintf(io.err, "\r\033[K%s", line)
		} else {
			fmt.Fprintln(io.err, line)
		}
	}
	final, err := collect.Backfill(ctx, client, st, cfg, saved, func(s collect.BackfillState) error { return saveBackfill(ckpt, s) }, show)
	if tty && !c.json {
		fmt.Fprintln(io.err)
	}
	if err != nil {
		if ctx.Err() == nil {
			_, reason, fix := collect.Explain(err)
			if fix != "" {
				err = fmt.Errorf("%s; fix: %s (rerun the same command to resume)", reason, fix)
			} else {
				err = fmt.Errorf("%w (rerun the same command to resume)", err)
			}
		}
		return err
	}
	if c.json {
		return writeJSON(io, final)
	}
	fmt.Fprintf(io.out, "backfill of %s done: %d new events, %d already held, %d requests\n", in.Name, final.Events, final.Duplicates, final.Requests)
	return nil
}

func loadBackfill(path string) (*collect.BackfillState, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s collect.BackfillState
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, errors.New("unreadable backfill progress file")
	}
	return &s, nil
}

// saveBackfill writes the job's state atomically (temp file, rename).
func saveBackfill(path string, s collect.BackfillState) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// isTerminal reports whether w is a character device (progress then redraws one line).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/process"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

func runCollect(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "collect", "collect [--integration N] [--once] [--quiet]")
	c := addCommon(fs)
	name := fs.String("integration", "", "collect only this integration (default: every enabled one)")
	once := fs.Bool("once", false, "stop when every integration is caught up")
	var cfg collect.Config
	fs.DurationVar(&cfg.Lookback, "lookback", collect.DefaultLookback, "how far back a new integration's first poll starts (at most 90 days: 2160h)")
	fs.DurationVar(&cfg.PollInterval, "poll-interval", collect.DefaultPollInterval, "wait between polls once caught up")
	fs.DurationVar(&cfg.Overlap, "overlap", collect.DefaultOverlap, "re-read window when Okta refuses the stored cursor")
	fs.IntVar(&cfg.PageLimit, "page-limit", collect.DefaultPageLimit, "System Log page size (1-1000)")
	share := fs.Float64("share", 0.5, "largest share of any Okta rate-limit bucket idwatch may use (0-1]")
	processEvents := fs.Bool("process", true, "also normalize collected events and run the detection rules on them (alerts: idwatch alerts list)")
	rulesDir := fs.String("rules", "", "a directory of your own Sigma rules, run with the built-in ones")
	quiet := fs.Bool("quiet", false, "no status line per integration every minute (state, events, lag, rate budget) on stderr")
	strict := fs.Bool("strict", false, "refuse to start when one of your rule files does not load (default: leave it out and report it)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	govs, err := okta.NewGovernorSet(okta.GovernorConfig{Share: *share, Logger: io.log})
	if err != nil {
		return fmt.Errorf("%w: --share: %v", errUsage, err)
	}
	lock, err := c.lockDataDir("collect")
	if err != nil {
		return err
	}
	defer lock.Release()
	st, err := c.openStore(ctx, io, sqlite.KeyCollect)
	if err != nil {
		return err
	}
	defer st.Close()
	cfg.Logger = io.log
	mc := collect.ManagerConfig{Store: st, Clients: &collect.Clients{Governors: govs, Logger: io.log, Dial: io.dial}, Collect: cfg}
	if *name != "" {
		in, err := integration(ctx, st, *name)
		if err != nil {
			return err
		}
		if !in.Enabled {
			return fmt.Errorf("integration %q is disabled; run idwatch integrations enable %s", in.Name, in.Name)
		}
		mc.Only = []string{in.Name}
	}
	m, err := collect.NewManager(mc)
	if err != nil {
		return err
	}
	var proc *process.Processor
	if *processEvents {
		if proc, err = process.New(ctx, process.Config{Store: st, Logger: io.log, RulesDir: *rulesDir, SkipBadRules: !*strict}); err != nil {
			return err
		}
	}
	if !*quiet {
		stopStatus := reportStatus(ctx, m)
		defer stopStatus()
	}
	if !*once {
		io.log.Info("collecting; stop with Ctrl-C", "data_dir", c.dataDir)
		procErr := make(chan error, 1)
		if proc != nil {
			go func() { procErr <- proc.Run(ctx) }()
		} else {
			procErr <- nil
		}
		runErr := m.Run(ctx)
		if err := <-procErr; err != nil && !errors.Is(err, context.Canceled) && runErr == nil {
			runErr = err
		}
		if runErr != nil && !errors.Is(runErr, context.Canceled) {
			return runErr
		}
		return nil
	}
	runErr := m.CatchUp(ctx, 5)
	if proc != nil {
		if _, err := proc.ProcessAvailable(ctx); err != nil && runErr == nil {
			runErr = fmt.Errorf("process collected events: %w", err)
		}
	}
	hs, err := m.Health(ctx)
	if err != nil {
		return err
	}
	if c.json {
		names := integrationNames(ctx, st)
		rows := make([]healthRow, 0, len(hs))
		for _, h := range hs {
			rows = append(rows, healthRow{Health: h, IntegrationName: names[h.IntegrationID]})
		}
		if err := writeJSON(io, rows); err != nil {
			return err
		}
	} else {
		printHealth(io, st, hs)
	}
	return runErr
}

// healthRow is one element of collect --once --json: the health record and the integration's name.
type healthRow struct {
	store.Health
	IntegrationName string `json:"integrationName,omitempty"`
}

// reportStatus logs a status line per integration every minute until the returned function is
// called; that function returns once the reporter has stopped.
func reportStatus(ctx context.Context, m *collect.Manager) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = m.ReportStatus(ctx, collect.DefaultStatusEvery) // returns ctx's error only
	}()
	return func() { cancel(); <-done }
}

// printHealth writes the health table of collect --once.
func printHealth(io stdio, st store.Integrations, hs []store.Health) {
	tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INTEGRATION\tSTATE\tLAST EVENT\tEVENTS\tREQUESTS\tBUDGET\tREASON")
	names := integrationNames(context.Background(), st)
	for _, h := range hs {
		name := nameOrID(names, h.IntegrationID)
		last := "-"
		if !h.LastEventAt.IsZero() {
			last = h.LastEventAt.UTC().Format(time.RFC3339)
		}
		reason := h.Reason
		if h.Fix != "" {
			reason += " — fix: " + h.Fix
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%.0f%%\t%s\n", name, h.State, last, h.EventsCollected, h.RequestsMade, h.BudgetShareUsed*100, reason)
	}
	tw.Flush()
}

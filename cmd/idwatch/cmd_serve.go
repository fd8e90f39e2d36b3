package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/config"
	"github.com/idwatch/idwatch/internal/detect/sigma"
	"github.com/idwatch/idwatch/internal/freshness"
	"github.com/idwatch/idwatch/internal/hooks"
	"github.com/idwatch/idwatch/internal/incident"
	"github.com/idwatch/idwatch/internal/normalize"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/process"
	"github.com/idwatch/idwatch/internal/sink"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// runServe runs collection, processing and every configured sink together until the context
// ends (SIGINT/SIGTERM), or with --once until everything collected so far is delivered.
func runServe(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "serve", "serve --config F [--data-dir D] [--once] [--quiet]")
	c := addCommon(fs)
	path := fs.String("config", "", "configuration file (see docs/configuration.md)")
	once := fs.Bool("once", false, "collect until every integration is caught up, process, deliver to every sink, then exit")
	quiet := fs.Bool("quiet", false, "no status line per integration every minute (state, events, lag, rate budget) on stderr")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *path == "" {
		return fmt.Errorf("%w: --config is required (example: docs/examples/idwatch.yml)", errUsage)
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	if cfg.DataDir != "" && !flagSet(fs, "data-dir") {
		c.dataDir = cfg.DataDir
	}
	if err := sink.CheckStart(cfg.Sinks); err != nil {
		return fmt.Errorf("%s: %w", *path, err)
	}
	c.syncFull, c.maxJournal = cfg.Storage.SyncFull(), cfg.Storage.JournalMaxEntries
	c.cacheBytes, c.mmapBytes = cfg.Storage.CacheMiB<<20, cfg.Storage.MmapMiB<<20
	govs, err := okta.NewGovernorSet(okta.GovernorConfig{Share: cfg.Collect.ShareOrDefault(), Logger: io.log})
	if err != nil {
		return fmt.Errorf("%s: collect.share: %w", *path, err)
	}
	lock, err := c.lockDataDir("serve")
	if err != nil {
		return err
	}
	defer lock.Release()
	st, err := c.openStore(ctx, io, sqlite.KeyCollect)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := pruneSinks(ctx, io, st, cfg.Sinks); err != nil {
		return err
	}
	if !*once {
		if err := ensureAdminKey(ctx, io, st, c.dataDir); err != nil {
			return err
		}
	}
	tuning := cfg.Collect.Tuning()
	tuning.Logger = io.log
	clients := &collect.Clients{Governors: govs, Logger: io.log, Dial: io.dial}
	m, err := collect.NewManager(collect.ManagerConfig{Store: st, Clients: clients, Collect: tuning})
	if err != nil {
		return err
	}
	metrics := prometheus.NewRegistry()
	fresh, err := freshness.New(metrics, nil)
	if err != nil {
		return err
	}
	inventories := newInventories(io, st, govs, cfg.Inventory)
	// The responder serves the API's response routes, and rules' responses when processing runs.
	responder, err := newResponder(st, cfg.Respond, govs, io)
	if err != nil {
		return err
	}
	var proc *process.Processor
	if cfg.Process.On() {
		// Rules' responses act on alerts raised from now on, within the cycle that raised them.
		if err := responder.Register(ctx); err != nil {
			return err
		}
		if proc, err = process.New(ctx, process.Config{Store: st, Logger: io.log, RulesDir: cfg.Process.RulesDir,
			SkipBadRules: !cfg.Process.StrictRules, Placeholders: sigma.PlaceholderChain{cfg.PlaceholderMap(), adminPlaceholders{inventories.Admins()}}, AlertConsumers: []process.AlertConsumer{responder}, Enrichment: inventories,
			Incidents: incident.Config{Window: cfg.Process.IncidentWindow}, ReopenWithin: cfg.Process.IncidentReopen, Observe: fresh.Observe}); err != nil {
			return err
		}
	}
	group := sink.GroupOptions{Store: st, Configs: cfg.SinksIn(c.dataDir), Logger: io.log, OCSF: sink.NormalizeOCSFEnriched(normalize.New(), inventories.Enricher)}
	retention := store.Retention{Journal: st, Keep: cfg.Storage.Keep(), Alerts: st, AlertsKeep: cfg.Storage.AlertsKeepOrDefault(),
		DeadLetters: st, DeadLettersKeep: cfg.Storage.DeadLettersKeepOrDefault(),
		Incidents: st, IncidentsKeep: cfg.Storage.IncidentsKeepOrDefault(), Identity: st, IdentityKeep: cfg.Storage.AlertsKeepOrDefault(), Interval: cfg.Storage.Interval(), Logger: io.log}
	if !*quiet {
		stopStatus := reportStatus(ctx, m)
		defer stopStatus()
	}
	if *once {
		return serveOnce(ctx, io, st, m, proc, group, retention)
	}
	hookRecv, hookSrv, err := newHookReceiver(io, cfg.Hooks, st, metrics)
	if err != nil {
		return err
	}
	// Without hooks.listen, the API listener receives the event hooks.
	var apiHooks http.Handler
	if hookSrv == nil {
		apiHooks = hookRecv
	}
	api, err := newAPIServer(apiOptions{cfg: cfg, dataDir: c.dataDir, st: st, clients: clients, m: m, log: io.log,
		metrics: metrics, hooks: apiHooks, responder: responder, inventories: inventories})
	if err != nil {
		return err
	}
	io.log.Info("serving; stop with Ctrl-C", "data_dir", c.dataDir, "sinks", len(cfg.Sinks), "processing", proc != nil, "storage_sync_full", c.syncFull, "console", api.url())
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	// A part that fails stops the others: serving without collection or without sinks would
	// look healthy while doing nothing useful.
	start := func(what string, fn func(context.Context) error) {
		wg.Go(func() {
			if err := fn(ctx); err != nil && !errors.Is(err, context.Canceled) {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", what, err))
				mu.Unlock()
				cancel(err)
			}
		})
	}
	start("collect", m.Run)
	if proc != nil {
		start("process", proc.Run)
	}
	start("sinks", func(ctx context.Context) error { return sink.RunGroup(ctx, group) })
	start("retention", retention.Run)
	start("inventory", inventories.Run)
	if hookSrv != nil {
		io.log.Info("receiving Okta event hooks", "listen", hookSrv.Addr(), "path", hooks.PathPrefix+"{integration}")
		start("hooks", hookSrv.Run)
	}
	start("api", func(ctx context.Context) error {
		err := api.run(ctx)
		if hookSrv == nil {
			// Store the delivery statistics the API listener's hook receiver still holds.
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			hookRecv.Flush(sctx)
		}
		return err
	})
	wg.Wait()
	io.log.Info("stopped")
	return errors.Join(errs...)
}

// pruneSinks unregisters, at once, the offsets of sinks no longer in the configuration, so they
// stop holding back journal retention; each is named in a warning with what it never sent. There
// is no grace period: nothing reads those offsets any more, so keeping them would only keep the
// journal growing, and a sink put back in the configuration starts again from its start option.
func pruneSinks(ctx context.Context, io stdio, st store.Offsets, cfgs []sink.Config) error {
	removed, err := sink.PruneConsumers(ctx, st, cfgs)
	for _, c := range removed {
		name, _ := sink.SinkName(c.Name)
		io.log.Warn("sink is no longer in the configuration: its offset is removed and no longer holds back journal retention; put it back to deliver again from its start option",
			"sink", name, "stream", c.Stream, "offset", c.Offset, "unsent", c.Lag)
	}
	if err != nil {
		return fmt.Errorf("remove offsets of sinks no longer configured: %w", err)
	}
	return nil
}

// serveOnce catches every integration up, processes what was collected, runs the sinks until
// each has delivered everything in its streams, and applies retention.
func serveOnce(ctx context.Context, io stdio, st *sqlite.Store, m *collect.Manager, proc *process.Processor, group sink.GroupOptions, retention store.Retention) error {
	runErr := m.CatchUp(ctx, 5)
	if proc != nil {
		if _, err := proc.ProcessAvailable(ctx); err != nil && runErr == nil {
			runErr = fmt.Errorf("process collected events: %w", err)
		}
	}
	if err := deliverAll(ctx, st, group); err != nil {
		return errors.Join(runErr, err)
	}
	if _, err := retention.Trim(ctx); err != nil && runErr == nil {
		runErr = fmt.Errorf("retention: %w", err)
	}
	hs, err := m.Health(ctx)
	if err != nil {
		return err
	}
	printHealth(io, st, hs)
	return runErr
}

// deliverAll runs the sinks until every one has committed the current end of each stream it reads.
func deliverAll(ctx context.Context, st *sqlite.Store, group sink.GroupOptions) error {
	if len(group.Configs) == 0 {
		return nil
	}
	journalEnd, err := st.LastSeq(ctx)
	if err != nil {
		return err
	}
	alertsEnd, err := st.LastAlertSeq(ctx)
	if err != nil {
		return err
	}
	incidentsEnd, err := st.LastIncidentSeq(ctx)
	if err != nil {
		return err
	}
	identityEnd, err := st.LastIdentitySeq(ctx)
	if err != nil {
		return err
	}
	end := map[store.Stream]int64{store.StreamJournal: journalEnd, store.StreamAlerts: alertsEnd, store.StreamIncidents: incidentsEnd,
		store.StreamIdentity: identityEnd}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	started := make(chan []*sink.Runner, 1)
	group.Started = func(rs []*sink.Runner) { started <- rs }
	done := make(chan error, 1)
	go func() { done <- sink.RunGroup(ctx, group) }()
	var runners []*sink.Runner
	select {
	case runners = <-started:
	case err := <-done:
		return err
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !allDelivered(runners, end) {
		for _, r := range runners {
			// A sink stopped on an internal error will deliver nothing more: fail now, the
			// others having had their chance, rather than wait for ever.
			if r.Status().StopReason != "" {
				cancel()
				return fmt.Errorf("sinks stopped before delivering everything: %w", <-done)
			}
		}
		select {
		case <-tick.C:
		case err := <-done:
			if err == nil {
				err = ctx.Err()
			}
			return fmt.Errorf("sinks stopped before delivering everything: %w", err)
		}
	}
	cancel()
	return <-done
}

func allDelivered(runners []*sink.Runner, end map[store.Stream]int64) bool {
	for _, r := range runners {
		offs := r.Status().Offsets
		if len(offs) == 0 { // not registered yet
			return false
		}
		for s, off := range offs {
			if off < end[s] {
				return false
			}
		}
	}
	return true
}

// flagSet reports whether the named flag was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

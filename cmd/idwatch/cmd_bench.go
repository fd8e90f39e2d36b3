package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/process"
	"github.com/idwatch/idwatch/internal/rusage"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/sink"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// benchReport is what 'idwatch bench' measured, phase by phase. Rates are per wall-clock second
// unless named per CPU-second; peaks are the process's resident memory during that phase.
type benchReport struct {
	Users      int    `json:"users"`
	Days       int    `json:"days"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	DataDir    string `json:"dataDir,omitempty"`

	Collection benchPhase `json:"collection"`
	Processing benchPhase `json:"processing"`
	Delivery   benchPhase `json:"delivery"`
	Disk       benchDisk  `json:"disk"`
	// PeakRSSBytes is the highest of the phases' peaks.
	PeakRSSBytes int64 `json:"peakRssBytes"`
	// PeakRSSScope says what the peaks cover: per phase (Linux resets the peak between phases) or
	// the whole process so far.
	PeakRSSScope string `json:"peakRssScope"`
}

// benchPhase is one phase's work and cost.
type benchPhase struct {
	Items        int64   `json:"items"` // events collected or processed, records delivered
	Records      int64   `json:"records,omitempty"`
	Alerts       int64   `json:"alerts,omitempty"`
	Seconds      float64 `json:"seconds"`
	CPUSeconds   float64 `json:"cpuSeconds"`
	PerSecond    float64 `json:"perSecond"`
	PerCPUSecond float64 `json:"perCpuSecond"`
	PeakRSSBytes int64   `json:"peakRssBytes"`
}

// benchDisk is the database's size on disk after processing, measured after a checkpoint that
// moves the write-ahead log into the file (the log's size otherwise depends on when SQLite last
// checkpointed, not on what is stored).
type benchDisk struct {
	DatabaseBytes int64   `json:"databaseBytes"`
	WALBytes      int64   `json:"walBytes"`
	TotalBytes    int64   `json:"totalBytes"`
	PerEvent      float64 `json:"bytesPerEvent"`
	// Tables is each table's bytes per event, its indexes included (from SQLite's dbstat).
	Tables map[string]float64 `json:"tablesBytesPerEvent,omitempty"`
}

// runBench measures idwatch on this machine end to end: an in-process oktasim org with days of
// history is backfilled into a data directory, processed with the built-in rules and delivered to
// a file sink, and each phase's rate, CPU time and memory are printed.
func runBench(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "bench", "bench [--users N] [--days N] [--json] [--data-dir D]")
	users := fs.Int("users", 5000, "workforce size of the emulated org")
	days := fs.Int("days", 3, "days of history to backfill (1..90)")
	seed := fs.Int64("seed", 1, "seed of the emulated org (same seed, same events)")
	asJSON := fs.Bool("json", false, "print the figures as one JSON object")
	dataDir := fs.String("data-dir", "", "keep the database and the sink's output here (default: a temporary directory removed on exit); must be new or empty")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the processing phase to this file (go tool pprof)")
	memProfile := fs.String("memprofile", "", "write a heap profile taken at the end of the processing phase to this file")
	deliveryProfile := fs.String("delivery-cpuprofile", "", "write a CPU profile of the delivery phase to this file (go tool pprof)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *days < 1 || *days > 90 {
		return fmt.Errorf("%w: --days must be 1..90, got %d", errUsage, *days)
	}
	dir, cleanup, err := benchDir(*dataDir)
	if err != nil {
		return err
	}
	defer cleanup()
	rep := benchReport{Users: *users, Days: *days, GOMAXPROCS: runtime.GOMAXPROCS(0), DataDir: *dataDir, PeakRSSScope: "phase"}
	progress := func(format string, a ...any) {
		if !*asJSON {
			fmt.Fprintf(io.err, format+"\n", a...)
		}
	}

	openLog := io.log
	if *dataDir == "" {
		// The new master key of a directory removed on exit needs no backup: don't ask for one.
		openLog = slog.New(slog.DiscardHandler)
	}
	st, err := sqlite.OpenDataDir(ctx, dir, sqlite.Options{Logger: openLog, Keys: sqlite.KeyStore})
	if err != nil {
		return err
	}
	defer st.Close()

	progress("bench: collecting %d days of a %d-user org…", *days, *users)
	reset, err := benchCollect(ctx, io, st, *users, *days, *seed, &rep.Collection)
	if err != nil {
		return err
	}
	if !reset {
		rep.PeakRSSScope = "process"
	}
	if rep.Collection.Items == 0 {
		return errors.New("bench: the emulated org served no events")
	}
	progress("bench: processing %d events with the built-in rules…", rep.Collection.Items)
	if err := benchProcess(ctx, io, st, &rep.Processing, *cpuProfile, *memProfile); err != nil {
		return err
	}
	if err := st.Checkpoint(ctx); err != nil {
		return err
	}
	rep.Disk = diskUsage(dir, rep.Collection.Items)
	if u, err := st.DiskUsage(ctx); err == nil && rep.Collection.Items > 0 {
		rep.Disk.Tables = map[string]float64{}
		for _, o := range u.Objects {
			rep.Disk.Tables[o.Table] += float64(o.Bytes) / float64(rep.Collection.Items)
		}
	}
	progress("bench: delivering to a file sink…")
	if err := benchDeliver(ctx, io, st, dir, &rep.Delivery, *deliveryProfile); err != nil {
		return err
	}
	rep.PeakRSSBytes = max(rep.Collection.PeakRSSBytes, rep.Processing.PeakRSSBytes, rep.Delivery.PeakRSSBytes)
	if *asJSON {
		return writeJSON(io, rep)
	}
	printBench(io, rep)
	return nil
}

// benchDir returns the data directory to use and how to clean it up.
func benchDir(keep string) (string, func(), error) {
	if keep == "" {
		tmp, err := os.MkdirTemp("", "idwatch-bench-")
		if err != nil {
			return "", nil, fmt.Errorf("bench data directory: %w", err)
		}
		return tmp, func() { os.RemoveAll(tmp) }, nil
	}
	if ents, err := os.ReadDir(keep); err == nil && len(ents) > 0 {
		return "", nil, fmt.Errorf("%w: --data-dir %s is not empty; pass a new directory so the figures cover one run", errUsage, keep)
	}
	if err := os.MkdirAll(keep, 0o700); err != nil {
		return "", nil, fmt.Errorf("bench data directory: %w", err)
	}
	return keep, func() {}, nil
}

// startPhase frees what earlier phases left and starts a new memory peak; it reports whether the
// peak could be reset (Linux).
func startPhase() (time.Time, time.Duration, bool) {
	runtime.GC()
	debug.FreeOSMemory()
	reset := rusage.ResetPeakRSS()
	return time.Now(), rusage.CPUTime(), reset
}

// endPhase fills a phase's timings and rates.
func endPhase(p *benchPhase, start time.Time, cpu0 time.Duration) {
	p.Seconds = time.Since(start).Seconds()
	p.CPUSeconds = (rusage.CPUTime() - cpu0).Seconds()
	if p.Seconds > 0 {
		p.PerSecond = float64(p.Items) / p.Seconds
	}
	if p.CPUSeconds > 0 {
		p.PerCPUSecond = float64(p.Items) / p.CPUSeconds
	}
	p.PeakRSSBytes = rusage.PeakRSS()
}

// benchCollect starts the org, backfills its history into st and stops the org. Its figures
// include the emulator's own work (it runs in this process, serving the pages over loopback). It
// reports whether the memory peak was reset for the phase.
func benchCollect(ctx context.Context, io stdio, st *sqlite.Store, users, days int, seed int64, p *benchPhase) (bool, error) {
	var f simFlags
	fs := newFlagSet(io, "bench", "")
	f.register(fs, 0)
	f.listen, f.users, f.seed, f.noRateLimits = "127.0.0.1:0", users, seed, true
	f.history = time.Duration(days) * 24 * time.Hour
	ok := true
	err := func() error {
		sim, serve, err := f.start(io)
		if err != nil {
			return err
		}
		simCtx, stop := context.WithCancel(ctx)
		simDone := make(chan error, 1)
		go func() { simDone <- serve(simCtx) }()
		defer func() { stop(); <-simDone }()

		app := sim.Info.ServiceApp
		in, err := st.CreateIntegration(ctx, store.Integration{Name: "oktasim", OrgURL: sim.Info.OrgURL, AuthKind: store.AuthOAuth,
			ClientID: app.ClientID, KeyID: app.KeyID, Enabled: true, CustomAttributes: store.DefaultAttributeNames,
			Credentials: store.Credentials{PrivateKeyPEM: secret.New(app.PrivateKeyPEM)}})
		if err != nil {
			return err
		}
		if in, err = collect.EnsureDPoPKey(ctx, st, in); err != nil {
			return err
		}
		govs, err := okta.NewGovernorSet(okta.GovernorConfig{Share: 1, Logger: io.log, LaneShares: map[okta.Lane]float64{okta.LaneBackfill: 1}})
		if err != nil {
			return err
		}
		client, err := (&collect.Clients{Governors: govs, Logger: io.log, Dial: io.dial}).Client(in)
		if err != nil {
			return err
		}
		var start time.Time
		var cpu0 time.Duration
		start, cpu0, ok = startPhase()
		now := time.Now()
		final, err := collect.Backfill(ctx, client, st, collect.BackfillConfig{IntegrationID: in.ID,
			Since: now.Add(-f.history), Until: now, Logger: io.log}, nil, nil, nil)
		if err != nil {
			return fmt.Errorf("bench: backfill: %w", err)
		}
		p.Items = final.Events
		endPhase(p, start, cpu0)
		return nil
	}()
	return ok, err
}

// benchProcess runs the processor over the whole journal with the built-in rules.
func benchProcess(ctx context.Context, io stdio, st *sqlite.Store, p *benchPhase, cpuProfile, memProfile string) error {
	proc, err := process.New(ctx, process.Config{Store: st, Logger: io.log, IdleDelay: -1})
	if err != nil {
		return err
	}
	start, cpu0, _ := startPhase()
	stopProfile, err := startCPUProfile(cpuProfile)
	if err != nil {
		return err
	}
	n, err := proc.ProcessAvailable(ctx)
	stopProfile()
	if err != nil {
		return fmt.Errorf("bench: processing: %w", err)
	}
	if err := writeHeapProfile(memProfile); err != nil {
		return err
	}
	s := proc.Stats()
	p.Items, p.Records, p.Alerts = int64(n), s.Records, s.Alerts
	endPhase(p, start, cpu0)
	return nil
}

// benchDeliver delivers the journal to a file sink in dir until the sink has committed every entry.
func benchDeliver(ctx context.Context, io stdio, st *sqlite.Store, dir string, p *benchPhase, cpuProfile string) error {
	b, err := st.Bounds(ctx)
	if err != nil {
		return err
	}
	cfg := sink.Config{Name: "bench", Type: "file", Batch: sink.BatchConfig{MaxRecords: 1000, MaxWait: 10 * time.Millisecond},
		Spec: &sink.FileConfig{Path: filepath.Join(dir, "bench-out.jsonl")}}
	r, err := sink.NewRunner(sink.RunnerOptions{Store: st, Config: cfg, Logger: io.log, PollInterval: 10 * time.Millisecond})
	if err != nil {
		return err
	}
	start, cpu0, _ := startPhase()
	stopProfile, err := startCPUProfile(cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for r.Status().Offsets[store.StreamJournal] < b.LastSeq {
		select {
		case err := <-done:
			cancel()
			return fmt.Errorf("bench: the file sink stopped: %v", err)
		case <-ctx.Done():
			cancel()
			<-done
			return ctx.Err()
		case <-tick.C:
		}
	}
	p.Items = r.Status().Delivered
	endPhase(p, start, cpu0)
	cancel()
	<-done
	return nil
}

// diskUsage is the size of the database file and its write-ahead log.
func diskUsage(dir string, events int64) benchDisk {
	var d benchDisk
	if fi, err := os.Stat(filepath.Join(dir, sqlite.FileName)); err == nil {
		d.DatabaseBytes = fi.Size()
	}
	if fi, err := os.Stat(filepath.Join(dir, sqlite.FileName+"-wal")); err == nil {
		d.WALBytes = fi.Size()
	}
	d.TotalBytes = d.DatabaseBytes + d.WALBytes
	if events > 0 {
		d.PerEvent = float64(d.TotalBytes) / float64(events)
	}
	return d
}

// printBench prints the report for people.
func printBench(io stdio, r benchReport) {
	mb := func(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/(1<<20)) }
	var b strings.Builder
	fmt.Fprintf(&b, "idwatch bench: %d users, %d days, GOMAXPROCS %d\n", r.Users, r.Days, r.GOMAXPROCS)
	row := func(name string, p benchPhase, unit string) {
		fmt.Fprintf(&b, "  %-11s %9d %-7s %7.1f s  %9.0f %s/s  %9.0f %s/CPU-s  peak RSS %s\n",
			name, p.Items, unit, p.Seconds, p.PerSecond, unit, p.PerCPUSecond, unit, mb(p.PeakRSSBytes))
	}
	row("collection", r.Collection, "events")
	row("processing", r.Processing, "events")
	fmt.Fprintf(&b, "  %-11s %d records, %d alerts\n", "", r.Processing.Records, r.Processing.Alerts)
	row("delivery", r.Delivery, "records")
	fmt.Fprintf(&b, "  disk        %s (database %s, WAL %s), %.0f bytes per event\n",
		mb(r.Disk.TotalBytes), mb(r.Disk.DatabaseBytes), mb(r.Disk.WALBytes), r.Disk.PerEvent)
	tables := slices.Collect(maps.Keys(r.Disk.Tables))
	slices.SortFunc(tables, func(a, b string) int { return cmp.Compare(r.Disk.Tables[b], r.Disk.Tables[a]) })
	for _, t := range tables[:min(len(tables), 6)] { // the largest; --json has them all
		if r.Disk.Tables[t] >= 1 {
			fmt.Fprintf(&b, "  %-11s %-24s %6.0f bytes per event\n", "", t, r.Disk.Tables[t])
		}
	}
	scope := "each phase's own peak"
	if r.PeakRSSScope != "phase" {
		scope = "the process's peak so far (this system cannot reset it between phases)"
	}
	fmt.Fprintf(&b, "  peak RSS    %s (%s; collection includes the in-process emulator)\n", mb(r.PeakRSSBytes), scope)
	fmt.Fprint(io.out, b.String())
}

// startCPUProfile starts profiling to path (nothing when empty) and returns how to stop it.
func startCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// writeHeapProfile writes the live heap to path (nothing when empty).
func writeHeapProfile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--memprofile: %w", err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		return fmt.Errorf("--memprofile: %w", err)
	}
	return f.Close()
}

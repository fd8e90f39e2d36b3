package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/config"
	"github.com/idwatch/idwatch/internal/sink"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// sinkFlags are the flags the sinks and deadletter commands share: where the data is, and the
// configuration that names the sinks (and may name the data directory).
type sinkFlags struct {
	fs         *flag.FlagSet
	dataDir    *string
	configPath *string
}

func addSinkFlags(fs *flag.FlagSet, configDoc string) sinkFlags {
	return sinkFlags{
		fs:         fs,
		dataDir:    fs.String("data-dir", defaultDataDir(), "data directory (default: the config's data_dir, else $"+envDataDir+", else the per-user data directory)"),
		configPath: fs.String("config", "", configDoc),
	}
}

// load reads the configuration when --config was given; without it, the result is empty.
func (f sinkFlags) load() (config.Config, error) {
	if *f.configPath == "" {
		return config.Config{}, nil
	}
	cfg, err := config.Load(*f.configPath)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return cfg, fmt.Errorf("%w: %v", errUsage, err)
	}
	return cfg, err
}

// dir is the data directory as serve picks it: --data-dir when given, else the config's
// data_dir, else the default.
func (f sinkFlags) dir(cfg config.Config) string {
	if cfg.DataDir != "" && !flagSet(f.fs, "data-dir") {
		return cfg.DataDir
	}
	return *f.dataDir
}

// openStore opens the data directory as serve does: --data-dir when given, else the config's
// data_dir, else the default. These commands never create a database or a master key: they only
// look at what serve wrote, and a fresh database in the wrong place would hide the real one
// behind an empty listing. They need no master key, since nothing they read is sealed.
func (f sinkFlags) openStore(ctx context.Context, io stdio, cfg config.Config) (*sqlite.Store, error) {
	dir := f.dir(cfg)
	if dir == "" {
		return nil, fmt.Errorf("%w: --data-dir is empty", errUsage)
	}
	path := filepath.Join(dir, sqlite.FileName)
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && fi.Size() == 0) {
		hint := "pass --config with the configuration serve runs with, or --data-dir with the data directory it uses"
		if *f.configPath != "" {
			hint = "check data_dir in " + *f.configPath + ", or pass --data-dir with the data directory serve uses"
		}
		return nil, fmt.Errorf("no idwatch database in data directory %s (looked for %s): %s", dir, path, hint)
	}
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	return sqlite.Open(ctx, sqlite.Options{Path: path, Logger: io.log})
}

func runSinks(ctx context.Context, io stdio, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: want 'sinks types', 'sinks list' or 'sinks remove NAME'", errUsage)
	}
	switch args[0] {
	case "types":
		return runSinkTypes(io, args[1:])
	case "list":
		return runSinkList(ctx, io, args[1:])
	case "remove":
		return runSinkRemove(ctx, io, args[1:])
	}
	return fmt.Errorf("%w: unknown sinks subcommand %q (want types, list or remove)", errUsage, args[0])
}

func runSinkTypes(io stdio, args []string) error {
	fs := newFlagSet(io, "sinks types", "sinks types [--json]")
	asJSON := fs.Bool("json", false, "machine-readable output")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	reg, err := sink.NewRegistry()
	if err != nil {
		return err
	}
	type typeOut struct {
		Name    string        `json:"name"`
		Summary string        `json:"summary"`
		Options []sink.Option `json:"options"`
	}
	var out []typeOut
	for _, t := range reg.Types() {
		out = append(out, typeOut{t.Name, t.Summary, t.Options()})
	}
	if *asJSON {
		return json.NewEncoder(io.out).Encode(out)
	}
	for _, t := range out {
		fmt.Fprintf(io.out, "%s: %s\n", t.Name, t.Summary)
		tw := tabwriter.NewWriter(io.out, 2, 4, 2, ' ', 0)
		for _, o := range t.Options {
			def := ""
			if o.Default != "" {
				def = " (default " + o.Default + ")"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s%s\n", o.Name, o.Type, o.Doc, def)
		}
		tw.Flush()
		fmt.Fprintln(io.out)
	}
	fmt.Fprintln(io.out, "Every sink also takes: name, type, carry, schemas, integrations, event_types, start, batch.max_records, batch.max_wait, retry.max_attempts, retry.initial_backoff, retry.max_backoff (see docs/sinks.md).")
	return nil
}

// sinkRow is one line of `idwatch sinks list`.
type sinkRow struct {
	Name        string       `json:"name"`
	Type        string       `json:"type,omitempty"`
	Stream      store.Stream `json:"stream"`
	Offset      int64        `json:"offset"`
	Lag         int64        `json:"lag"`
	State       string       `json:"state"`
	DeadLetters int          `json:"deadLetters"`
	// Status is what the running sink last reported (delivering, retrying, connecting,
	// stopped), with the error behind a retry and when.
	Status      string    `json:"status,omitempty"`
	StatusError string    `json:"statusError,omitempty"`
	StatusAt    time.Time `json:"statusAt,omitzero"`
}

func runSinkList(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "sinks list", "sinks list [--data-dir D] [--config F] [--json]")
	sf := addSinkFlags(fs, "configuration file: its sinks: section names the sinks and their types, its data_dir the data directory")
	configPath := sf.configPath
	asJSON := fs.Bool("json", false, "machine-readable output")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := sf.load()
	if err != nil {
		return err
	}
	cfgs := cfg.Sinks
	st, err := sf.openStore(ctx, io, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	consumers, err := st.Consumers(ctx)
	if err != nil {
		return err
	}
	letters, err := st.ListDeadLetters(ctx, "", 100_000)
	if err != nil {
		return err
	}
	dead := map[string]int{}
	for _, l := range letters {
		dead[l.Sink]++
	}
	types := map[string]string{}
	for _, c := range cfgs {
		types[c.Name] = c.Type
	}
	rows := []sinkRow{}
	seen := map[string]bool{}
	for _, c := range consumers {
		name, ok := strings.CutPrefix(c.Name, "sink/")
		if !ok {
			continue
		}
		name = strings.TrimSuffix(name, "/alerts")
		seen[name] = true
		state := "caught up"
		if c.Lag > 0 {
			state = "behind"
		}
		if c.Status != "" && c.Status != string(sink.StateDelivering) {
			state = c.Status + ", " + state
		}
		if *configPath != "" && types[name] == "" {
			state = "not configured"
		}
		rows = append(rows, sinkRow{Name: name, Type: types[name], Stream: c.Stream, Offset: c.Offset, Lag: c.Lag, State: state,
			DeadLetters: dead[name], Status: c.Status, StatusError: c.StatusError, StatusAt: c.StatusAt})
	}
	for _, c := range cfgs {
		if !seen[c.Name] {
			rows = append(rows, sinkRow{Name: c.Name, Type: c.Type, State: "never started", DeadLetters: dead[c.Name]})
		}
	}
	if *asJSON {
		return json.NewEncoder(io.out).Encode(rows)
	}
	tw := tabwriter.NewWriter(io.out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTYPE\tSTREAM\tOFFSET\tLAG\tSTATE\tDEAD LETTERS")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%d\n", r.Name, orDash(r.Type), orDash(string(r.Stream)), r.Offset, r.Lag, r.State, r.DeadLetters)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range rows {
		if r.StatusError != "" {
			fmt.Fprintf(io.out, "%s (%s): %s since %s: %s\n", r.Name, r.Stream, r.Status, r.StatusAt.UTC().Format(time.RFC3339), r.StatusError)
		}
	}
	for _, r := range rows {
		if r.State == "not configured" {
			fmt.Fprintf(io.out, "%s (%s): not in %s; it holds back journal retention until serve starts with that configuration, or: idwatch sinks remove %s --config %s\n",
				r.Name, r.Stream, *configPath, r.Name, *configPath)
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runDeadLetter(ctx context.Context, io stdio, args []string) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "replay") {
		return fmt.Errorf("%w: want 'deadletter list' or 'deadletter replay'", errUsage)
	}
	sub := args[0]
	synopsis := "deadletter list [--sink N] [--config F] [--limit N] [--data-dir D] [--json]"
	if sub == "replay" {
		synopsis = "deadletter replay --sink N --config F [--limit N] [--data-dir D] [--json]"
	}
	fs := newFlagSet(io, "deadletter "+sub, synopsis)
	sf := addSinkFlags(fs, "configuration file: the sink's settings (required for replay) and the data_dir")
	configPath := sf.configPath
	sinkName := fs.String("sink", "", "only this sink's letters (required for replay)")
	limit := fs.Int("limit", 1000, "at most this many letters")
	asJSON := fs.Bool("json", false, "machine-readable output")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *limit < 1 {
		return fmt.Errorf("%w: --limit must be at least 1", errUsage)
	}
	if sub == "replay" && (*sinkName == "" || *configPath == "") {
		return fmt.Errorf("%w: replay needs --sink and --config", errUsage)
	}
	file, err := sf.load()
	if err != nil {
		return err
	}
	var cfg sink.Config
	if sub == "replay" {
		found := false
		for _, c := range file.Sinks {
			if c.Name == *sinkName {
				cfg, found = config.SinkIn(c, sf.dir(file)), true
			}
		}
		if !found {
			return fmt.Errorf("%w: sink %q is not in %s", errUsage, *sinkName, *configPath)
		}
	}
	st, err := sf.openStore(ctx, io, file)
	if err != nil {
		return err
	}
	defer st.Close()
	if sub == "list" {
		return listDeadLetters(ctx, io, st, *sinkName, *limit, *asJSON)
	}
	s, err := cfg.Spec.Build(sink.Env{Name: cfg.Name, Logger: io.log, Clock: clock.System{}})
	if err != nil {
		return err
	}
	res, err := sink.ReplayDeadLetters(ctx, st, cfg, s, *limit, nil)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(io.out).Encode(res)
	}
	fmt.Fprintf(io.out, "delivered %d, failed %d\n", res.Delivered, res.Failed)
	if res.Failed > 0 {
		return fmt.Errorf("%d letters could not be delivered (%s) and stay in the dead-letter table: %s", res.Failed, res.Class, res.Error)
	}
	return nil
}

func listDeadLetters(ctx context.Context, io stdio, st store.Store, sinkName string, limit int, asJSON bool) error {
	letters, err := st.ListDeadLetters(ctx, sinkName, limit)
	if err != nil {
		return err
	}
	if asJSON {
		if letters == nil {
			letters = []store.DeadLetter{}
		}
		return json.NewEncoder(io.out).Encode(letters)
	}
	tw := tabwriter.NewWriter(io.out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSINK\tRECORD\tATTEMPTS\tLAST FAILURE\tERROR")
	for _, l := range letters {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\n", l.ID, l.Sink, l.RecordID, l.Attempts, l.LastFailure.UTC().Format("2006-01-02T15:04:05Z"), l.Error)
	}
	return tw.Flush()
}

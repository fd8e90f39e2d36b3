package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/idwatch/idwatch/internal/sink"
	"github.com/idwatch/idwatch/internal/store"
)

// sinkRemoved is one offset `idwatch sinks remove` unregistered.
type sinkRemoved struct {
	Name   string       `json:"name"`
	Stream store.Stream `json:"stream"`
	Offset int64        `json:"offset"`
	// Unsent is the lag the sink had: records it will never deliver.
	Unsent int64 `json:"unsent"`
}

// runSinkRemove unregisters a sink's offsets so it no longer holds back journal retention. It
// takes the data directory's lock: a running serve would go on committing the offsets it holds.
func runSinkRemove(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "sinks remove", "sinks remove NAME [--config F] [--data-dir D] [--force] [--json]")
	sf := addSinkFlags(fs, "configuration file serve runs with: a sink still in it is not removed (without --force), and its data_dir is used")
	force := fs.Bool("force", false, "remove the sink's offsets even though it is still in --config (serve would register it again, from its start option)")
	asJSON := fs.Bool("json", false, "machine-readable output")
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if name == "" && fs.NArg() == 1 {
		name = fs.Arg(0)
	} else if fs.NArg() > 0 {
		name = ""
	}
	if name == "" {
		return fmt.Errorf("%w: sinks remove takes one sink name (idwatch sinks list shows them)", errUsage)
	}
	cfg, err := sf.load()
	if err != nil {
		return err
	}
	for i, c := range cfg.Sinks {
		if c.Name == name && !*force {
			return fmt.Errorf("sink %q is still configured (sinks[%d] in %s): remove it from the configuration first, or pass --force", name, i, *sf.configPath)
		}
	}
	c := common{dataDir: sf.dir(cfg)}
	lock, err := c.lockDataDir("sinks remove")
	if err != nil {
		return err
	}
	defer lock.Release()
	st, err := sf.openStore(ctx, io, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	removed, err := sink.RemoveSink(ctx, st, name)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no sink %q has an offset in data directory %s (idwatch sinks list shows those that do)", name, c.dataDir)
	}
	out := make([]sinkRemoved, 0, len(removed))
	for _, r := range removed {
		out = append(out, sinkRemoved{Name: name, Stream: r.Stream, Offset: r.Offset, Unsent: r.Lag})
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(io.out).Encode(out)
	}
	for _, r := range out {
		fmt.Fprintf(io.out, "removed sink %s (%s stream, offset %d, %d records never sent); it no longer holds back journal retention\n", r.Name, r.Stream, r.Offset, r.Unsent)
	}
	return nil
}

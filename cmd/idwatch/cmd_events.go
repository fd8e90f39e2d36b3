package main

import (
	"bufio"
	"context"
	"fmt"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

func runEvents(ctx context.Context, io stdio, args []string) error {
	if len(args) == 0 || args[0] != "export" {
		return fmt.Errorf("%w: events export [--integration N] [--format raw] [--since T]", errUsage)
	}
	fs := newFlagSet(io, "events export", "events export [--integration N] [--format raw|ocsf] [--since T]")
	c := addCommon(fs)
	name := fs.String("integration", "", "only this integration's events")
	format := fs.String("format", "raw", "raw: Okta LogEvent JSON as collected")
	sinceS := fs.String("since", "", "only events published at or after: RFC 3339 or a duration back from now (90m, 7d)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	switch *format {
	case "raw":
	case "ocsf":
		return fmt.Errorf("%w: --format ocsf needs the OCSF normalizer, which this build does not include yet; use --format raw", errUsage)
	default:
		return fmt.Errorf("%w: --format %q is not raw or ocsf", errUsage, *format)
	}
	var since time.Time
	if *sinceS != "" {
		var err error
		if since, err = parseTime(*sinceS, time.Now()); err != nil {
			return err
		}
	}
	st, err := c.openStore(ctx, io)
	if err != nil {
		return err
	}
	defer st.Close()
	var filter store.ReadFilter
	if *name != "" {
		in, err := integration(ctx, st, *name)
		if err != nil {
			return err
		}
		filter.Integrations = []int64{in.ID}
	}
	w := bufio.NewWriterSize(io.out, 1<<16)
	after := int64(0)
	for {
		es, err := st.ReadJournal(ctx, after, 5000, filter)
		if err != nil {
			return err
		}
		if len(es) == 0 {
			break
		}
		for _, e := range es {
			if !since.IsZero() && e.Published.Before(since) {
				continue
			}
			w.Write(e.Raw)
			w.WriteByte('\n')
		}
		after = es[len(es)-1].Seq
	}
	return w.Flush()
}

package main

import (
	"bufio"
	"context"
	"fmt"

	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/normalize"
)

// runNormalize maps Okta System Log events (JSON lines on stdin) to normalized records (JSON lines
// on stdout). A line that is not an event, or is longer than --max-line-mib, is reported on stderr
// with its number; the other lines are still processed, and the command exits 1 at the end.
func runNormalize(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "normalize", "normalize [--format ocsf|raw] [--tenant ID] [--no-raw-data] [--max-line-mib N] < events.jsonl > records.jsonl")
	format := fs.String("format", "ocsf", "ocsf: one OCSF 1.8.0 record per event and schema; raw: the event as received, with its schema and routing")
	tenant := fs.String("tenant", "", "integration (org) id to write as metadata.tenant_uid")
	noRaw := fs.Bool("no-raw-data", false, "leave raw_data (the event as received) out of OCSF records")
	maxLine := maxLineFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q: events are read from standard input", errUsage, fs.Arg(0))
	}
	if *format != "ocsf" && *format != "raw" {
		return fmt.Errorf("%w: --format %q: want ocsf or raw", errUsage, *format)
	}
	n := normalize.New()
	opts := normalize.EncodeOptions{OmitRawData: *noRaw}
	out := bufio.NewWriterSize(io.out, 64<<10)
	buf := make([]byte, 0, 8<<10)
	lines, bad, err := eachInputLine(ctx, io, "normalize", io.in, *maxLine, func(line int, raw []byte) (error, error) {
		ev, err := event.Decode(raw)
		if err != nil {
			return err, nil
		}
		reportFlaws(io, "normalize", line, ev)
		for _, r := range n.Normalize(ev, normalize.Meta{TenantUID: *tenant, Raw: raw}) {
			var err error
			if *format == "raw" {
				buf, err = r.AppendRaw(buf[:0])
			} else {
				buf, err = r.AppendJSON(buf[:0], opts)
			}
			if err != nil {
				return nil, fmt.Errorf("encode event %s: %w", ev.UUID, err)
			}
			if _, err := out.Write(append(buf, '\n')); err != nil {
				return nil, fmt.Errorf("write records: %w", err)
			}
		}
		return nil, nil
	})
	if ferr := out.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("write records: %w", ferr)
	}
	if err != nil {
		return err
	}
	if bad > 0 {
		return skippedLines(bad, lines, "normalized")
	}
	return nil
}

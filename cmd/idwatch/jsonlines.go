package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/idwatch/idwatch/internal/event"
)

// maxLineFlag adds --max-line-mib, the longest input line normalize and replay read.
func maxLineFlag(fs *flag.FlagSet) *int {
	return fs.Int("max-line-mib", event.DefaultMaxLineBytes>>20,
		"longest input line to read, in MiB; a longer line is reported with its number and skipped")
}

// eachInputLine reads the JSON-lines input of normalize and replay, one way for both: lines of
// any length up to maxMiB, blank lines skipped. fn handles a line; a line it cannot use (skip),
// or one too long to read, is reported on stderr with its number and the input goes on, while an
// error (a failed write) stops it. Cancelling ctx stops it between lines.
func eachInputLine(ctx context.Context, sio stdio, cmd string, in io.Reader, maxMiB int,
	fn func(line int, raw []byte) (skip, err error)) (lines, skipped int, err error) {
	if maxMiB < 1 || maxMiB > 1<<20 {
		return 0, 0, fmt.Errorf("%w: --max-line-mib %d: want 1 to %d", errUsage, maxMiB, 1<<20)
	}
	err = event.ReadLines(in, maxMiB<<20, func(n int, raw []byte, rerr error) error {
		lines++
		if err := ctx.Err(); err != nil {
			return err
		}
		skip := rerr
		if skip == nil {
			var err error
			if skip, err = fn(n, raw); err != nil {
				return err
			}
			if skip != nil {
				skip = &event.LineError{Line: n, Err: skip}
			}
		}
		if skip != nil {
			skipped++
			fmt.Fprintf(sio.err, "idwatch %s: %v\n", cmd, skip)
		}
		return nil
	})
	return lines, skipped, err
}

// skippedLines is the closing error of a command that skipped some input lines.
func skippedLines(skipped, lines int, others string) error {
	return fmt.Errorf("%d of %d input lines were skipped (each is named above); the others were %s", skipped, lines, others)
}

// reportFlaws names on stderr each field of an input event that could not be read: the event is
// kept and used, and its records list the fields in unmapped.unreadable_fields.
func reportFlaws(sio stdio, cmd string, line int, ev *event.LogEvent) {
	for _, f := range ev.Flaws {
		fmt.Fprintf(sio.err, "idwatch %s: line %d: event %q kept with a field it could not read (in unmapped.unreadable_fields): %s\n", cmd, line, ev.UUID, f)
	}
}

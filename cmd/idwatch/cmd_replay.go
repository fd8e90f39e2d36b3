package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/idwatch/idwatch/internal/detect"
	"github.com/idwatch/idwatch/internal/event"
)

func runReplay(ctx context.Context, sio stdio, args []string) error {
	fset := newFlagSet(sio, "replay", "replay [--rules DIR] [--schema S] [--lateness D] [--until T] [--max-line-mib N] FILE|-")
	dir := fset.String("rules", "", "rules directory (default: the built-in rules)")
	schema := fset.String("schema", "", "input records are normalized records of this schema (auth, cloudaudit, generic); empty for raw Okta events")
	lateness := fset.Duration("lateness", 5*time.Minute, "how late events may arrive")
	timeField := fset.String("time-field", "published", "event time field of raw events")
	until := fset.String("until", "", "after the input, advance event time to this RFC 3339 time (fires pending absences)")
	maxLine := maxLineFlag(fset)
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	if fset.NArg() != 1 {
		return fmt.Errorf("%w: give one events file (JSON lines), or - for stdin", errUsage)
	}
	var untilT time.Time
	if *until != "" {
		t, err := time.Parse(time.RFC3339, *until)
		if err != nil {
			return fmt.Errorf("%w: --until: %v", errUsage, err)
		}
		untilT = t
	}
	fsys, root := ruleSource(*dir)
	files, err := detect.LoadFS(fsys, root)
	if err != nil {
		return err
	}
	rs, err := detect.Compile(files)
	if err != nil {
		printRuleErrors(sio, err)
		return exitError{"", 1}
	}
	eng, err := detect.New(rs, detect.Config{Lateness: *lateness, TimeField: *timeField})
	if err != nil {
		return err
	}
	var in io.Reader = sio.in
	if name := fset.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	w := bufio.NewWriter(sio.out)
	defer w.Flush()
	enc := json.NewEncoder(w)
	emit := func(as []detect.Alert) error {
		for _, a := range as {
			if err := enc.Encode(a.Finding()); err != nil {
				return err
			}
		}
		return nil
	}
	lines, bad, err := eachInputLine(ctx, sio, "replay", in, *maxLine, func(_ int, raw []byte) (error, error) {
		d, err := event.ParseDoc(raw)
		if err != nil {
			return err, nil
		}
		as, err := eng.Process(detect.Input{Fields: d, Schema: *schema})
		if err != nil {
			return err, nil
		}
		return nil, emit(as)
	})
	if err != nil {
		return err
	}
	if !untilT.IsZero() {
		if err := emit(eng.Advance(untilT.Add(*lateness))); err != nil {
			return err
		}
	}
	if bad > 0 {
		return skippedLines(bad, lines, "replayed")
	}
	return nil
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/config"
	"github.com/idwatch/idwatch/internal/detect"
	"github.com/idwatch/idwatch/internal/detect/sigma"
	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/normalize"
	"github.com/idwatch/idwatch/internal/process"
)

// runReplay runs rules over an export and writes the alerts as OCSF Detection Findings. Raw events
// are evaluated as the processor evaluates journal entries (process.DetectEvent: the event, then
// each of its normalized records); with --schema the input is records already normalized.
func runReplay(ctx context.Context, sio stdio, args []string) error {
	fset := newFlagSet(sio, "replay", "replay [--rules DIR] [--strict] [--config F] [--schema S] [--lateness D] [--until T] [--max-line-mib N] FILE|-")
	dir := fset.String("rules", "", "rules directory (default: the built-in rules)")
	strict := fset.Bool("strict", false, "fail when a rule file does not load (default: report it, leave it out and run the others)")
	cfgFile := fset.String("config", "", "take placeholder values from this serve configuration's placeholders section too")
	schema := fset.String("schema", "", "input lines are normalized records of this schema (auth, cloudaudit, generic); empty: raw Okta events, evaluated with their normalized records as the processor does")
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
	var ph sigma.Placeholders
	if *cfgFile != "" {
		cfg, err := config.Load(*cfgFile)
		if err != nil {
			return err
		}
		ph = cfg.PlaceholderMap()
	}
	rs, err := loadRuleset(sio, *dir, *strict, ph)
	if err != nil {
		return err
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
	norm := normalize.New()
	lines, bad, err := eachInputLine(ctx, sio, "replay", in, *maxLine, func(line int, raw []byte) (error, error) {
		if *schema != "" {
			d, err := event.ParseDoc(raw)
			if err != nil {
				return err, nil
			}
			as, err := eng.Process(detect.Input{Fields: d, Schema: *schema})
			if err != nil {
				return err, nil
			}
			return nil, emit(as)
		}
		// A raw event is evaluated as the processor evaluates a journal entry: decoded, normalized,
		// and the rules run on the event and on each of its records, so rules on records fire
		// too and the alert ids are those the processor stores.
		ev, err := event.Decode(raw)
		if err != nil {
			return err, nil
		}
		reportFlaws(sio, "replay", line, ev)
		// An input the engine refuses is named; the event's other inputs are still evaluated.
		var refused []string
		var why error
		as := process.DetectEvent(eng, ev, norm.Normalize(ev, normalize.Meta{Raw: raw}), false, func(recSchema string, err error) {
			input := "the raw event"
			if recSchema != "" {
				input = "its " + recSchema + " record"
			}
			if why == nil {
				why = err
			} else if err.Error() != why.Error() {
				input += " (" + err.Error() + ")"
			}
			refused = append(refused, input)
		})
		if err := emit(as); err != nil {
			return nil, err
		}
		if why != nil {
			return fmt.Errorf("not evaluated as %s: %w", strings.Join(refused, ", "), why), nil
		}
		return nil, nil
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

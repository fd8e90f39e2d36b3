package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/idwatch/idwatch/internal/config"
	"github.com/idwatch/idwatch/internal/detect"
	"github.com/idwatch/idwatch/internal/detect/sigma"
	"github.com/idwatch/idwatch/internal/event"
)

// maxEventLine bounds one JSON line of an export.
const maxEventLine = 4 << 20

func runReplay(ctx context.Context, sio stdio, args []string) error {
	fset := newFlagSet(sio, "replay", "replay [--rules DIR] [--strict] [--config F] [--schema S] [--lateness D] [--until T] FILE|-")
	dir := fset.String("rules", "", "rules directory (default: the built-in rules)")
	strict := fset.Bool("strict", false, "fail when a rule file does not load (default: report it, leave it out and run the others)")
	cfgFile := fset.String("config", "", "take placeholder values from this serve configuration's placeholders section too")
	schema := fset.String("schema", "", "input records are normalized records of this schema (auth, cloudaudit, generic); empty for raw Okta events")
	lateness := fset.Duration("lateness", 5*time.Minute, "how late events may arrive")
	timeField := fset.String("time-field", "published", "event time field of raw events")
	until := fset.String("until", "", "after the input, advance event time to this RFC 3339 time (fires pending absences)")
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
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), maxEventLine)
	line, bad := 0, 0
	for sc.Scan() {
		line++
		if ctx.Err() != nil {
			return ctx.Err()
		}
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		d, err := event.ParseDoc(b)
		if err == nil {
			var as []detect.Alert
			as, err = eng.Process(detect.Input{Fields: d, Schema: *schema})
			if err == nil {
				err = emit(as)
			}
		}
		if err != nil {
			bad++
			sio.log.Warn("replay: skipped event", "line", line, "err", err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read events: line %d: %w", line+1, err)
	}
	if !untilT.IsZero() {
		if err := emit(eng.Advance(untilT.Add(*lateness))); err != nil {
			return err
		}
	}
	if bad > 0 {
		sio.log.Warn("replay: some events were skipped", "skipped", bad, "lines", line)
	}
	return nil
}

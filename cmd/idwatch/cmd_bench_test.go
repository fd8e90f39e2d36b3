package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// TestBenchSmallOrg runs the bench at a tiny size and checks that every phase did its work and
// that every figure is filled in.
func TestBenchSmallOrg(t *testing.T) {
	var out, errOut bytes.Buffer
	std := stdio{in: strings.NewReader(""), out: &out, err: &errOut, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	dir := t.TempDir() + "/bench"
	if code := run(context.Background(), std, []string{"bench", "--users", "50", "--days", "1", "--json", "--data-dir", dir}); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var r benchReport
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	if r.Users != 50 || r.Days != 1 || r.GOMAXPROCS < 1 || r.DataDir != dir {
		t.Errorf("header: %+v", r)
	}
	for name, p := range map[string]benchPhase{"collection": r.Collection, "processing": r.Processing, "delivery": r.Delivery} {
		if p.Items != r.Collection.Items || p.Seconds <= 0 || p.PerSecond <= 0 || p.CPUSeconds <= 0 || p.PerCPUSecond <= 0 {
			t.Errorf("%s: %+v (collected %d events)", name, p, r.Collection.Items)
		}
	}
	if r.Collection.Items < 500 {
		t.Errorf("only %d events collected from a day of 50 users", r.Collection.Items)
	}
	if r.Processing.Records < r.Processing.Items || r.Processing.Alerts == 0 {
		t.Errorf("processing made %d records and %d alerts from %d events", r.Processing.Records, r.Processing.Alerts, r.Processing.Items)
	}
	if r.Disk.TotalBytes <= 0 || r.Disk.PerEvent <= 0 || r.Disk.TotalBytes != r.Disk.DatabaseBytes+r.Disk.WALBytes {
		t.Errorf("disk: %+v", r.Disk)
	}
	if r.PeakRSSBytes <= 0 || r.PeakRSSBytes < r.Processing.PeakRSSBytes {
		t.Errorf("peak RSS %d, processing %d", r.PeakRSSBytes, r.Processing.PeakRSSBytes)
	}

	// The same data directory holds a finished run: a second run must not mix with it.
	out.Reset()
	if code := run(context.Background(), std, []string{"bench", "--users", "50", "--days", "1", "--data-dir", dir}); code != 2 {
		t.Errorf("second run into a used directory: exit %d, want 2", code)
	}
}

// TestBenchHumanOutput checks the text form names each figure.
func TestBenchHumanOutput(t *testing.T) {
	var out bytes.Buffer
	std := stdio{in: strings.NewReader(""), out: &out, err: io.Discard, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if code := run(context.Background(), std, []string{"bench", "--users", "20", "--days", "1"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"collection", "events/s", "events/CPU-s", "processing", "records/s", "bytes per event", "peak RSS"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

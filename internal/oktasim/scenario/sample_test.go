package scenario

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/event"
)

var update = flag.Bool("update", false, "rewrite the golden samples in testdata/")

// sampleDayFile, when set, writes a full day of traffic for 50 users there (not kept in git).
var sampleDayFile = flag.String("sample-day", "", "write one day of workforce traffic for 50 users as JSONL to this file")

// The golden samples pin the generator's output: any change to it shows up as a reviewable diff.
func TestGoldenSamples(t *testing.T) {
	g := newTestGenerator(t, 50)
	g.Advance(testStart.Add(15*time.Hour), func(*event.LogEvent) {})
	workforce := encodeAll(t, collect(g, testStart.Add(15*time.Hour+30*time.Minute)))
	var stories []*event.LogEvent
	for i, info := range Storylines() {
		st, err := g.Storyline(info.Name, testStart.Add(16*time.Hour+time.Duration(i)*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		stories = append(stories, st.Events...)
	}
	golden(t, "workforce_50_users_30m.jsonl", workforce)
	golden(t, "storylines.jsonl", encodeAll(t, stories))
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the generator's output; review and run go test -update", path)
	}
}

func TestWriteSampleDay(t *testing.T) {
	if *sampleDayFile == "" {
		t.Skip("set -sample-day FILE to write a day of traffic")
	}
	g := newTestGenerator(t, 50)
	if err := os.WriteFile(*sampleDayFile, encodeAll(t, collect(g, testStart.Add(24*time.Hour))), 0o644); err != nil {
		t.Fatal(err)
	}
}

package normalize

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/idwatch/idwatch/internal/event"
)

// TestNormalizeIntoReusesNothingVisible normalizes every golden fixture, in turn and twice over,
// into one reused Scratch and checks that each event's records encode exactly as Normalize's:
// nothing of the event before shows through, whether it had one record or two.
func TestNormalizeIntoReusesNothingVisible(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	n := New()
	var s Scratch
	two := 0
	for round := range 2 {
		for i := range files {
			f := files[i]
			if round == 1 {
				f = files[len(files)-1-i] // another order: other neighbours
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := event.Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			want := encodeRecords(t, n.Normalize(ev, testMeta))
			recs := n.NormalizeInto(&s, ev, testMeta)
			if len(recs) > 1 {
				two++
			}
			if got := encodeRecords(t, recs); !bytes.Equal(got, want) {
				t.Fatalf("%s: NormalizeInto with a reused scratch gives\n%s\nNormalize gives\n%s", f, got, want)
			}
		}
	}
	if two == 0 {
		t.Fatal("no fixture with two records: the test must cover the shared encoding")
	}
}

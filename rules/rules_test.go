package rules

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/detect"
	"github.com/idwatch/idwatch/internal/event"
)

// TestBuiltinRules runs every built-in rule's own test events.
func TestBuiltinRules(t *testing.T) {
	res, err := detect.RunTests(FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(res) == 0 {
		t.Fatal("no rule tests ran")
	}
	for _, r := range res {
		if !r.Pass {
			t.Errorf("%s: %s: %s", r.RuleFile, r.Test, r.Message)
		}
	}
}

// TestBuiltinRuleMetadata holds every alerting built-in to the catalogue's standard: a
// description, a level, ATT&CK technique tags and known false positives.
func TestBuiltinRuleMetadata(t *testing.T) {
	files, err := detect.LoadFS(FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := detect.Compile(files)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, r := range rs.Rules() {
		if !rs.Alerting(r) {
			continue
		}
		if r.ID == "" || ids[r.ID] {
			t.Errorf("%s: %q needs a unique id", r.File, r.Title)
		}
		ids[r.ID] = true
		technique := false
		for _, tag := range r.Tags {
			if strings.HasPrefix(tag, "attack.t") {
				technique = true
			}
		}
		switch {
		case r.Description == "":
			t.Errorf("%s: %q has no description", r.File, r.Title)
		case r.Level == "":
			t.Errorf("%s: %q has no level", r.File, r.Title)
		case !technique:
			t.Errorf("%s: %q has no ATT&CK technique tag (attack.tNNNN)", r.File, r.Title)
		case len(r.FalsePositives) == 0:
			t.Errorf("%s: %q lists no false positives", r.File, r.Title)
		}
	}
}

var update = flag.Bool("update", false, "rewrite golden files")

// TestStorylineGolden replays a labelled storyline through the built-in pack and compares the
// Detection Findings with testdata/storyline.golden.jsonl (go test -update rewrites it).
func TestStorylineGolden(t *testing.T) {
	files, err := detect.LoadFS(FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := detect.Compile(files)
	if err != nil {
		t.Fatal(err)
	}
	e, err := detect.New(rs, detect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.ReadFile("testdata/storyline.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for i, line := range bytes.Split(bytes.TrimSpace(in), []byte("\n")) {
		d, err := event.ParseDoc(line)
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		as, err := e.Process(detect.Input{Fields: d})
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		for _, a := range as {
			b, err := json.Marshal(a.Finding())
			if err != nil {
				t.Fatal(err)
			}
			out.Write(append(b, '\n'))
		}
	}
	const golden = "testdata/storyline.golden.jsonl"
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("findings differ from %s (go test -update to accept):\n%s", golden, out.String())
	}
}

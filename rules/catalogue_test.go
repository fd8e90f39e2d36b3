package rules

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/detect"
	"github.com/idwatch/idwatch/internal/detect/sigma"
)

var update = flag.Bool("update", false, "rewrite docs/detections.md from the built-in rules")

// catalogueFile is the generated catalogue of the built-in detections, relative to this package.
const catalogueFile = "../docs/detections.md"

// detection is one alerting built-in rule as the catalogue lists it.
type detection struct {
	area, id, title, level, kind, attack string
	stateful                             bool
}

// detections returns the built-in rules that raise alerts (helper rules that only feed a
// correlation are left out), sorted by area and title.
func detections(t *testing.T) []detection {
	t.Helper()
	files, err := detect.LoadFS(FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := detect.Compile(files)
	if err != nil {
		t.Fatal(err)
	}
	var out []detection
	for _, r := range rs.Rules() {
		if !rs.Alerting(r) {
			continue
		}
		d := detection{area: path.Dir(r.File), id: r.ID, title: r.Title, level: r.Level, kind: kindOf(r), stateful: r.Correlation != nil}
		if d.level == "" {
			d.level = "medium"
		}
		var tags []string
		for _, tag := range r.Tags {
			if v, ok := strings.CutPrefix(tag, "attack."); ok {
				tags = append(tags, v)
			}
		}
		d.attack = strings.Join(tags, ", ")
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b detection) int {
		if c := strings.Compare(a.area, b.area); c != 0 {
			return c
		}
		return strings.Compare(a.title, b.title)
	})
	return out
}

// kindOf names the rule's type: the correlation type, or the log source a single-event rule reads.
func kindOf(r *sigma.Rule) string {
	if r.Correlation != nil {
		return r.Correlation.Type
	}
	if s := r.Logsource.Schema(); s != "" {
		return "event (normalized " + s + ")"
	}
	return "event"
}

// renderCatalogue writes the catalogue as Markdown.
func renderCatalogue(ds []detection) []byte {
	var b bytes.Buffer
	corr, areas := 0, map[string]int{}
	for _, d := range ds {
		if d.stateful {
			corr++
		}
		areas[d.area]++
	}
	b.WriteString("# Built-in detections\n\n")
	b.WriteString("Generated from `rules/` by `go test ./rules -run TestCatalogue -update`; do not edit by hand.\n")
	b.WriteString("Each rule's test events are in `rules/<area>/<name>.tests.yml`; how rules work is in `rules.md`.\n\n")
	fmt.Fprintf(&b, "%d detections, %d of them stateful correlations. Rules that only feed a correlation are not listed.\n\n", len(ds), corr)
	b.WriteString("| area | title | level | type | ATT&CK | id |\n|---|---|---|---|---|---|\n")
	for _, d := range ds {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | `%s` |\n", d.area, d.title, d.level, d.kind, d.attack, d.id)
	}
	return b.Bytes()
}

// TestCatalogue keeps docs/detections.md in step with the rules (regenerate with -update).
func TestCatalogue(t *testing.T) {
	ds := detections(t)
	got := renderCatalogue(ds)
	if *update {
		if err := os.WriteFile(catalogueFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(catalogueFile)
	if err != nil {
		t.Fatalf("%v: run go test ./rules -run TestCatalogue -update", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date with the rules: run go test ./rules -run TestCatalogue -update", catalogueFile)
	}
}

// TestDetectionMetadata holds every alerting rule to the pack's standard: a UUID v4 id, a
// description, the idwatch author, a date, a level, ATT&CK tactic and technique tags and
// known false positives.
func TestDetectionMetadata(t *testing.T) {
	files, err := detect.LoadFS(FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := detect.Compile(files)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, r := range rs.Rules() {
		if !rs.Alerting(r) {
			continue
		}
		where := fmt.Sprintf("%s:%d (%s)", r.File, r.Line, r.Title)
		if !isUUIDv4(r.ID) {
			t.Errorf("%s: id %q is not a UUID v4", where, r.ID)
		}
		if prev, dup := seen[r.ID]; dup {
			t.Errorf("%s: id also used by %s", where, prev)
		}
		seen[r.ID] = where
		if r.Description == "" || r.Author != "idwatch" || r.Level == "" {
			t.Errorf("%s: needs description, author: idwatch and level", where)
		}
		if len(r.FalsePositives) == 0 && !pendingFalsePositives[r.ID] {
			t.Errorf("%s: needs falsepositives", where)
		}
		var tactic, technique bool
		for _, tag := range r.Tags {
			v, ok := strings.CutPrefix(tag, "attack.")
			switch {
			case !ok:
			case len(v) > 1 && v[0] == 't' && v[1] >= '0' && v[1] <= '9':
				technique = true
			default:
				tactic = true
			}
		}
		if !tactic || !technique {
			t.Errorf("%s: needs an ATT&CK tactic tag and a technique tag", where)
		}
	}
}

// pendingFalsePositives lists rules whose known false positives are not written down yet; an
// entry goes when its rule gets a falsepositives section.
var pendingFalsePositives = map[string]bool{
	"bacaf64a-20b6-4e05-a634-6f7e974e5067": true, // mfa/mfa_deactivated_not_reactivated.yml
	"d794e76b-c5f8-4e84-a300-3e82bb9f8e04": true, // normalized/auth_failure_burst_normalized.yml
	"047874d0-cbb1-4901-a892-f51636b06260": true, // password/brute_force_lockout.yml
	"acedd5ed-74ab-4b3d-9dd2-f5977bf6943a": true, // password/password_spray.yml
	"4669b7fc-b003-4ea1-b220-0e31e2b49530": true, // push/push_fatigue.yml
	"dec68af5-ba8f-4265-a070-7758b5b4408a": true, // threat/threatinsight_detection.yml
}

// isUUIDv4 reports whether s is a lower-case UUID of version 4, variant 1.
func isUUIDv4(s string) bool {
	if len(s) != 36 || s[14] != '4' || !strings.ContainsRune("89ab", rune(s[19])) {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdef", c) {
				return false
			}
		}
	}
	return true
}

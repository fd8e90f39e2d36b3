package detect

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/idwatch/idwatch/internal/detect/sigma"
	"github.com/idwatch/idwatch/internal/event"
)

// TestFile is the format of a rule's sibling <name>.tests.yml (see docs/rules.md).
type TestFile struct {
	// Event is merged under every test event (deep merge; the event's own values win).
	Event map[string]any `yaml:"event"`
	// Start is the time of the first event when events give no time (default 2025-01-01T00:00:00Z).
	Start string     `yaml:"start"`
	Tests []TestCase `yaml:"tests"`
}

// TestCase is one scenario: events in, an expectation on the alerts of the rule file.
type TestCase struct {
	Name   string `yaml:"name"`
	Expect string `yaml:"expect"` // alert | none
	Alerts *int   `yaml:"alerts"` // exact number of alerts, when given
	Rule   string `yaml:"rule"`   // restrict to one rule of the file (id, name or title)
	Schema string `yaml:"schema"` // events are normalized records of this schema
	// Advance moves the watermark to Start plus this duration after the events (absence).
	Advance string `yaml:"advance"`
	Events  []any  `yaml:"events"`
}

// TestResult is the outcome of one test case (or a problem with a rule file's tests).
type TestResult struct {
	RuleFile string
	Test     string
	Pass     bool
	Message  string
}

const defaultTestStart = "2025-01-01T00:00:00Z"

// TestFileFor returns the test file name for a rule file.
func TestFileFor(ruleFile string) string {
	ext := path.Ext(ruleFile)
	return strings.TrimSuffix(ruleFile, ext) + ".tests" + ext
}

// RunTests compiles the rule files under dir in fsys (with the folder's placeholders file) and
// runs each one's tests. Every rule file must have tests with at least one case that alerts and
// one that must not; a rule file that does not load is a failed result, and the others run.
func RunTests(fsys fs.FS, dir string) ([]TestResult, error) {
	files, err := LoadFS(fsys, dir)
	if err != nil {
		return nil, err
	}
	ph, err := LoadPlaceholdersFS(fsys, dir)
	if err != nil {
		return nil, err
	}
	rs, err := CompileWith(files, Options{SkipBad: true, Sigma: sigma.Options{Placeholders: ph}})
	if err != nil {
		return nil, err
	}
	// A rule file that does not load fails, and the other files' tests still run.
	var out []TestResult
	skipped := map[string]bool{}
	for _, e := range rs.Skipped() {
		skipped[e.File] = true
		out = append(out, TestResult{RuleFile: e.File, Message: "does not load: " + e.Error()})
	}
	for _, f := range files {
		if skipped[f.Name] {
			continue
		}
		tf := TestFileFor(f.Name)
		data, err := fs.ReadFile(fsys, tf)
		if err != nil {
			out = append(out, TestResult{RuleFile: f.Name, Message: fmt.Sprintf("no tests: write %s with a case that alerts and a near miss that does not", tf)})
			continue
		}
		out = append(out, runFileTests(rs, f.Name, tf, data)...)
	}
	return out, nil
}

// LintTestFile checks the format of a rule-test file without running it.
func LintTestFile(name string, data []byte) error {
	var tf TestFile
	if err := yaml.UnmarshalWithOptions(data, &tf, yaml.Strict()); err != nil {
		return fmt.Errorf("%s: %s", name, yaml.FormatError(err, false, false))
	}
	start, err := time.Parse(time.RFC3339, orDefault(tf.Start, defaultTestStart))
	if err != nil {
		return fmt.Errorf("%s: start: %v", name, err)
	}
	if len(tf.Tests) == 0 {
		return fmt.Errorf("%s: no tests", name)
	}
	for i, tc := range tf.Tests {
		if tc.Expect != "alert" && tc.Expect != "none" {
			return fmt.Errorf("%s: tests[%d]: expect must be alert or none, not %q", name, i, tc.Expect)
		}
		if _, err := expandEvents(tf, tc, i, start); err != nil {
			return fmt.Errorf("%s: tests[%d]: %v", name, i, err)
		}
	}
	return nil
}

func runFileTests(rs *Ruleset, ruleFile, testFile string, data []byte) []TestResult {
	fail := func(test, format string, args ...any) TestResult {
		return TestResult{RuleFile: ruleFile, Test: test, Message: fmt.Sprintf(format, args...)}
	}
	var tf TestFile
	if err := yaml.UnmarshalWithOptions(data, &tf, yaml.Strict()); err != nil {
		return []TestResult{fail("", "%s: %s", testFile, yaml.FormatError(err, false, false))}
	}
	start, err := time.Parse(time.RFC3339, orDefault(tf.Start, defaultTestStart))
	if err != nil {
		return []TestResult{fail("", "%s: start: %v", testFile, err)}
	}
	var alerting []*compiled
	for _, c := range rs.rules {
		if c.rule.File == ruleFile && c.alerts {
			alerting = append(alerting, c)
		}
	}
	var res []TestResult
	pos, neg := 0, 0
	for i, tc := range tf.Tests {
		name := tc.Name
		if name == "" {
			name = "test " + strconv.Itoa(i+1)
		}
		switch tc.Expect {
		case "alert":
			pos++
		case "none":
			neg++
		default:
			res = append(res, fail(name, "%s: expect must be alert or none, not %q", testFile, tc.Expect))
			continue
		}
		r := runCase(rs, alerting, tf, tc, i, start)
		r.RuleFile, r.Test = ruleFile, name
		res = append(res, r)
	}
	if pos == 0 || neg == 0 {
		res = append(res, fail("", "%s needs at least one case with expect: alert and one near miss with expect: none", testFile))
	}
	return res
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func runCase(rs *Ruleset, alerting []*compiled, tf TestFile, tc TestCase, idx int, start time.Time) TestResult {
	wanted := map[string]bool{}
	for _, c := range alerting {
		if tc.Rule == "" || tc.Rule == c.rule.ID || tc.Rule == c.rule.Name || tc.Rule == c.rule.Title {
			wanted[c.rule.Key()] = true
		}
	}
	if len(wanted) == 0 {
		return TestResult{Message: fmt.Sprintf("no alerting rule in this file matches rule: %q", tc.Rule)}
	}
	events, err := expandEvents(tf, tc, idx, start)
	if err != nil {
		return TestResult{Message: err.Error()}
	}
	eng, err := New(rs, Config{Baseline: NewMemoryBaseline(0)})
	if err != nil {
		return TestResult{Message: err.Error()}
	}
	var got []Alert
	var other []string
	collect := func(as []Alert) {
		for _, a := range as {
			if wanted[a.RuleID] {
				got = append(got, a)
			} else {
				other = append(other, a.Title)
			}
		}
	}
	for _, d := range events {
		as, err := eng.Process(Input{Fields: d, Schema: tc.Schema})
		if err != nil {
			return TestResult{Message: fmt.Sprintf("event %v: %v", d["uuid"], err)}
		}
		collect(as)
	}
	if tc.Advance != "" {
		d, err := time.ParseDuration(tc.Advance)
		if err != nil {
			if d, err = sigma.ParseTimespan(tc.Advance); err != nil {
				return TestResult{Message: fmt.Sprintf("advance: %v", err)}
			}
		}
		collect(eng.Advance(start.Add(d).Add(eng.cfg.Lateness)))
	}
	n := len(got)
	switch {
	case tc.Alerts != nil && n != *tc.Alerts:
		return TestResult{Message: fmt.Sprintf("got %d alerts, want %d%s", n, *tc.Alerts, describe(got))}
	case tc.Expect == "alert" && n == 0:
		return TestResult{Message: "expected an alert, got none"}
	case tc.Expect == "none" && n > 0:
		return TestResult{Message: fmt.Sprintf("expected no alert, got %d%s", n, describe(got))}
	}
	return TestResult{Pass: true}
}

func describe(as []Alert) string {
	var parts []string
	for _, a := range as {
		s := a.Title
		if a.Detail != "" {
			s += " (" + a.Detail + ")"
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, "; ")
}

// maxTestEvents bounds the events one test case may generate.
const maxTestEvents = 100_000

// expandEvents turns a case's event list (plain events and repeat generators) into
// documents with times and uuids filled in.
func expandEvents(tf TestFile, tc TestCase, idx int, start time.Time) ([]event.Doc, error) {
	timeField, uuidField := "published", "uuid"
	if tc.Schema != "" {
		timeField, uuidField = "time", "metadata.uid"
	}
	var out []event.Doc
	cursor := start
	for i, raw := range tc.Events {
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("events[%d]: want a map (an event, or a generator with repeat and event)", i)
		}
		base, repeat, every := m, 1, time.Second
		if r, isGen := m["repeat"]; isGen {
			n, err := toInt(r)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("events[%d].repeat: want a positive number", i)
			}
			repeat = n
			ev, ok := m["event"].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("events[%d]: a generator needs event: {...}", i)
			}
			base = ev
			if s, ok := m["every"].(string); ok {
				d, err := time.ParseDuration(s)
				if err != nil || d < 0 {
					return nil, fmt.Errorf("events[%d].every: %v", i, err)
				}
				every = d
			}
			for k := range m {
				if k != "repeat" && k != "event" && k != "every" && k != "at" {
					return nil, fmt.Errorf("events[%d]: unknown generator key %q (repeat, every, at, event)", i, k)
				}
			}
		}
		if at, ok := m["at"].(string); ok {
			d, err := time.ParseDuration(at)
			if err != nil {
				return nil, fmt.Errorf("events[%d].at: %v", i, err)
			}
			cursor = start.Add(d)
			if _, isGen := m["repeat"]; !isGen {
				base = without(m, "at")
			}
		}
		if len(out)+repeat > maxTestEvents {
			return nil, fmt.Errorf("more than %d events in one test", maxTestEvents)
		}
		for r := 0; r < repeat; r++ {
			ev := deepMerge(tf.Event, substitute(base, r).(map[string]any))
			d, err := toDoc(ev)
			if err != nil {
				return nil, fmt.Errorf("events[%d]: %v", i, err)
			}
			if !hasPath(d, timeField) {
				if tc.Schema != "" {
					setPath(d, timeField, cursor.UnixMilli())
				} else {
					setPath(d, timeField, cursor.Format(time.RFC3339Nano))
				}
			}
			if !hasPath(d, uuidField) {
				setPath(d, uuidField, fmt.Sprintf("test%d-%d", idx+1, len(out)+1))
			}
			out = append(out, d)
			cursor = cursor.Add(every)
		}
	}
	return out, nil
}

func without(m map[string]any, key string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

func toInt(v any) (int, error) {
	switch t := v.(type) {
	case uint64:
		if t > maxTestEvents {
			return 0, fmt.Errorf("too large")
		}
		return int(t), nil
	case int:
		return t, nil
	}
	f, ok := event.Number(v)
	if !ok || f != float64(int(f)) {
		return 0, fmt.Errorf("not an integer")
	}
	return int(f), nil
}

// substitute replaces {i} in strings with the repetition number.
func substitute(v any, i int) any {
	switch t := v.(type) {
	case string:
		return strings.ReplaceAll(t, "{i}", strconv.Itoa(i))
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = substitute(x, i)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for k, x := range t {
			out[k] = substitute(x, i)
		}
		return out
	}
	return v
}

// deepMerge returns base with over applied on top, recursively for maps.
func deepMerge(base, over map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		if bm, ok := out[k].(map[string]any); ok {
			if om, ok := v.(map[string]any); ok {
				out[k] = deepMerge(bm, om)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// toDoc normalizes YAML-decoded values into the JSON shapes of an event.Doc.
func toDoc(m map[string]any) (event.Doc, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return event.ParseDoc(b)
}

func hasPath(d event.Doc, p string) bool {
	found := false
	d.Each(event.MustPath(p), func(any) bool { found = true; return false })
	return found
}

func setPath(d event.Doc, p string, v any) {
	segs := strings.Split(p, ".")
	m := map[string]any(d)
	for _, s := range segs[:len(segs)-1] {
		next, ok := m[s].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[s] = next
		}
		m = next
	}
	m[segs[len(segs)-1]] = v
}

// SortResults orders results by rule file then test name.
func SortResults(rs []TestResult) {
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].RuleFile < rs[j].RuleFile })
}

// RunFileTests runs the tests (a <name>.tests.yml document) of one rule file compiled in rs.
func RunFileTests(rs *Ruleset, ruleFile string, tests []byte) []TestResult {
	return runFileTests(rs, ruleFile, TestFileFor(ruleFile), tests)
}

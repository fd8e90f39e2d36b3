package detect

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/idwatch/idwatch/internal/detect/sigma"
)

const goodRule = "title: good\nid: good\nlogsource: {product: okta}\ndetection: {s: {eventType: x}, condition: s}\n"

func TestSkipBadRuleFiles(t *testing.T) {
	files := []RuleFile{
		{Name: "a_good.yml", Data: []byte(goodRule)},
		{Name: "b_broken.yml", Data: []byte("title: broken\nname: broken\nlogsource: {product: okta}\ndetection:\n    s:\n        eventType|contians: x\n    condition: s\n")},
		{Name: "c_corr.yml", Data: []byte("title: corr\ncorrelation:\n    type: event_count\n    rules: [broken]\n    group-by: [actor.id]\n    timespan: 1m\n    condition: {gte: 2}\n")},
		{Name: "d_half.yml", Data: []byte("title: half\nname: half\nlogsource: {product: okta}\ndetection: {s: {eventType: y}, condition: s}\n---\ntitle: bad\nlogsource: {product: okta}\ndetection: {s: {eventType: y}}\n")},
	}
	if _, err := Compile(files); err == nil || !strings.Contains(err.Error(), "b_broken.yml:6") {
		t.Fatalf("strict compile: %v", err)
	}
	rs, err := CompileWith(files, Options{SkipBad: true})
	if err != nil {
		t.Fatal(err)
	}
	var loaded []string
	for _, r := range rs.Rules() {
		loaded = append(loaded, r.Title)
	}
	if strings.Join(loaded, ",") != "good" {
		t.Fatalf("loaded %v, want only good (a file with one bad document is left out whole)", loaded)
	}
	got := rs.Skipped().Error()
	for _, want := range []string{
		`b_broken.yml:6: eventType|contians: unknown modifier "contians"`,
		"d_half.yml:8:13: detection has no condition",
		`c_corr.yml:1: correlation "corr" references rule "broken" of b_broken.yml, which does not load`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("skipped problems lack %q:\n%s", want, got)
		}
	}
	// The rules that load still run.
	e := engine(t, rs, Config{})
	if as := process(t, e, ev(t, "1", 0, `,"eventType":"x"`)); len(as) != 1 || as[0].RuleID != "good" {
		t.Fatalf("alerts %+v", as)
	}
}

func TestPlaceholdersFromTheRulesFolder(t *testing.T) {
	fsys := fstest.MapFS{
		"rules/placeholders.yml": {Data: []byte("placeholders:\n    trusted: ['@example.com']\n")},
		"rules/imp.yml":          {Data: []byte("title: imp\nid: imp\nlogsource: {product: okta}\ndetection:\n    s: {eventType: user.session.impersonation.grant}\n    f:\n        actor.alternateId|contains|expand: '%trusted%'\n    condition: s and not f\n")},
		"rules/imp.tests.yml":    {Data: []byte("tests:\n  - {name: outsider, expect: alert, events: [{eventType: user.session.impersonation.grant, actor: {alternateId: eve@evil.test}}]}\n  - {name: insider, expect: none, events: [{eventType: user.session.impersonation.grant, actor: {alternateId: ann@example.com}}]}\n")},
		"rules/bad.yml":          {Data: []byte("title: bad\nlogsource: {product: okta}\ndetection:\n    s:\n        x|expand: '%undefined%'\n    condition: s\n")},
		"rules/bad.tests.yml":    {Data: []byte("tests: []\n")},
	}
	files, err := LoadFS(fsys, "rules")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Fatalf("rule files %v: the placeholders file is not a rule", files)
	}
	res, err := RunTests(fsys, "rules")
	if err != nil {
		t.Fatal(err)
	}
	SortResults(res)
	var lines []string
	for _, r := range res {
		lines = append(lines, r.RuleFile+"|"+r.Test+"|"+r.Message)
	}
	want := "rules/bad.yml||does not load: rules/bad.yml:5: x|expand: placeholder %undefined% is not defined; define it in placeholders.yml in the rules folder\n" +
		"rules/imp.yml|outsider|\nrules/imp.yml|insider|"
	if got := strings.Join(lines, "\n"); got != want {
		t.Fatalf("results:\n%s\nwant:\n%s", got, want)
	}
	// A placeholders file anywhere but the root is refused, not ignored.
	fsys["rules/sub/placeholders.yml"] = &fstest.MapFile{Data: []byte("placeholders: {a: b}\n")}
	if _, err := LoadFS(fsys, "rules"); err == nil || !strings.Contains(err.Error(), "root of the rules folder") {
		t.Fatalf("nested placeholders file: %v", err)
	}
	fsys["rules/placeholders.yaml"] = &fstest.MapFile{Data: []byte("placeholders: {a: b}\n")}
	if _, err := LoadPlaceholdersFS(fsys, "rules"); err == nil || !strings.Contains(err.Error(), "keep one") {
		t.Fatalf("two placeholders files: %v", err)
	}
	if m, err := LoadPlaceholdersFS(fstest.MapFS{}, "."); m != nil || err != nil {
		t.Fatalf("no file: %v %v", m, err)
	}
	var _ sigma.Placeholders = sigma.PlaceholderMap(nil)
}

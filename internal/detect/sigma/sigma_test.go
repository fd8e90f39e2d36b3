package sigma

import (
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/event"
)

// mustRule parses one detection rule with the given detection body.
func mustRule(t *testing.T, detection string) (*Rule, *Paths) {
	t.Helper()
	src := "title: t\nlogsource:\n    product: okta\n    service: okta\ndetection:\n" + indent(detection) + "level: high\n"
	paths := NewPaths()
	rs, err := ParseFile("t.yml", []byte(src), paths)
	if err != nil {
		t.Fatalf("parse:\n%s\nerror: %v", src, err)
	}
	return rs[0], paths
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "    " + l
	}
	return strings.Join(lines, "\n") + "\n"
}

func doc(t *testing.T, js string) event.Doc {
	t.Helper()
	d, err := event.ParseDoc([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func matches(t *testing.T, r *Rule, paths *Paths, js string) bool {
	t.Helper()
	ev := NewEvent(paths)
	ev.Reset(doc(t, js))
	return r.Detection.Match(ev)
}

const oktaEvent = `{
 "uuid":"u1","published":"2024-05-01T22:15:00.000Z","eventType":"user.session.start",
 "legacyEventType":"core.user_auth.login_failed",
 "displayMessage":"User login to Okta","severity":"INFO",
 "actor":{"id":"00u1","type":"User","alternateId":"alice@example.com","displayName":"Alice"},
 "client":{"ipAddress":"203.0.113.7","userAgent":{"rawUserAgent":"python-requests/2.31"},
   "geographicalContext":{"country":"France","geolocation":{"lat":48.85,"lon":2.35}}},
 "outcome":{"result":"FAILURE","reason":"INVALID_CREDENTIALS"},
 "securityContext":{"isProxy":true,"asNumber":64500},
 "target":[{"id":"0oa1","type":"AppInstance","displayName":"Salesforce"},
           {"id":"0oa2","type":"AppInstance","displayName":"Okta Admin Console"}],
 "debugContext":{"debugData":{"requestUri":"/api/v1/authn","behaviors":"{New Geo-Location=POSITIVE, New Device=NEGATIVE}",
   "encoded":"ZXZpbCBjb21tYW5k","ps":"UwB0AGEAcgB0AC0AUAByAG8AYwBlAHMAcwAgAGUAdgBpAGwALgBlAHgAZQA=","b64mid":"eHggcnVuIGV2aWwgbm93","cmd":"run /quiet now","score":"42"}},
 "empty":"", "nothing":null
}`

func TestModifiersAndValues(t *testing.T) {
	cases := []struct {
		name, det string
		want      bool
	}{
		{"plain equality", "sel:\n    eventType: user.session.start\ncondition: sel", true},
		{"equality is case-insensitive", "sel:\n    eventType: USER.SESSION.START\ncondition: sel", true},
		{"lowercase field names", "sel:\n    eventtype: user.session.start\n    displaymessage: User login to Okta\ncondition: sel", true},
		{"value list is OR", "sel:\n    eventType: [a, user.session.start]\ncondition: sel", true},
		{"map is AND", "sel:\n    eventType: user.session.start\n    outcome.result: SUCCESS\ncondition: sel", false},
		{"list of maps is OR", "sel:\n    - eventType: nope\n    - outcome.result: FAILURE\ncondition: sel", true},
		{"string vs bool", "sel:\n    securityContext.isProxy: 'true'\ncondition: sel", true},
		{"bool vs bool", "sel:\n    securityContext.isProxy: true\ncondition: sel", true},
		{"number vs number", "sel:\n    securityContext.asNumber: 64500\ncondition: sel", true},
		{"number vs numeric string", "sel:\n    debugContext.debugData.score: 42.0\ncondition: sel", true},
		{"array any-match", "sel:\n    target.displayName: Okta Admin Console\ncondition: sel", true},
		{"wildcard star", "sel:\n    actor.alternateId: '*@example.com'\ncondition: sel", true},
		{"wildcard question", "sel:\n    actor.alternateId: 'alic?@example.com'\ncondition: sel", true},
		{"wildcard middle", "sel:\n    actor.alternateId: 'a*e@*.com'\ncondition: sel", true},
		{"escaped star is literal", "sel:\n    actor.alternateId: 'alice\\*'\ncondition: sel", false},
		{"contains", "sel:\n    debugContext.debugData.behaviors|contains: 'geo-location=positive'\ncondition: sel", true},
		{"contains cased", "sel:\n    debugContext.debugData.behaviors|contains|cased: 'geo-location=positive'\ncondition: sel", false},
		{"startswith", "sel:\n    client.userAgent.rawUserAgent|startswith: python-\ncondition: sel", true},
		{"endswith", "sel:\n    actor.alternateId|endswith: '@EXAMPLE.COM'\ncondition: sel", true},
		{"contains all", "sel:\n    displayMessage|contains|all: [login, okta]\ncondition: sel", true},
		{"contains all misses", "sel:\n    displayMessage|contains|all: [login, nope]\ncondition: sel", false},
		{"re", "sel:\n    actor.alternateId|re: '^[a-z]+@example\\.com$'\ncondition: sel", true},
		{"re is case-sensitive", "sel:\n    actor.alternateId|re: '^ALICE'\ncondition: sel", false},
		{"re i", "sel:\n    actor.alternateId|re|i: '^ALICE'\ncondition: sel", true},
		{"re s", "sel:\n    cmd|re|s: 'x'\ncondition: sel\n", false},
		{"cidr v4", "sel:\n    client.ipAddress|cidr: 203.0.113.0/24\ncondition: sel", true},
		{"cidr miss", "sel:\n    client.ipAddress|cidr: 10.0.0.0/8\ncondition: sel", false},
		{"base64", "sel:\n    debugContext.debugData.encoded|base64: evil command\ncondition: sel", true},
		{"base64offset contains", "sel:\n    debugContext.debugData.encoded|base64offset|contains: command\ncondition: sel", true},
		{"windash", "sel:\n    debugContext.debugData.cmd|windash|contains: ' -quiet'\ncondition: sel", true},
		{"exists true", "sel:\n    securityContext.isProxy|exists: true\ncondition: sel", true},
		{"exists false", "sel:\n    securityContext.nope|exists: false\ncondition: sel", true},
		{"exists null counts", "sel:\n    nothing|exists: true\ncondition: sel", true},
		{"gt", "sel:\n    securityContext.asNumber|gt: 64499\ncondition: sel", true},
		{"gte", "sel:\n    securityContext.asNumber|gte: 64500\ncondition: sel", true},
		{"lt", "sel:\n    debugContext.debugData.score|lt: 42\ncondition: sel", false},
		{"lte", "sel:\n    debugContext.debugData.score|lte: 42\ncondition: sel", true},
		{"neq", "sel:\n    outcome.result|neq: SUCCESS\ncondition: sel", true},
		{"neq hit", "sel:\n    outcome.result|neq: failure\ncondition: sel", false},
		{"fieldref", "sel:\n    actor.id|fieldref: actor.id\ncondition: sel", true},
		{"fieldref miss", "sel:\n    actor.id|fieldref: target.id\ncondition: sel", false},
		{"fieldref contains", "sel:\n    actor.alternateId|fieldref|startswith: actor.displayName\ncondition: sel", true},
		{"hour", "sel:\n    published|hour|gte: 22\ncondition: sel", true},
		{"month", "sel:\n    published|month: 5\ncondition: sel", true},
		{"null matches null", "sel:\n    nothing: null\ncondition: sel", true},
		{"null matches missing", "sel:\n    missing.field: null\ncondition: sel", true},
		{"null misses present", "sel:\n    eventType: null\ncondition: sel", false},
		{"empty string", "sel:\n    empty: ''\ncondition: sel", true},
		{"keywords", "kw:\n    - 'python-requests'\ncondition: kw", true},
		{"keywords all", "kw:\n    '|all':\n        - 'alice'\n        - 'salesforce'\ncondition: kw", true},
		{"keyword miss", "kw:\n    - 'no such text'\ncondition: kw", false},
		{"wide base64 miss", "sel:\n    debugContext.debugData.encoded|wide|base64offset|contains: x\ncondition: sel", false},
		{"wide base64offset", "sel:\n    debugContext.debugData.ps|wide|base64offset|contains: evil.exe\ncondition: sel", true},
		{"base64offset in the middle", "sel:\n    debugContext.debugData.b64mid|base64offset|contains: evil\ncondition: sel", true},
		{"utf16le alias", "sel:\n    debugContext.debugData.ps|utf16le|base64offset|contains: Start-Process\ncondition: sel", true},
		{"re m", "sel:\n    displayMessage|re|m: '^User login'\ncondition: sel", true},
		{"day", "sel:\n    published|day: 1\ncondition: sel", true},
		{"year lt", "sel:\n    published|year|lt: 2020\ncondition: sel", false},
		{"neq number", "sel:\n    securityContext.asNumber|neq: 1\ncondition: sel", true},
		{"fieldref neq", "sel:\n    actor.id|fieldref|neq: target.id\ncondition: sel", true},
		{"cidr v6 miss", "sel:\n    client.ipAddress|cidr: '2001:db8::/32'\ncondition: sel", false},
		{"windash slash", "sel:\n    debugContext.debugData.cmd|windash|contains: ' /quiet'\ncondition: sel", true},
		{"windash dash on slash value", "sel:\n    debugContext.debugData.cmd|windash|contains: ' –quiet'\ncondition: sel", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, p := mustRule(t, c.det)
			if got := matches(t, r, p, oktaEvent); got != c.want {
				t.Fatalf("match = %v, want %v", got, c.want)
			}
		})
	}
}

func TestConditions(t *testing.T) {
	sels := "sel_a:\n    eventType: user.session.start\nsel_b:\n    outcome.result: FAILURE\nfilter_x:\n    actor.alternateId: bob@example.com\n_hidden:\n    eventType: nope\n"
	cases := []struct {
		cond string
		want bool
	}{
		{"sel_a and sel_b", true},
		{"sel_a and not sel_b", false},
		{"sel_a or filter_x", true},
		{"not filter_x", true},
		{"not not filter_x", false},
		{"(sel_a or filter_x) and not (filter_x)", true},
		{"1 of sel_*", true},
		{"all of sel_*", true},
		{"all of sel_* and not 1 of filter*", true},
		{"1 of them", true},
		{"all of them", false},
		{"any of filter*", false},
		{"2 of sel_*", true},
		{"SEL_A AND sel_b", false}, // identifiers are case-sensitive; keywords are not
	}
	for _, c := range cases {
		t.Run(c.cond, func(t *testing.T) {
			paths := NewPaths()
			src := "title: t\nlogsource: {product: okta}\ndetection:\n" + indent(sels+"condition: "+c.cond)
			rs, err := ParseFile("t.yml", []byte(src), paths)
			if c.cond == "SEL_A AND sel_b" {
				if err == nil || !strings.Contains(err.Error(), `unknown search identifier "SEL_A"`) {
					t.Fatalf("want unknown identifier error, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := matches(t, rs[0], paths, oktaEvent); got != c.want {
				t.Fatalf("got %v want %v", got, c.want)
			}
		})
	}
	// "all of them" skips identifiers starting with "_": without _hidden it would hold.
	paths := NewPaths()
	rs, err := ParseFile("t.yml", []byte("title: t\nlogsource: {product: okta}\ndetection:\n    a:\n        eventType: user.session.start\n    _x:\n        eventType: nope\n    condition: all of them\n"), paths)
	if err != nil {
		t.Fatal(err)
	}
	if !matches(t, rs[0], paths, oktaEvent) {
		t.Fatal("all of them must ignore _x")
	}
	// A list of conditions is OR.
	paths = NewPaths()
	rs, err = ParseFile("t.yml", []byte("title: t\nlogsource: {product: okta}\ndetection:\n    a:\n        eventType: nope\n    b:\n        eventType: user.session.start\n    condition:\n        - a\n        - b\n"), paths)
	if err != nil {
		t.Fatal(err)
	}
	if !matches(t, rs[0], paths, oktaEvent) {
		t.Fatal("condition list must be OR")
	}
}

func TestErrorsCarryFileLineAndReason(t *testing.T) {
	cases := []struct {
		src, want string
	}{
		{"title: t\nlogsource: {product: okta}\ndetection:\n    sel:\n        eventType|contians: x\n    condition: sel\n", `t.yml:5: eventType|contians`},
		{"title: t\nlogsource: {product: okta}\ndetection:\n    sel:\n        eventType|contians: x\n    condition: sel\n", `unknown modifier "contians"`},
		{"title: t\nlogsource: {product: okta}\ndetection:\n    sel:\n        eventType: x\n    condition: sel and nope\n", `t.yml:6:24: condition: unknown search identifier "nope"`},
		{"title: t\nlogsource: {product: okta}\ndetection:\n    sel:\n        eventType: x\n    condition: sel and (\n", `t.yml:6`},
		{"title: t\nlogsource: {product: windows}\ndetection:\n    sel:\n        eventType: x\n    condition: sel\n", `product: okta`},
		{"title: t\nlogsource: {category: process_creation}\ndetection:\n    sel:\n        x: y\n    condition: sel\n", `category "process_creation"`},
		{"title: t\nlogsource: {product: okta}\ndetection:\n    sel:\n        x|expand: '%admins%'\n    condition: sel\n", `t.yml:5: x|expand: placeholder %admins% is not defined; define it in placeholders.yml`},
		{"title: t\nlogsource: {product: okta}\ndetection:\n    sel:\n        x|expand: 'a%b'\n    condition: sel\n", `not closed; write %name%, or \% for a literal`},
		{"title: t\nlogsource: {product: okta}\ndetection:\n    sel:\n        x|expand: 3\n    condition: sel\n", `expand needs a string value`},
		{"title: t\nlogsource: {product: okta}\ndetection:\n    sel:\n        x|exists|expand: true\n    condition: sel\n", `expand applies to values`},
		{"title: t\nlogsource: {product: okta}\ndetection:\n    sel:\n        x|re: '(?<=a)b'\n    condition: sel\n", `invalid regular expression`},
		{"title: t\nlogsource: {product: okta}\ndetection:\n    sel:\n        x|wide: a\n    condition: sel\n", `must be followed by base64`},
		{"title: t\nlogsource: {product: okta}\ndetection:\n    sel:\n        x|contains|all: a\n    condition: sel\n", `all needs a list`},
		{"title: t\nlogsource: {product: okta}\ndetection:\n    sel:\n        x|gt: abc\n    condition: sel\n", `gt needs a number`},
		{"title: t\nlogsource: {product: okta}\ndetection:\n    sel:\n        x: y\n    condition: sel | count() > 5\n", `obsolete`},
		{"title: t\nlogsource: {product: okta}\ndetection:\n    sel:\n        x: y\n", `no condition`},
		{"logsource: {product: okta}\ndetection:\n    sel:\n        x: y\n    condition: sel\n", `no title`},
		{"title: t\nlevel: severe\nlogsource: {product: okta}\ndetection:\n    sel:\n        x: y\n    condition: sel\n", `t.yml:2:8: level "severe"`},
		{"title: t\ndetection: [\n", `invalid YAML`},
		{"title: t\ncorrelation:\n    type: event_count\n    rules: [a]\n    timespan: 10x\n    condition: {gte: 3}\n", `t.yml:5:15: correlation.timespan "10x"`},
		{"title: t\ncorrelation:\n    type: count_things\n    rules: [a]\n    timespan: 10m\n", `correlation type "count_things"`},
		{"title: t\ncorrelation:\n    type: value_count\n    rules: [a]\n    timespan: 10m\n    condition: {gte: 3}\n", `value_count needs a condition with field`},
		{"title: t\ncorrelation:\n    type: absence\n    rules: [a]\n    group-by: [x]\n    timespan: 10m\n", `exactly two rules`},
	}
	for _, c := range cases {
		_, err := ParseFile("t.yml", []byte(c.src), NewPaths())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("source:\n%s\nwant error containing %q, got %v", c.src, c.want, err)
		}
	}
}

func TestEqualityConstraint(t *testing.T) {
	p := event.MustPath("eventType")
	cases := []struct {
		det  string
		want string // "" when unconstrained
	}{
		{"sel:\n    eventType: [A.b, c.d]\ncondition: sel", "a.b,c.d"},
		{"sel:\n    eventtype: a\nf:\n    x: y\ncondition: sel and not f", "a"},
		{"a:\n    eventType: a\nb:\n    eventType: b\ncondition: a or b", "a,b"},
		{"a:\n    eventType: a\nb:\n    x: b\ncondition: a or b", ""},
		{"a:\n    eventType|contains: a\ncondition: a", ""},
		{"a:\n    eventType: 'a*'\ncondition: a", ""},
		{"s1:\n    eventType: a\ns2:\n    eventType: b\ncondition: 1 of s*", "a,b"},
		{"s:\n    - eventType: a\n    - eventType: b\n      x: 1\ncondition: s", "a,b"},
		{"s:\n    - eventType: a\n    - x: 1\ncondition: s", ""},
		{"s:\n    eventType: a\ncondition: not s", ""},
	}
	for _, c := range cases {
		r, _ := mustRule(t, c.det)
		vals, ok := r.Detection.EqualityConstraint(p)
		got := ""
		if ok {
			got = strings.Join(vals, ",")
		}
		if got != c.want {
			t.Errorf("%s: got %q want %q", c.det, got, c.want)
		}
	}
}

func TestWildcardEscapes(t *testing.T) {
	cases := []struct{ pattern, text string }{
		{`a\*b`, `a*b`},
		{`a\\*`, `a\xyz`},
		{`a\\\*`, `a\*`},
		{`a\\\\b`, `a\\b`},
		{`a\b`, `a\b`},
		{`a\\b`, `a\b`},
		{`x\?`, `x?`},
	}
	for _, c := range cases {
		m := compileWildcards(parseWildcards(c.pattern), false)
		l := makeLeaf(c.text)
		if !m.match(&l) {
			t.Errorf("pattern %q should match %q", c.pattern, c.text)
		}
	}
	m := compileWildcards(parseWildcards(`a\*b`), false)
	if l := makeLeaf("axxb"); m.match(&l) {
		t.Error(`escaped star matched as wildcard`)
	}
}

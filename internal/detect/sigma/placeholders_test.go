package sigma

import (
	"strings"
	"testing"
)

// ruleWith parses one detection rule with placeholders from ph.
func ruleWith(t *testing.T, ph Placeholders, detection string) (*Rule, *Paths) {
	t.Helper()
	src := "title: t\nlogsource: {product: okta}\ndetection:\n" + indent(detection)
	paths := NewPaths()
	rs, errs := ParseFileWith("t.yml", []byte(src), paths, Options{Placeholders: ph})
	if len(errs) > 0 {
		t.Fatalf("parse:\n%s\nerror: %v", src, errs)
	}
	return rs[0], paths
}

func TestPlaceholderExpansion(t *testing.T) {
	ph, err := NewPlaceholderMap(map[string][]string{
		"Trusted_Domains": {"@example.com", "@example.org"},
		"admins":          {"alice@example.com", "bob*"},
		"nets":            {"10.0.0.0/8", "192.0.2.0/24"},
		"prefix":          {"svc-", "app-"},
		"suffix":          {"-prod", "-dev"},
		"nobody":          {"x"},
	})
	if err != nil {
		t.Fatal(err)
	}
	ph["nobody"] = nil // a source may define a placeholder with no values: it matches nothing
	cases := []struct {
		det  string
		js   string
		want bool
	}{
		// SigmaHQ's impersonation rule: contains|expand, names match case-insensitively.
		{"sel:\n    actor.alternateId|contains|expand: '%trusted_domains%'\ncondition: sel", `{"actor":{"alternateId":"eve@example.org"}}`, true},
		{"sel:\n    actor.alternateId|contains|expand: '%trusted_domains%'\ncondition: sel", `{"actor":{"alternateId":"eve@evil.com"}}`, false},
		// Values are Sigma strings: wildcards apply.
		{"sel:\n    actor.alternateId|expand: '%admins%'\ncondition: sel", `{"actor":{"alternateId":"bobby@x"}}`, true},
		{"sel:\n    actor.alternateId|expand: '%admins%'\ncondition: sel", `{"actor":{"alternateId":"carol@example.com"}}`, false},
		// Literal text around placeholders, every combination of two placeholders.
		{"sel:\n    target.id|expand: '%prefix%api%suffix%'\ncondition: sel", `{"target":[{"id":"app-api-dev"}]}`, true},
		{"sel:\n    target.id|expand: '%prefix%api%suffix%'\ncondition: sel", `{"target":[{"id":"app-api"}]}`, false},
		// \% is a literal percent sign.
		{"sel:\n    x|expand: '100\\%%suffix%'\ncondition: sel", `{"x":"100%-prod"}`, true},
		// Other modifiers apply to each value.
		{"sel:\n    client.ipAddress|cidr|expand: '%nets%'\ncondition: sel", `{"client":{"ipAddress":"192.0.2.7"}}`, true},
		{"sel:\n    client.ipAddress|cidr|expand: '%nets%'\ncondition: sel", `{"client":{"ipAddress":"198.51.100.7"}}`, false},
		{"sel:\n    actor.alternateId|neq|expand: '%admins%'\ncondition: sel", `{"actor":{"alternateId":"bob@x"}}`, false},
		// Without expand, a percent sign is plain text.
		{"sel:\n    x: '%admins%'\ncondition: sel", `{"x":"%admins%"}`, true},
		{"sel:\n    x|expand: '%nobody%'\ncondition: sel", `{"x":"x"}`, false},
		{"sel:\n    x|expand: '%nobody%'\nf:\n    y: 1\ncondition: sel or not f", `{"x":"x","y":1}`, false},
	}
	for _, c := range cases {
		r, paths := ruleWith(t, ph, c.det)
		if got := matches(t, r, paths, c.js); got != c.want {
			t.Errorf("%s on %s: got %v want %v", c.det, c.js, got, c.want)
		}
	}
}

func TestPlaceholderChainOrder(t *testing.T) {
	first := PlaceholderMap{"a": {"one"}}
	second := PlaceholderMap{"a": {"two"}, "b": {"bee"}}
	chain := PlaceholderChain{nil, first, second}
	if v, _ := chain.Placeholder("A"); strings.Join(v, ",") != "one" {
		t.Fatalf("a = %v, want the first source's value", v)
	}
	if v, ok := chain.Placeholder("b"); !ok || v[0] != "bee" {
		t.Fatalf("b = %v %v", v, ok)
	}
	if _, ok := chain.Placeholder("c"); ok {
		t.Fatal("c is defined nowhere")
	}
	_, errs := ParseFileWith("r.yml", []byte("title: t\nlogsource: {product: okta}\ndetection:\n    s:\n        x|expand: '%c%'\n    condition: s\n"),
		NewPaths(), Options{Placeholders: chain, PlaceholderHelp: "define it under placeholders: in the configuration"})
	if len(errs) != 1 || errs[0].Error() != "r.yml:5: x|expand: placeholder %c% is not defined; define it under placeholders: in the configuration" {
		t.Fatalf("errors %v", errs)
	}
}

func TestParsePlaceholders(t *testing.T) {
	m, err := ParsePlaceholders("p.yml", []byte("placeholders:\n    Okta_Admins: [a@x, b@x]\n    domain: '@x'\n"))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := m.Placeholder("okta_admins"); len(v) != 2 || strings.Join(m.Names(), ",") != "domain,okta_admins" {
		t.Fatalf("%v", m)
	}
	bad := []struct{ src, want string }{
		{"placeholders:\n    a: []\n", "p.yml:2: placeholder a has no value"},
		{"placeholders:\n    a: x\n    A: y\n", "p.yml:3: placeholder A is already defined as a"},
		{"placeholders:\n    'a b': x\n", `p.yml:2: placeholder name "a b"`},
		{"placeholders:\n    a: {b: c}\n", "p.yml:2:9: placeholder a must be a string or a list"},
		{"placeholder:\n    a: x\n", `p.yml:1: unknown key "placeholder"`},
		{"- a\n", "one YAML map"},
		{"placeholders: [\n", "invalid YAML"},
	}
	for _, c := range bad {
		_, err := ParsePlaceholders("p.yml", []byte(c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: want %q, got %v", c.src, c.want, err)
		}
	}
	if _, err := NewPlaceholderMap(map[string][]string{"a": {"x"}, "A": {"y"}}); err == nil || !strings.Contains(err.Error(), "differ only in case") {
		t.Errorf("case clash: %v", err)
	}
	if _, err := NewPlaceholderMap(map[string][]string{"a": {""}}); err == nil || !strings.Contains(err.Error(), "value 1 is empty") {
		t.Errorf("empty value: %v", err)
	}
}

// FuzzExpand checks that no value text makes placeholder expansion panic or exceed its bound.
func FuzzExpand(f *testing.F) {
	for _, s := range []string{"%a%", `\%a%b%`, "x%a%%b%y", "%", `\\%a%`, "%a%%a%%a%%a%"} {
		f.Add(s)
	}
	o := Options{Placeholders: PlaceholderMap{"a": {"1", "2", "*"}, "b": {"?"}}}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := o.expand(s)
		if err == nil && (len(out) == 0 || len(out) > maxExpansions) {
			t.Fatalf("%q expanded into %d values", s, len(out))
		}
	})
}

// FuzzParsePlaceholders checks that no placeholders file makes the parser panic, and that what
// it accepts passes the same checks as the configuration's section.
func FuzzParsePlaceholders(f *testing.F) {
	for _, s := range []string{"placeholders:\n    a: [x, y]\n    b: z\n", "placeholders: {}\n", "placeholders:\n    a: {b: c}\n", "- a\n", "placeholders: &x [1]\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParsePlaceholders("p.yml", data)
		if err != nil {
			return
		}
		for name, vals := range m {
			if err := CheckPlaceholder(name, vals); err != nil {
				t.Fatalf("accepted %q: %v", name, err)
			}
		}
	})
}

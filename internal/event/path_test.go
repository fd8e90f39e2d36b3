package event

import (
	"slices"
	"testing"
)

func collect(f Fields, path string) []any {
	var out []any
	f.Each(MustPath(path), func(v any) bool { out = append(out, v); return true })
	return out
}

func TestDocEachSemantics(t *testing.T) {
	doc, err := ParseDoc([]byte(`{
		"eventType": "user.session.start",
		"securityContext": {"isProxy": true, "asNumber": 394089},
		"target": [{"displayName": "Okta Verify"}, {"displayName": "Okta Dashboard"}],
		"debugContext": {"debugData": {"behaviors": "{New Device=POSITIVE}"}},
		"tags": ["a", "b"],
		"client": null
	}`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path string
		want []any
	}{
		{"eventtype", []any{"user.session.start"}},
		{"EVENTTYPE", []any{"user.session.start"}},
		{"target.displayName", []any{"Okta Verify", "Okta Dashboard"}},
		{"securityContext.isProxy", []any{true}},
		{"securityContext.asNumber", []any{int64(394089)}},
		{"tags", []any{"a", "b"}},
		{"client.ipAddress", nil},
		{"missing.path", nil},
		{"debugContext.debugData.behaviors", []any{"{New Device=POSITIVE}"}},
	}
	for _, c := range cases {
		if got := collect(doc, c.path); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.path, got, c.want)
		}
	}
}

func TestEachStops(t *testing.T) {
	doc, _ := ParseDoc([]byte(`{"target":[{"id":"a"},{"id":"b"},{"id":"c"}]}`))
	n := 0
	doc.Each(MustPath("target.id"), func(any) bool { n++; return n < 2 })
	if n != 2 {
		t.Fatalf("visited %d values after stop, want 2", n)
	}
}

func TestLooseEqual(t *testing.T) {
	cases := []struct {
		v     any
		want  string
		cased bool
		ok    bool
	}{
		{true, "true", false, true},
		{true, "TRUE", true, false},
		{int64(42), "42", false, true},
		{float64(4.5), "4.5", false, true},
		{"Okta Verify", "okta verify", false, true},
		{"Okta Verify", "okta verify", true, false},
		{nil, "", false, false},
		{map[string]any{}, "", false, false},
	}
	for _, c := range cases {
		if got := LooseEqual(c.v, c.want, c.cased); got != c.ok {
			t.Errorf("LooseEqual(%#v, %q, %v) = %v", c.v, c.want, c.cased, got)
		}
	}
}

func TestParsePathErrors(t *testing.T) {
	for _, bad := range []string{"", "a..b", ".a", "a."} {
		if _, err := ParsePath(bad); err == nil {
			t.Errorf("ParsePath(%q) accepted a malformed path", bad)
		}
	}
	if _, err := ParseDoc([]byte(`null`)); err == nil {
		t.Error("ParseDoc(null) accepted a non-object")
	}
}

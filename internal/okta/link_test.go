package okta

import (
	"net/http"
	"reflect"
	"testing"
)

func TestParseLinks(t *testing.T) {
	h := http.Header{}
	h.Add("Link", `<https://acme.okta.com/api/v1/logs?limit=20>; rel="self"`)
	h.Add("Link", `<https://acme.okta.com/api/v1/logs?limit=20&after=1627500044869_1>; rel="next"`)
	ls := ParseLinks(h)
	if next, _ := ls.Rel("next"); next != "https://acme.okta.com/api/v1/logs?limit=20&after=1627500044869_1" {
		t.Errorf("next = %q", next)
	}
	cases := []struct {
		in   string
		want []Link
	}{
		{`<https://a/x?a=1,2>; rel="self", <https://a/y>; rel=next`, []Link{{URL: "https://a/x?a=1,2", Rels: []string{"self"}}, {URL: "https://a/y", Rels: []string{"next"}}}},
		{`<https://a/y>;rel="NEXT prev"; title="a, \"b\""`, []Link{{URL: "https://a/y", Rels: []string{"next", "prev"}, Params: map[string]string{"title": `a, "b"`}}}},
		{`<https://a/y>; rel=next; rel=self`, []Link{{URL: "https://a/y", Rels: []string{"next"}}}},
		{`garbage, <https://a/z>; rel="next"`, []Link{{URL: "https://a/z", Rels: []string{"next"}}}},
		{`<https://a/z>; rel="next`, nil},
		{`<https://a/z`, nil},
		{`<>; rel=next`, nil},
		{``, nil},
		{`<https://a/z>; bad token; rel=next, <https://a/w>; rel=self`, []Link{{URL: "https://a/w", Rels: []string{"self"}}}},
	}
	for _, tc := range cases {
		got := ParseLinkValues([]string{tc.in})
		if len(got) == 0 && len(tc.want) == 0 {
			continue
		}
		if !reflect.DeepEqual([]Link(got), tc.want) {
			t.Errorf("ParseLinkValues(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

func FuzzParseLinks(f *testing.F) {
	f.Add(`<https://acme.okta.com/api/v1/logs?after=1>; rel="next"`)
	f.Add(`<a>; rel=self, <b>; rel="next"; title="x, y"`)
	f.Fuzz(func(t *testing.T, s string) {
		for _, l := range ParseLinkValues([]string{s}) {
			if l.URL == "" {
				t.Fatalf("empty URL from %q", s)
			}
			for _, r := range l.Rels {
				if r == "" {
					t.Fatalf("empty rel from %q", s)
				}
			}
		}
	})
}

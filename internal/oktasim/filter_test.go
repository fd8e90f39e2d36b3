package oktasim

import (
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/event"
)

func TestParseFilterErrors(t *testing.T) {
	bad := map[string]string{
		``:                       "empty",
		`eventType`:              "operator",
		`eventType eq`:           "value",
		`eventType zz "a"`:       "unknown operator",
		`eventType eq "a`:        "unterminated",
		`eventType eq a`:         "quote strings",
		`(eventType eq "a"`:      `")"`,
		`eventType eq "a")`:      "unexpected",
		`eventType eq "a" and`:   "attribute name",
		`emails[type eq "work"]`: "value path",
		`eventType co 5`:         "string value",
		`eventType eq "a" # x`:   "unexpected character",
		`eventType eq "\x"`:      "escape",
		`a..b eq "x"`:            "invalid attribute",
		`eventType eq 1e`:        "malformed number",
		strings.Repeat("(", 40) + `a pr` + strings.Repeat(")", 40): "deeper",
		strings.Repeat("a", 5000):                                  "maximum",
		"eventType eq \"\xff\"":                                    "UTF-8",
	}
	for in, want := range bad {
		_, err := ParseFilter(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseFilter(%q) = %v, want error containing %q", in, err, want)
		}
	}
}

func TestFilterSemantics(t *testing.T) {
	doc, err := event.ParseDoc([]byte(`{"eventType":"user.session.start","n":5,"ok":true,"when":"2026-03-10T14:00:00.000Z",
		"target":[{"id":"a","type":"User"},{"id":"b","type":"AppInstance"}],"empty":"","nil":null}`))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]bool{
		`eventType eq "USER.SESSION.START"`:    true,
		`eventType Eq "user.session.start"`:    true,
		`eventType ne "user.session.start"`:    false,
		`n gt 4 and n le 5`:                    true,
		`n lt 5`:                               false,
		`n eq 5.0`:                             true,
		`ok eq true`:                           true,
		`ok eq FALSE`:                          false,
		`when gt "2026-03-10T13:59:59Z"`:       true,
		`when eq "2026-03-10T14:00:00Z"`:       true,
		`target.type eq "AppInstance"`:         true,
		`target.id ne "a"`:                     false,
		`missing pr`:                           false,
		`empty pr`:                             false,
		`nil pr`:                               false,
		`nil eq null`:                          true,
		`missing ne "x"`:                       true,
		`not (n gt 4) or eventType ew "start"`: true,
		`eventType sw "user" and not eventType co "x"`: true,
		`n gt 1 or n gt 2 and n gt 100`:                true, // and binds tighter than or
		`(n gt 1 or n gt 2) and n gt 100`:              false,
	}
	for in, want := range cases {
		f, err := ParseFilter(in)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", in, err)
			continue
		}
		if got := f.Match(doc); got != want {
			t.Errorf("%q matched %v, want %v", in, got, want)
		}
		again, err := ParseFilter(f.String())
		if err != nil || again.String() != f.String() {
			t.Errorf("%q: canonical form %q does not round-trip (%v)", in, f.String(), err)
		}
	}
}

func FuzzParseFilter(f *testing.F) {
	f.Add(`eventType eq "user.session.start" and outcome.result eq "FAILURE"`)
	doc := event.Doc{"eventType": "user.session.start", "n": int64(3), "target": []any{map[string]any{"id": "x"}}}
	f.Fuzz(func(t *testing.T, in string) {
		flt, err := ParseFilter(in)
		if err != nil {
			return
		}
		flt.Match(doc)
		_ = checkLogFilter(flt)
		canon := flt.String()
		if len(canon) > maxFilterLen {
			// Canonical spacing can push an expression near the limit past it; that is the
			// length check working, not a round-trip failure.
			return
		}
		again, err := ParseFilter(canon)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", canon, in, err)
		}
		if again.String() != canon {
			t.Fatalf("canonical form is unstable: %q then %q", canon, again.String())
		}
		if again.Match(doc) != flt.Match(doc) {
			t.Fatalf("%q and its canonical form %q disagree", in, canon)
		}
	})
}

func TestFilterCanonicalFormKeepsAmpersands(t *testing.T) {
	flt, err := ParseFilter(`actor.displayName eq "R&D <ops>"`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := flt.String(), `actor.displayName eq "R&D <ops>"`; got != want {
		t.Fatalf("canonical form %q, want %q", got, want)
	}
}

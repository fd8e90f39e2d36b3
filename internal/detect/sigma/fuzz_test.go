package sigma

import (
	"testing"

	"github.com/idwatch/idwatch/internal/event"
)

// FuzzParseFile checks that no rule file makes the parser panic, and that accepted rules can
// be evaluated without panicking.
func FuzzParseFile(f *testing.F) {
	f.Add([]byte("title: t\nlogsource: {product: okta}\ndetection:\n    s:\n        eventType|contains|all: [a, b]\n    condition: s\n"))
	f.Add([]byte("title: c\ncorrelation:\n    type: value_count\n    rules: [a]\n    group-by: [x]\n    timespan: 5m\n    condition: {field: y, gte: 2}\n"))
	f.Add([]byte("title: t\nlogsource: {product: okta}\ndetection:\n    kw: ['a*b', 'c?']\n    s:\n        x|re|i: '^a'\n        y|cidr: 10.0.0.0/8\n        z|base64offset|contains: abc\n    condition: 1 of them and not kw\n"))
	f.Add([]byte("---\n- a\n- b\n...\n"))
	f.Add([]byte("title: t\nlogsource: {product: okta}\ndetection:\n    s:\n        x|contains|expand: '%a%-%b%'\n        y|cidr|expand: '%A%'\n    condition: s\n"))
	f.Add([]byte("title: &a x\nb: *a\n"))
	f.Add([]byte("title: t\nlogsource: {product: okta}\ndetection: {s: {eventType: x}, condition: s}\nresponse: {mode: auto, actions: [clear-sessions, suspend], user: actor.alternateId, oauth_tokens: yes}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		paths := NewPaths()
		// Rules that parse are evaluated even when other documents of the file fail.
		rules, _ := ParseFileWith("f.yml", data, paths, Options{Placeholders: PlaceholderMap{"a": {"x*", "10.0.0.0/8"}, "b": {"ab?"}}})
		d, _ := event.ParseDoc([]byte(`{"eventType":"a","x":"abc","y":"10.1.2.3","z":"YWJj","target":[{"displayName":"b"}]}`))
		ev := NewEvent(paths)
		for _, r := range rules {
			if r.Detection != nil {
				ev.Reset(d)
				r.Detection.Match(ev)
			}
		}
	})
}

// FuzzParseCondition checks the condition parser on arbitrary text.
func FuzzParseCondition(f *testing.F) {
	for _, s := range []string{"a and not (b or c)", "1 of sel_* and not all of filter*", "all of them", "((((a))))", "not not a", "a or", "(", "2 of x*", "a | count() > 5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCondition(s)
		if err == nil && c == nil {
			t.Fatal("nil condition without error")
		}
	})
}

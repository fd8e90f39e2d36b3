package yamlerr

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
)

type doc struct {
	Wait  time.Duration `yaml:"wait"`
	Inner struct {
		Count int      `yaml:"count"`
		Tags  []string `yaml:"tags"`
	} `yaml:"inner"`
}

// TestExplain checks the wording of each kind of error, with and without lines.
func TestExplain(t *testing.T) {
	for _, c := range []struct {
		yaml string
		o    Options
		want string
	}{
		{"wait: 5\n", Options{}, "line 1: wait: 5 is a number; want a duration such as 5s"},
		{"wait: 5\n", Options{NoLines: true}, "wait: 5 is a number; want a duration such as 5s"},
		{"wait: 2d\n", Options{}, `line 1: wait: "2d" is not a duration; want a number and a unit (ms, s, m, h), such as 15s, 10m or 168h (there is no day unit: write 24h for a day, 168h for a week)`},
		{"inner:\n  count: true\n", Options{}, "line 2: inner.count: true is a boolean; want a whole number"},
		{"inner:\n  tags: {a: b}\n", Options{}, "line 2: inner.tags: the value is a mapping; want a list: [a, b], or one '- item' line each below it"},
		{"inner:\n  cuont: 3\n", Options{}, `line 2: inner: unknown field "cuont"; did you mean count?`},
		{"inner:\n  zzzzzz: 3\n", Options{}, `line 2: inner: unknown field "zzzzzz"`},
		{"extr: 1\n", Options{Keys: []string{"extra"}}, `line 1: unknown field "extr"; did you mean extra?`},
	} {
		var d doc
		err := Explain(yaml.UnmarshalWithOptions([]byte(c.yaml), &d, yaml.Strict()), []byte(c.yaml), reflect.TypeOf(d), c.o)
		if err == nil || err.Error() != c.want {
			t.Errorf("%q:\n got %v\nwant %s", c.yaml, err, c.want)
		}
	}
	if Explain(nil, nil, reflect.TypeOf(doc{}), Options{}) != nil {
		t.Error("no error explained as one")
	}
	if err := Explain(errors.New("other"), []byte("a: 1\n"), reflect.TypeOf(doc{}), Options{}); err == nil || err.Error() != "other" {
		t.Errorf("an error without a position: %v", err)
	}
}

package event

import (
	"reflect"
	"testing"
)

func TestParseKV(t *testing.T) {
	cases := []struct {
		in   string
		want map[string]any
		ok   bool
	}{
		{"{New Geo-Location=NEGATIVE, New Device=POSITIVE}", map[string]any{"New Geo-Location": "NEGATIVE", "New Device": "POSITIVE"}, true},
		{"{reasons=Anomalous Device, New IP, level=HIGH}", map[string]any{"reasons": "Anomalous Device, New IP", "level": "HIGH"}, true},
		{"  {level=LOW}  ", map[string]any{"level": "LOW"}, true},
		{"{}", map[string]any{}, true},
		{"{a=}", map[string]any{"a": ""}, true},
		{"{=x}", nil, false},
		{"{no pairs here}", nil, false},
		{"New Device=POSITIVE", nil, false},
		{"", nil, false},
		{"{", nil, false},
	}
	for _, c := range cases {
		got, ok := ParseKV(c.in)
		if ok != c.ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseKV(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestParseStructured(t *testing.T) {
	if got := ParseStructured(`{"risk":{"level":"HIGH"}}`); !reflect.DeepEqual(got, map[string]any{"risk": map[string]any{"level": "HIGH"}}) {
		t.Errorf("JSON string: %v", got)
	}
	if got := ParseStructured(`{"broken": `); got != `{"broken": ` {
		t.Errorf("broken JSON kept as string: %v", got)
	}
	if got := ParseStructured(42.0); got != 42.0 {
		t.Errorf("non-string kept: %v", got)
	}
}

func FuzzParseKV(f *testing.F) {
	for _, s := range []string{"{New Device=POSITIVE, New IP=NEGATIVE}", "{reasons=a, b, level=HIGH}", "{}", "{=}", "{a=b=c}", "{,}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, ok := ParseKV(s)
		if ok != (m != nil) {
			t.Fatalf("ParseKV(%q): ok %v with map %v", s, ok, m)
		}
		for k, v := range m {
			if k == "" {
				t.Fatalf("ParseKV(%q): empty key", s)
			}
			if _, isStr := v.(string); !isStr {
				t.Fatalf("ParseKV(%q): value %#v is not a string", s, v)
			}
		}
	})
}

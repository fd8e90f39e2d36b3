package normalize

import (
	"reflect"
	"testing"

	"github.com/idwatch/idwatch/internal/event"
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
	if got := parseStructured(`{"risk":{"level":"HIGH"}}`); !reflect.DeepEqual(got, map[string]any{"risk": map[string]any{"level": "HIGH"}}) {
		t.Errorf("JSON string: %v", got)
	}
	if got := parseStructured(`{"broken": `); got != `{"broken": ` {
		t.Errorf("broken JSON kept as string: %v", got)
	}
	if got := parseStructured(42.0); got != 42.0 {
		t.Errorf("non-string kept: %v", got)
	}
	if got := riskLevel(map[string]any{"level": "low"}, map[string]any{"risk": map[string]any{"level": "HIGH"}}, nil, "x"); got != "HIGH" {
		t.Errorf("riskLevel = %q, want HIGH", got)
	}
	levels := map[string]string{
		"{reasons=Anomalous Device, New IP, level=MEDIUM}":           "MEDIUM",
		"{previousLevel=LOW, level=HIGH, detectionName=Entity Risk}": "HIGH",
		"{level=LOW}":                                    "LOW",
		`{"risk":{"level":"HIGH"},"b":{}}`:               "HIGH",
		`{"risk": {"reasons": "x", "level" : "MEDIUM"}}`: "MEDIUM",
		"{reasons=sublevel=x}":                           "",
		"no level here":                                  "",
	}
	for in, want := range levels {
		if got := levelInText(in); got != want {
			t.Errorf("levelInText(%q) = %q, want %q", in, got, want)
		}
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

// FuzzNormalize checks that any decodable event normalizes to at least one record whose encoding
// is JSON carrying the identifying fields, without panicking.
func FuzzNormalize(f *testing.F) {
	for _, name := range []string{"listed-policy.evaluate_sign_on", "family-security.threat.detected", "listed-application.provision.user.sync"} {
		raw, err := readGoldenInput(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte(`{"uuid":"u","eventType":"x","published":"2025-01-01T00:00:00Z","client":{"ipAddress":"not-an-ip","userAgent":{"os":"Android 14"}},"target":[{"type":"UserGroup"},{"type":"PolicyRule"}]}`))
	n := New()
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := event.Decode(raw)
		if err != nil {
			return
		}
		recs := n.Normalize(ev, Meta{TenantUID: "t"})
		if len(recs) == 0 {
			t.Fatal("no records")
		}
		for _, r := range recs {
			b, err := r.MarshalJSON()
			if err != nil {
				return // an Extra field that cannot be encoded is reported, not hidden
			}
			doc, err := event.ParseDoc(b)
			if err != nil {
				t.Fatalf("record is not JSON: %v\n%s", err, b)
			}
			md, _ := doc["metadata"].(map[string]any)
			if md["uid"] != ev.UUID || md["event_code"] != ev.EventType {
				t.Fatalf("identity fields lost: %v", md)
			}
		}
	})
}

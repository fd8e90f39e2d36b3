package normalize

import (
	"testing"

	"github.com/idwatch/idwatch/internal/event"
)

func TestRiskLevel(t *testing.T) {
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
			// An event without a uuid or eventType (kept, with a flaw) has a record without them.
			if !sameOrAbsent(md["uid"], ev.UUID) || !sameOrAbsent(md["event_code"], ev.EventType) {
				t.Fatalf("identity fields lost: %v", md)
			}
		}
	})
}

// sameOrAbsent reports whether v, read from a record, is want, or absent when want is empty.
func sameOrAbsent(v any, want string) bool {
	if want == "" {
		return v == nil || v == ""
	}
	return v == want
}

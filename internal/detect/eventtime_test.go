package detect

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/event"
)

// TestEventTimeForms: the engine reads an event's time with the decoder's parser, so the same
// three denied pushes correlate into the same alert whatever form their published time takes,
// whether they arrive as generic documents (replay) or typed events (the processor).
func TestEventTimeForms(t *testing.T) {
	rs := compile(t, pushRule)
	forms := map[string]func(time.Time) string{
		"rfc3339":          func(t time.Time) string { return strconv.Quote(t.Format(time.RFC3339Nano)) },
		"space, no zone":   func(t time.Time) string { return strconv.Quote(t.Format("2006-01-02 15:04:05.000")) },
		"offset":           func(t time.Time) string { return strconv.Quote(t.In(time.FixedZone("", -5*3600)).Format(time.RFC3339)) },
		"epoch ms number":  func(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) },
		"epoch ms string":  func(t time.Time) string { return strconv.Quote(strconv.FormatInt(t.UnixMilli(), 10)) },
		"epoch s number":   func(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) },
		"epoch s fraction": func(t time.Time) string { return fmt.Sprintf("%d.000", t.Unix()) },
	}
	raw := func(form func(time.Time) string, uuid string, at time.Duration) []byte {
		return []byte(fmt.Sprintf(`{"uuid":%q,"published":%s%s}`, uuid, form(t0.Add(at)), deny))
	}
	var want string
	for _, name := range []string{"rfc3339", "space, no zone", "offset", "epoch ms number", "epoch ms string", "epoch s number", "epoch s fraction"} {
		form := forms[name]
		for _, typed := range []bool{false, true} {
			e := engine(t, rs, Config{})
			var alerts []Alert
			for i, at := range []time.Duration{0, time.Minute, 2 * time.Minute} {
				b := raw(form, string(rune('a'+i)), at)
				var f event.Fields
				if typed {
					le, err := event.Decode(b)
					if err != nil {
						t.Fatalf("%s: decode %s: %v", name, b, err)
					}
					f = le
				} else {
					d, err := event.ParseDoc(b)
					if err != nil {
						t.Fatal(err)
					}
					f = d
				}
				as, err := e.Process(Input{Fields: f})
				if err != nil {
					t.Fatalf("%s (typed %v): %s: %v", name, typed, b, err)
				}
				alerts = append(alerts, as...)
			}
			if len(alerts) != 1 {
				t.Fatalf("%s (typed %v): %d alerts, want 1", name, typed, len(alerts))
			}
			if want == "" {
				want = alerts[0].ID
			} else if alerts[0].ID != want {
				t.Errorf("%s (typed %v): alert id %s, want %s (the same events in RFC 3339)", name, typed, alerts[0].ID, want)
			}
		}
	}
}

// TestDebugDataForms: a rule written against Okta's string forms of logOnlySecurityData and
// behaviors matches an event that carries them as objects, with keys in another case.
func TestDebugDataForms(t *testing.T) {
	rs := compile(t, `title: risky
id: risky
logsource: {product: okta}
detection:
    risk:
        debugContext.debugData.logOnlySecurityData|contains: '"level":"HIGH"'
    device:
        debugContext.debugData.behaviors|contains: New Device=POSITIVE
    condition: risk and device
level: high
`)
	for name, dd := range map[string]string{
		"okta strings": `{"logOnlySecurityData":"{\"risk\":{\"level\":\"HIGH\"},\"behaviors\":{}}","behaviors":"{New Geo-Location=NEGATIVE, New Device=POSITIVE}"}`,
		"objects":      `{"logOnlySecurityData":{"risk":{"level":"HIGH"},"behaviors":{}},"behaviors":{"New Geo-Location":"NEGATIVE","New Device":"POSITIVE"}}`,
	} {
		raw := []byte(`{"uuid":"u","eventtype":"user.session.start","Published":"2025-03-10 14:02:11.177","DebugContext":{"debugData":` + dd + `}}`)
		le, err := event.Decode(raw)
		if err != nil || len(le.Flaws) != 0 {
			t.Fatalf("%s: decode: %v %v", name, err, le.Flaws)
		}
		doc, err := event.ParseDoc(raw)
		if err != nil {
			t.Fatal(err)
		}
		for kind, f := range map[string]event.Fields{"typed": le, "doc": doc} {
			as, err := engine(t, rs, Config{}).Process(Input{Fields: f})
			if err != nil || len(as) != 1 {
				t.Errorf("%s, %s: %d alerts (%v), want 1", name, kind, len(as), err)
			}
		}
	}
}

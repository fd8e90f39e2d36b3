package event

import (
	"fmt"
	"reflect"
	"testing"
)

// TestDualFormDebugData: logOnlySecurityData, behaviors and risk read the same whether the event
// carries Okta's string or the structure, in a typed event and in a generic document.
func TestDualFormDebugData(t *testing.T) {
	const (
		oktaLog  = `"{\"risk\":{\"level\":\"HIGH\"},\"behaviors\":{\"New Device\":\"POSITIVE\",\"New IP\":\"NEGATIVE\"}}"`
		objLog   = `{"risk":{"level":"HIGH"},"behaviors":{"New Device":"POSITIVE","New IP":"NEGATIVE"}}`
		oktaBeh  = `"{New Device=POSITIVE, New IP=NEGATIVE}"`
		objBeh   = `{"New IP":"NEGATIVE","New Device":"POSITIVE"}`
		oktaRisk = `"{reasons=Anomalous Device, New IP, level=HIGH}"`
		objRisk  = `{"level":"HIGH","reasons":"Anomalous Device, New IP"}`
	)
	want := map[string][]any{
		"debugContext.debugData.logOnlySecurityData":            {`{"behaviors":{"New Device":"POSITIVE","New IP":"NEGATIVE"},"risk":{"level":"HIGH"}}`},
		"debugContext.debugData.logOnlySecurityData.risk.level": {"HIGH"},
		"debugcontext.debugdata.LOGONLYSECURITYDATA.Risk.Level": {"HIGH"},
		"debugContext.debugData.behaviors":                      {"{New Device=POSITIVE, New IP=NEGATIVE}"},
		"debugContext.debugData.behaviors.New Device":           {"POSITIVE"},
		"debugContext.debugData.risk.level":                     {"HIGH"},
		"debugContext.debugData.risk.reasons":                   {"Anomalous Device, New IP"},
		"debugContext.debugData.other":                          {"x"},
	}
	for _, form := range []struct{ name, log, beh, risk string }{
		{"okta strings", oktaLog, oktaBeh, oktaRisk},
		{"objects", objLog, objBeh, objRisk},
	} {
		raw := fmt.Sprintf(`{"uuid":"u","eventType":"user.session.start","published":"2025-03-10T14:02:11Z","debugContext":{"debugData":{"logOnlySecurityData":%s,"behaviors":%s,"risk":%s,"other":"x"}}}`,
			form.log, form.beh, form.risk)
		ev, err := Decode([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := ParseDoc([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		for path, w := range want {
			if path == "debugContext.debugData.logOnlySecurityData" && form.name == "okta strings" {
				// Okta's own text is read as it is, not re-rendered.
				w = []any{`{"risk":{"level":"HIGH"},"behaviors":{"New Device":"POSITIVE","New IP":"NEGATIVE"}}`}
			}
			for name, f := range map[string]Fields{"typed": ev, "doc": doc} {
				var got []any
				f.Each(MustPath(path), func(v any) bool { got = append(got, v); return true })
				if !reflect.DeepEqual(got, w) {
					t.Errorf("%s, %s: %s = %#v, want %#v", form.name, name, path, got, w)
				}
			}
		}
	}
}

package normalize

import (
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/idwatch/idwatch/internal/event"
)

func readGoldenInput(name string) ([]byte, error) {
	return os.ReadFile("testdata/golden/" + name + ".json")
}

func normalizeFixture(t *testing.T, name string, meta Meta) []*Record {
	t.Helper()
	raw, err := readGoldenInput(name)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := event.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	return New().Normalize(ev, meta)
}

// TestRecordFields checks that rules on normalized data read OCSF paths, including parsed
// debug data, through Record.Each, concurrently.
func TestRecordFields(t *testing.T) {
	recs := normalizeFixture(t, "listed-policy.evaluate_sign_on", testMeta)
	if len(recs) != 2 || recs[0].Schema != Auth || recs[1].Schema != Generic {
		t.Fatalf("records: %d", len(recs))
	}
	cases := map[string][]any{
		"actor.user.name":    {"jdoe@acme.com"},
		"SRC_ENDPOINT.IP":    {"198.51.100.23"},
		"status_id":          {int64(1)},
		"metadata.labels":    {"schema:generic", "routing:listed"},
		"unmapped.target.id": {"00p1abvweGGDW10Ur4x6", "0pr2xyzRuLe0000001d7", "0oabe82gnXOFVCDUMVAK"},
		"unmapped.debugContext.debugData.behaviors.New Device": {"POSITIVE"},
		"unmapped.debugContext.debugData.risk.level":           {"MEDIUM"},
		"raw_data": nil,
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for path, want := range cases {
				var got []any
				recs[1].Each(event.MustPath(path), func(v any) bool { got = append(got, v); return true })
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", path, got, want)
				}
			}
		})
	}
	wg.Wait()
	var _ event.Fields = recs[0]
}

// TestSiblingEncodings checks that the records of an overlap event, which share their encoding,
// encode exactly as they would alone, in any order, with and without raw_data, concurrently.
func TestSiblingEncodings(t *testing.T) {
	for _, name := range []string{"listed-policy.evaluate_sign_on", "listed-user.authentication.sso", "listed-user.account.update_password"} {
		raw, err := readGoldenInput(name)
		if err != nil {
			t.Fatal(err)
		}
		alone := normalizeFixture(t, name, Meta{TenantUID: "acme", Raw: raw})
		if len(alone) != 2 {
			t.Fatalf("%s: %d records, want 2", name, len(alone))
		}
		want := map[EncodeOptions][2]string{}
		for _, opt := range []EncodeOptions{{}, {OmitRawData: true}} {
			var w [2]string
			for i, r := range alone {
				single := &Record{Schema: r.Schema, Routing: r.Routing, Event: r.Event, Raw: r.Raw, OCSF: r.OCSF}
				b, err := single.AppendJSON(nil, opt)
				if err != nil {
					t.Fatal(err)
				}
				w[i] = string(b)
			}
			if w[0] == w[1] {
				t.Fatalf("%s: both records encode the same", name)
			}
			want[opt] = w
		}
		for _, order := range [][]int{{0, 1, 0, 1}, {1, 0, 1, 0}, {0, 0, 1, 1}} {
			recs := normalizeFixture(t, name, Meta{TenantUID: "acme", Raw: raw})
			var wg sync.WaitGroup
			for _, opt := range []EncodeOptions{{}, {OmitRawData: true}, {}} {
				wg.Go(func() {
					for _, i := range order {
						b, err := recs[i].AppendJSON([]byte("prefix"), opt)
						if err != nil {
							t.Error(err)
							return
						}
						if got := strings.TrimPrefix(string(b), "prefix"); got != want[opt][i] {
							t.Errorf("%s record %d (order %v, %+v):\n got %s\nwant %s", name, i, order, opt, got, want[opt][i])
						}
					}
				})
			}
			wg.Wait()
		}
	}
}

// TestCountryCodes checks that location.country holds the ISO code of the country Okta names,
// with its continent, and that a name no table row knows stays in unmapped instead.
func TestCountryCodes(t *testing.T) {
	cases := []struct{ geo, want, unmapped string }{
		{`{"city":"Lagos","country":"Nigeria"}`, `"location":{"city":"Lagos","country":"NG","continent":"Africa"}`, ``},
		{`{"city":"Atlantis City","country":"Atlantis"}`, `"location":{"city":"Atlantis City"}`, `"geographicalContext":{"country":"Atlantis"}`},
		{`{"country":"Atlantis"}`, ``, `"geographicalContext":{"country":"Atlantis"}`},
	}
	for _, tc := range cases {
		raw := []byte(`{"uuid":"u1","eventType":"user.session.start","published":"2025-01-02T03:04:05Z","client":{"ipAddress":"198.51.100.7","geographicalContext":` + tc.geo + `}}`)
		ev, err := event.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		b, err := New().Normalize(ev, Meta{})[0].AppendJSON(nil, EncodeOptions{OmitRawData: true})
		if err != nil {
			t.Fatal(err)
		}
		out := string(b)
		if tc.want != "" && !strings.Contains(out, tc.want) {
			t.Errorf("%s: want %s in\n%s", tc.geo, tc.want, out)
		}
		if tc.want == "" && strings.Contains(out, `"location"`) {
			t.Errorf("%s: want no location in\n%s", tc.geo, out)
		}
		if tc.unmapped != "" && !strings.Contains(out, tc.unmapped) {
			t.Errorf("%s: want %s in unmapped of\n%s", tc.geo, tc.unmapped, out)
		}
		if tc.unmapped == "" && strings.Contains(out, `"geographicalContext"`) {
			t.Errorf("%s: a resolved country is also in unmapped:\n%s", tc.geo, out)
		}
	}
}

func TestRecordRawForms(t *testing.T) {
	raw := []byte(`{"uuid":"u1", "eventType":"user.risk.change","published":"2025-01-02T03:04:05Z","x":1}`)
	ev, err := event.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	rec := New().Normalize(ev, Meta{Raw: raw})[0]
	b, err := rec.AppendJSON(nil, EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"raw_data":"{\"uuid\":\"u1\", \"eventType\"`) {
		t.Errorf("raw_data is not the event as received:\n%s", b)
	}
	if !strings.Contains(string(b), `"unmapped":{"x":1}`) {
		t.Errorf("unknown top-level field not in unmapped:\n%s", b)
	}
	b, _ = rec.AppendJSON(nil, EncodeOptions{OmitRawData: true})
	if strings.Contains(string(b), "raw_data") {
		t.Error("OmitRawData kept raw_data")
	}
	env, err := rec.AppendRaw(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"schema":"generic","routing":"inferred","event":` + string(raw) + `}`
	if string(env) != want {
		t.Errorf("AppendRaw = %s\nwant %s", env, want)
	}
}

func TestClassify(t *testing.T) {
	c := newClassifier()
	cases := []struct {
		typ             string
		class, activity int
	}{
		{"user.session.start", ClassAuthentication, 1},
		{"user.session.impersonation.extend", ClassAuthentication, 7},
		{"user.session.expire", ClassAuthentication, 2},
		{"user.session.context.change", ClassAuthentication, ActivityOther},
		{"user.lifecycle.delete.completed", ClassAccountChange, ActivityOther},
		{"group.lifecycle.delete", ClassGroupManagement, 5},
		{"zone.deactivate", ClassEntityManagement, 11},
		{"device.lifecycle.suspend", ClassEntityManagement, 12},
		{"security.request.blocked", ClassDetectionFinding, 1},
		{"system.org.rate_limit.violation", ClassAPIActivity, ActivityOther},
		{"system.client.create", ClassAPIActivity, 1},
		{"", ClassAPIActivity, ActivityOther},
	}
	for _, tc := range cases {
		cl, act := c.classify(tc.typ)
		if cl != tc.class || act != tc.activity {
			t.Errorf("classify(%q) = %d/%d, want %d/%d", tc.typ, cl, act, tc.class, tc.activity)
		}
		if _, ok := classes[cl].activities[act]; !ok && act != ActivityOther {
			t.Errorf("classify(%q): activity %d is not in class %d", tc.typ, act, cl)
		}
	}
	for _, row := range ClassTable {
		if _, ok := classes[row.Class]; !ok {
			t.Errorf("ClassTable %q: unknown class %d", row.Match, row.Class)
		}
		if _, ok := classes[row.Class].activities[row.Activity]; !ok && row.Activity != 0 && row.Activity != ActivityOther {
			t.Errorf("ClassTable %q: activity %d not in class %d", row.Match, row.Activity, row.Class)
		}
	}
}

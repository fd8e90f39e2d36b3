package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeFull(t *testing.T) {
	ev, err := Decode(readFixture(t, "full.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2025, 3, 10, 14, 2, 11, 512e6, time.UTC)
	if !ev.Published.Equal(want) || ev.Published.Location() != time.UTC {
		t.Errorf("published = %v, want %v", ev.Published, want)
	}
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"uuid", ev.UUID, "dc9fd3c0-598c-11ef-8478-2b7584bf8d5a"},
		{"eventType", ev.EventType, "user.session.start"},
		{"actor.alternateId", ev.Actor.AlternateID, "jdoe@acme.com"},
		{"client.zone kept as data", ev.Client.Zone, "null"},
		{"postalCode", ev.Client.GeographicalContext.PostalCode, "10013"},
		{"lon", ev.Client.GeographicalContext.Geolocation.Lon, -74.01},
		{"asNumber", *ev.SecurityContext.AsNumber, int64(394089)},
		{"isProxy", *ev.SecurityContext.IsProxy, false},
		{"device.managed", *ev.Device.Managed, false},
		{"issuer", ev.AuthenticationContext.Issuer.ID, "aus1issuer"},
		{"targets", len(ev.Target), 2},
		{"changeDetails.to", ev.Target[1].ChangeDetails.To["vpnLocationOptions"], "ZONE"},
		{"debugData count is int64", ev.DebugContext.DebugData["count"], int64(3)},
		{"debugData ratio is float64", ev.DebugContext.DebugData["ratio"], 0.25},
		{"ipChain", ev.Request.IPChain[1].Source, "proxy"},
		{"userBehaviors", len(ev.SecurityContext.UserBehaviors), 2},
		{"extra kept", string(ev.Extra["newField"]), `"kept"`},
		{"extra compacted", string(ev.Extra["tenantHint"]), `{"org":"acme","ids":[1,2.5]}`},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

const minimal = `"uuid":"u1","eventType":"user.session.start"`

func TestDecodeTolerance(t *testing.T) {
	cases := []struct {
		name  string
		json  string
		check func(*LogEvent) bool
	}{
		{"published with Z and ms", `{` + minimal + `,"published":"2025-03-10T14:02:11.512Z"}`,
			func(e *LogEvent) bool { return e.Published.Equal(time.Date(2025, 3, 10, 14, 2, 11, 512e6, time.UTC)) }},
		{"published without fraction", `{` + minimal + `,"published":"2025-03-10T14:02:11Z"}`,
			func(e *LogEvent) bool { return e.Published.Equal(time.Date(2025, 3, 10, 14, 2, 11, 0, time.UTC)) }},
		{"published without zone is UTC", `{` + minimal + `,"published":"2025-03-10T14:02:11.5"}`,
			func(e *LogEvent) bool {
				return e.Published.Equal(time.Date(2025, 3, 10, 14, 2, 11, 5e8, time.UTC)) && e.Published.Location() == time.UTC
			}},
		{"published with offset", `{` + minimal + `,"published":"2025-03-10T16:02:11.000+02:00"}`,
			func(e *LogEvent) bool { return e.Published.Equal(time.Date(2025, 3, 10, 14, 2, 11, 0, time.UTC)) }},
		{"postalCode as number", `{` + minimal + `,"published":"2025-03-10T14:02:11Z","client":{"geographicalContext":{"postalCode":94105}}}`,
			func(e *LogEvent) bool { return e.Client.GeographicalContext.PostalCode == "94105" }},
		{"asNumber as string", `{` + minimal + `,"published":"2025-03-10T14:02:11Z","securityContext":{"asNumber":"394089"}}`,
			func(e *LogEvent) bool { return *e.SecurityContext.AsNumber == 394089 }},
		{"asNumber not a number", `{` + minimal + `,"published":"2025-03-10T14:02:11Z","securityContext":{"asNumber":"n/a"}}`,
			func(e *LogEvent) bool { return e.SecurityContext.AsNumber == nil }},
		{"isProxy as string", `{` + minimal + `,"published":"2025-03-10T14:02:11Z","securityContext":{"isProxy":"TRUE"}}`,
			func(e *LogEvent) bool { return *e.SecurityContext.IsProxy }},
		{"null objects", `{` + minimal + `,"published":"2025-03-10T14:02:11Z","actor":null,"client":null,"device":null,"outcome":null,"target":null,"transaction":null,"debugContext":null,"authenticationContext":null,"securityContext":null,"request":null}`,
			func(e *LogEvent) bool {
				return e.Actor == nil && e.Client == nil && e.Target == nil && e.SecurityContext == nil && e.Request == nil
			}},
		{"null fields inside objects", `{` + minimal + `,"published":"2025-03-10T14:02:11Z","outcome":{"result":"SUCCESS","reason":null},"client":{"id":null,"geographicalContext":null,"userAgent":null},"debugContext":{"debugData":null}}`,
			func(e *LogEvent) bool {
				return e.Outcome.Reason == "" && e.Client.GeographicalContext == nil && e.DebugContext.DebugData == nil
			}},
		{"string null is data", `{` + minimal + `,"published":"2025-03-10T14:02:11Z","client":{"zone":"null"}}`,
			func(e *LogEvent) bool { return e.Client.Zone == "null" }},
		{"missing contexts", `{` + minimal + `,"published":"2025-03-10T14:02:11Z"}`,
			func(e *LogEvent) bool { return e.AuthenticationContext == nil && e.DebugContext == nil }},
		{"version as number", `{` + minimal + `,"published":"2025-03-10T14:02:11Z","version":0}`,
			func(e *LogEvent) bool { return e.Version == "0" }},
		{"escaped strings", `{` + minimal + `,"published":"2025-03-10T14:02:11Z","displayMessage":"a\"b\\c\u00e9\ud83d\ude00\n"}`,
			func(e *LogEvent) bool { return e.DisplayMessage == "a\"b\\c\u00e9\U0001F600\n" }},
		{"lat as string", `{` + minimal + `,"published":"2025-03-10T14:02:11Z","client":{"geographicalContext":{"geolocation":{"lat":"40.5","lon":-74}}}}`,
			func(e *LogEvent) bool {
				return e.Client.GeographicalContext.Geolocation.Lat == 40.5 && e.Client.GeographicalContext.Geolocation.Lon == -74
			}},
		{"unknown nested fields ignored", `{` + minimal + `,"published":"2025-03-10T14:02:11Z","actor":{"id":"x","future":{"a":1}}}`,
			func(e *LogEvent) bool { return e.Actor.ID == "x" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev, err := Decode([]byte(c.json))
			if err != nil {
				t.Fatal(err)
			}
			if !c.check(ev) {
				t.Fatalf("unexpected decode: %+v", ev)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	cases := []struct {
		json     string
		want     string
		notEvent bool
	}{
		{``, "empty input", true},
		{`[1,2]`, "got an array, want a JSON object", true},
		{`"x"`, "got a string", true},
		{`null`, "got null", true},
		{`{}`, "no uuid, eventType or published time", true},
		{`{"puBlished":"0001-01-01 00:00:00,000"}`, "no uuid, eventType or published time", true},
		{`{"Foo":1,"bar":{"uuid":"u"}}`, "no uuid, eventType or published time", true},
		{`{"uuid":"u",`, "invalid JSON", false},
		{`{"uuid":"u"} x`, "unexpected data after the event", false},
		{"{\"uuid\":\"u\x01\"}", "control character", false},
		{`{"uuid":01}`, "invalid JSON", false},
		{`{"a":` + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + `}`, "nesting deeper", false},
	}
	for _, c := range cases {
		_, err := Decode([]byte(c.json))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Decode(%.60q) error = %v, want it to contain %q", c.json, err, c.want)
			continue
		}
		if errors.Is(err, ErrNotEvent) != c.notEvent {
			t.Errorf("Decode(%.60q): errors.Is(ErrNotEvent) = %v", c.json, !c.notEvent)
		}
	}
}

// TestDecodeFlaws: what does not fit the model is kept as a flaw with its value, the field
// reads as absent, and the rest of the event is read.
func TestDecodeFlaws(t *testing.T) {
	const pub = `"published":"2025-03-10T14:02:11Z"`
	cases := []struct {
		json  string
		flaws []string // Flaw.String() of each, in order
	}{
		{`{"eventType":"a",` + pub + `}`, []string{"uuid: missing"}},
		{`{"uuid":"u",` + pub + `}`, []string{"eventType: missing"}},
		{`{"uuid":"u","eventType":"a"}`, []string{"published: missing"}},
		{`{"uuid":"u","eventType":"a","published":null}`, []string{"published: empty"}},
		{`{"uuid":"u","eventType":"a","published":"yesterday"}`,
			[]string{`published: "yesterday" is not a timestamp: want RFC 3339 like 2025-03-10T14:02:11.512Z (zone optional, UTC if absent) or epoch seconds or milliseconds: "yesterday"`}},
		{`{"uuid":"u","eventType":"a","published":"0001-01-01T00:00:00Z"}`,
			[]string{`published: the zero time (0001-01-01T00:00:00Z) reads as no time: "0001-01-01T00:00:00Z"`}},
		{`{"uuid":"u","eventType":"a","published":{"t":1}}`, []string{`published: want a string, got an object: {"t":1}`}},
		{`{` + minimal + `,` + pub + `,"actor":"admin"}`, []string{`actor: want an object, got a string: "admin"`}},
		{`{` + minimal + `,` + pub + `,"actor":{"id":{"x":1},"type":"User"}}`, []string{`actor.id: want a string, got an object: {"x":1}`}},
		{`{` + minimal + `,` + pub + `,"target":{}}`, []string{`target: want an array, got an object: {}`}},
		{`{` + minimal + `,` + pub + `,"target":[{"id":"a"},{"id":"b","detailEntry":"x"}]}`, []string{`target[1].detailEntry: want an object, got a string: "x"`}},
		{`{` + minimal + `,` + pub + `,"request":{"ipChain":[{"ip":"1.2.3.4"},{"ip":[1]}]}}`, []string{`request.ipChain[1].ip: want a string, got an array: [1]`}},
		{`{` + minimal + `,` + pub + `,"debugContext":{"debugData":""}}`, []string{`debugContext.debugData: want an object, got a string: ""`}},
		{`{` + minimal + `,` + pub + `,"debugContext":{"debugData":["a", 1]}}`, []string{`debugContext.debugData: want an object, got an array: ["a",1]`}},
		{`{` + minimal + `,` + pub + `,"debugContext":{"debugData":{"n":1e999}}}`, []string{`debugContext.debugData: number 1e999 is out of range: {"n":1e999}`}},
		{`{` + minimal + `,` + pub + `,"future":{"n":[10e700]}}`, []string{`future: invalid JSON at byte 6: number 10e700 is out of range: {"n":[10e700]}`}},
		{`{` + minimal + `,` + pub + `,"securityContext":{"userBehaviors":"x","isProxy":[true]}}`,
			[]string{`securityContext.userBehaviors: want an array, got a string: "x"`, `securityContext.isProxy: want a boolean, got an array: [true]`}},
	}
	for _, c := range cases {
		ev, err := Decode([]byte(c.json))
		if err != nil {
			t.Errorf("Decode(%s): %v, want the event with flaws", c.json, err)
			continue
		}
		var got []string
		for _, f := range ev.Flaws {
			got = append(got, f.String())
		}
		if strings.Join(got, "\n") != strings.Join(c.flaws, "\n") {
			t.Errorf("Decode(%s) flaws:\n%s\nwant:\n%s", c.json, strings.Join(got, "\n"), strings.Join(c.flaws, "\n"))
		}
	}
	// The rest of a flawed event is read.
	ev, err := Decode([]byte(`{` + minimal + `,` + pub + `,"debugContext":{"debugData":""},"actor":{"id":"00u1","type":"User"},"outcome":{"result":"FAILURE"}}`))
	if err != nil || ev.Actor == nil || ev.Actor.ID != "00u1" || ev.Outcome.Result != "FAILURE" || ev.DebugContext == nil || ev.DebugContext.DebugData != nil {
		t.Fatalf("flawed event not read around its flaw: %+v %v", ev, err)
	}
}

// TestDecodeKeyCase: member names match in any case, as exports and hand-written events
// spell them; the last of two spellings wins, as with a duplicate member.
func TestDecodeKeyCase(t *testing.T) {
	ev, err := Decode([]byte(`{"UUID":"u","EventType":"user.session.start","PUBLISHED":"2025-03-10 14:02:11.177",` +
		`"actor":{"AlternateID":"a@example.com","displayname":"A"},"Client":{"IPAddress":"1.2.3.4","geographicalcontext":{"Country":"France"}},` +
		`"OUTCOME":{"Result":"SUCCESS"},"Target":[{"ID":"t1"}],"debugcontext":{"DebugData":{"requestUri":"/x"}},"Future":1}`))
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2025, 3, 10, 14, 2, 11, 177e6, time.UTC)
	switch {
	case len(ev.Flaws) != 0:
		t.Fatalf("flaws %v", ev.Flaws)
	case ev.UUID != "u" || ev.EventType != "user.session.start" || !ev.Published.Equal(want):
		t.Fatalf("top level: %q %q %v", ev.UUID, ev.EventType, ev.Published)
	case ev.Actor.AlternateID != "a@example.com" || ev.Actor.DisplayName != "A":
		t.Fatalf("actor %+v", ev.Actor)
	case ev.Client.IPAddress != "1.2.3.4" || ev.Client.GeographicalContext.Country != "France":
		t.Fatalf("client %+v", ev.Client)
	case ev.Outcome.Result != "SUCCESS" || ev.Target[0].ID != "t1" || ev.DebugContext.DebugData["requestUri"] != "/x":
		t.Fatalf("outcome/target/debugData %+v %+v %+v", ev.Outcome, ev.Target, ev.DebugContext)
	case string(ev.Extra["Future"]) != "1":
		t.Fatalf("unknown member not kept as written: %v", ev.Extra)
	}
}

func TestRoundTrip(t *testing.T) {
	raw := readFixture(t, "full.json")
	ev, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(out) || strings.Contains(string(out), "\n") {
		t.Fatalf("output is not one line of JSON: %s", out)
	}
	var back LogEvent
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ev, &back) {
		t.Fatalf("round trip changed the event:\n%s\n%+v", out, back)
	}
	// Every field of the input survives, modulo formatting: compare generic documents.
	var in, got any
	_ = json.Unmarshal(raw, &in)
	_ = json.Unmarshal(out, &got)
	dropNulls(in)
	dropNulls(got)
	if !reflect.DeepEqual(in, got) {
		t.Fatalf("encoded event differs from input:\n%s", out)
	}
}

// dropNulls removes null members, which the model reads as absent.
func dropNulls(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if e == nil {
				delete(t, k)
			} else {
				dropNulls(e)
			}
		}
	case []any:
		for _, e := range t {
			dropNulls(e)
		}
	}
}

func TestMarshalFormats(t *testing.T) {
	ev := &LogEvent{UUID: "u", EventType: "t", Published: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Client:       &Client{GeographicalContext: &GeographicalContext{Geolocation: &Geolocation{Lat: 40, Lon: -74.5}}},
		DebugContext: &DebugContext{DebugData: map[string]any{"f": 3.0, "s": "<a&b>\u2028", "bad": "\xff"}}}
	out, err := ev.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"uuid":"u","published":"2025-01-02T03:04:05.000Z","eventType":"t","client":{"geographicalContext":{"geolocation":{"lat":40.0,"lon":-74.5}}},"debugContext":{"debugData":{"bad":"\ufffd","f":3.0,"s":"<a&b>\u2028"}}}`
	if string(out) != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
	ev.Extra = map[string]json.RawMessage{"bad": json.RawMessage(`{`)}
	if _, err := ev.MarshalJSON(); err == nil || !strings.Contains(err.Error(), `extra field "bad"`) {
		t.Fatalf("invalid Extra: err = %v", err)
	}
}

func TestDecodeLines(t *testing.T) {
	good := `{` + minimal + `,"published":"2025-03-10T14:02:11Z"}`
	long := `{` + minimal + `,"published":"2025-03-10T14:02:11Z","displayMessage":"` + strings.Repeat("x", 200<<10) + `"}`
	in := good + "\n\n" + `{"uuid":` + "\n" + long + "\r\n" + `[]` + "\n" + good
	var lines []int
	var errs []string
	err := DecodeLines(strings.NewReader(in), func(n int, raw []byte, ev *LogEvent, err error) error {
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) || le.Line != n {
				t.Errorf("line %d: error %v is not a LineError for the line", n, err)
			}
			errs = append(errs, err.Error())
			return nil
		}
		lines = append(lines, n)
		if ev.UUID != "u1" {
			t.Errorf("line %d: uuid %q", n, ev.UUID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(lines, []int{1, 4, 6}) {
		t.Errorf("good lines = %v, want [1 4 6]", lines)
	}
	if len(errs) != 2 || !strings.HasPrefix(errs[0], "line 3: ") || !strings.HasPrefix(errs[1], "line 5: ") {
		t.Errorf("errors = %q", errs)
	}
	stop := errors.New("stop")
	if err := DecodeLines(strings.NewReader(good+"\n"+good), func(int, []byte, *LogEvent, error) error { return stop }); err != stop {
		t.Errorf("callback error not returned: %v", err)
	}
}

// TestParseValueObjects: free-form objects at every level, read through the members stack they
// share, hold exactly their own members (the last of a repeated name wins, as in encoding/json),
// and a value read after an error starts from an empty stack.
func TestParseValueObjects(t *testing.T) {
	// big writes an object of n members k0…k(n-1) holding i, then k(n-1) again holding -1
	// and k0 again holding inner.
	big := func(n int, inner string) string {
		var b strings.Builder
		b.WriteByte('{')
		for i := range n {
			fmt.Fprintf(&b, `"k%d":%d,`, i, i)
		}
		return b.String() + fmt.Sprintf(`"k%d":-1,"k0":`, n-1) + inner + `}`
	}
	for _, in := range []string{
		big(directMembers+1, "1"),
		big(3*directMembers, big(2*directMembers, `{"a":[`+big(directMembers, "{}")+`]}`)),
		`[` + big(directMembers+5, "0") + `,` + big(directMembers+7, `"x"`) + `]`,
		`{}`,
		`{"a":1,"a":2}`,
		`{"a":{"b":{"c":[{"d":1},{}],"e":{}},"f":2},"g":{"a":3},"h":[{"i":{"j":4}},5]}`,
		`{"x":{"y":1,"y":{"z":2}},"x":{"w":3}}`,
		`[{"a":1},{"b":2},[{"c":{"d":{}}}]]`,
	} {
		got, err := ParseValue([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		var want any
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatal(err)
		}
		if g, w := fmt.Sprint(got), fmt.Sprint(want); g != w {
			t.Errorf("%s: got %s, want %s", in, g, w)
		}
	}
	d := scanner{s: big(2*directMembers, `{"b":1,"c":}`)}
	if _, err := d.value(); err == nil {
		t.Fatal("want a syntax error")
	}
	if len(d.members) != 0 || cap(d.members) == 0 {
		t.Errorf("after an error %d members are left on the stack (of %d)", len(d.members), cap(d.members))
	}
	d.s, d.i = big(directMembers+1, `{"l":2}`), 0
	if v, err := d.value(); err != nil || fmt.Sprint(v.(map[string]any)["k0"]) != "map[l:2]" || len(v.(map[string]any)) != directMembers+1 {
		t.Errorf("after an error: got %v, %v", v, err)
	}
}

package normalize

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/benchutil"
	"github.com/idwatch/idwatch/internal/event"
)

// TestSortKeysLinear: ordering an event's keys costs steps linear in their number, not the
// O(n²) of the insertion sort that let one event with a million debugData keys stall the
// processor for minutes (nor the n·log n of a comparison sort).
func TestSortKeysLinear(t *testing.T) {
	perKey := 0.0
	for _, n := range []int{1_000, 10_000, 100_000} {
		ms := make([]member[int], n)
		for i, j := range rand.New(rand.NewPCG(1, 2)).Perm(n) {
			ms[i] = member[int]{"key" + strconv.Itoa(j), j}
		}
		work := 0
		sortMembers(ms, &work)
		for i := 1; i < n; i++ {
			if ms[i-1].k >= ms[i].k || strconv.Itoa(ms[i].v) != ms[i].k[3:] {
				t.Fatalf("%d keys: out of order at %d: %q %q", n, i, ms[i-1].k, ms[i].k)
			}
		}
		if perKey == 0 {
			perKey = float64(work) / float64(n)
		} else if got := float64(work) / float64(n); got > 1.5*perKey {
			t.Errorf("%d keys: %.1f steps per key, up from %.1f for 1,000 keys", n, got, perKey)
		}
	}
}

// TestSortKeysOrder compares the order with the standard library's on keys that share long
// prefixes, hold NUL bytes, are empty or not ASCII.
func TestSortKeysOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"a", "b", "\x00", "\xff", "é", "key", "longer-shared-prefix-"}
	for _, n := range []int{0, 1, 2, 63, 64, 65, 500, 5000} {
		seen := map[string]bool{}
		var keys []string
		for len(keys) < n {
			var b strings.Builder
			for range r.IntN(6) {
				b.WriteString(alphabet[r.IntN(len(alphabet))])
			}
			if k := b.String(); !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
		ms := make([]member[int], n)
		for i, k := range keys {
			ms[i] = member[int]{k, i}
		}
		sortMembers(ms, nil)
		want := slices.Clone(keys)
		slices.Sort(want)
		for i := range ms {
			if ms[i].k != want[i] || keys[ms[i].v] != ms[i].k {
				t.Fatalf("%d keys: at %d got %q, want %q", n, i, ms[i].k, want[i])
			}
		}
	}
}

// truncatedRecord normalizes a hostile event and returns its first record decoded.
func truncatedRecord(t *testing.T, h benchutil.Hostile) (map[string]any, *Record) {
	t.Helper()
	ev, err := event.Decode(h.Event("u-hostile"))
	if err != nil {
		t.Fatal(err)
	}
	rec := New().Normalize(ev, Meta{})[0]
	b, err := rec.AppendJSON(nil, EncodeOptions{OmitRawData: true})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("record is not JSON: %v", err)
	}
	return m, rec
}

// restOf checks that obj holds MaxMembers members plus RestKey, and returns the members of the
// rest with obj's own (without RestKey).
func restOf(t *testing.T, what string, obj map[string]any) map[string]any {
	t.Helper()
	if len(obj) != MaxMembers+1 {
		t.Errorf("%s: %d members, want %d and %s", what, len(obj), MaxMembers, RestKey)
	}
	text, ok := obj[RestKey].(string)
	if !ok {
		t.Fatalf("%s: no %s text", what, RestKey)
	}
	var rest map[string]any
	if err := json.Unmarshal([]byte(text), &rest); err != nil {
		t.Fatalf("%s: %s is not a JSON object: %v", what, RestKey, err)
	}
	all := map[string]any{}
	for k, v := range obj {
		if k != RestKey {
			all[k] = v
		}
	}
	for k, v := range rest {
		if _, dup := all[k]; dup {
			t.Errorf("%s: %q both kept and in the rest", what, k)
		}
		all[k] = v
	}
	return all
}

// TestBoundsKeepEverything: past MaxMembers and MaxDepth a record keeps the event's free-form
// data as JSON text, says so in metadata.is_truncated, and loses nothing.
func TestBoundsKeepEverything(t *testing.T) {
	h := benchutil.Hostile{Keys: 2500, Extra: 1200, Depth: 40, StrLen: 300, ArrayLen: 20, Targets: 1100, Behaviors: 1300}
	m, _ := truncatedRecord(t, h)
	md := m["metadata"].(map[string]any)
	if md["is_truncated"] != true {
		t.Errorf("metadata.is_truncated = %v, want true", md["is_truncated"])
	}
	if labels := md["labels"].([]any); len(labels) != 2 || labels[0] != "schema:auth" {
		t.Errorf("labels %v", labels)
	}
	un := m["unmapped"].(map[string]any)
	dd := restOf(t, "debugData", un["debugContext"].(map[string]any)["debugData"].(map[string]any))
	// requestId and requestUri have an OCSF home; every other key is there, kept or as text.
	if want := h.Keys + 5; len(dd) != want {
		t.Errorf("debugData keeps %d keys, want %d", len(dd), want)
	}
	for i := range h.Keys {
		if v, ok := dd["key"+strconv.Itoa(i)].(string); !ok || !strings.HasPrefix(v, "v") {
			t.Fatalf("debugData key%d = %v", i, dd["key"+strconv.Itoa(i)])
		}
	}
	// Members past MaxMembers are kept as they came, unparsed.
	if s, ok := dd["signOnMode"].(string); !ok || s != "SAML 2.0" {
		t.Errorf("signOnMode in the rest: %v", dd["signOnMode"])
	}
	// A Java map rendering past MaxMembers is parsed and bounded like any object.
	if beh, ok := dd["behaviors"].(map[string]any); !ok {
		t.Errorf("behaviors: %T", dd["behaviors"])
	} else if all := restOf(t, "behaviors", beh); len(all) != h.Behaviors {
		t.Errorf("behaviors keeps %d members, want %d", len(all), h.Behaviors)
	}
	if targets := un["target"].([]any); len(targets) != MaxMembers+1 {
		t.Errorf("target: %d elements", len(targets))
	} else {
		var rest []map[string]any
		if err := json.Unmarshal([]byte(targets[MaxMembers].(map[string]any)[RestKey].(string)), &rest); err != nil || len(rest) != h.Targets-MaxMembers || rest[0]["id"] != "0oa1000" {
			t.Errorf("target rest: %v, %d elements", err, len(rest))
		}
	}
	if svc, _ := m["service"].(map[string]any); svc["uid"] != "0oa0" {
		t.Errorf("service %v", m["service"])
	}
}

// TestBoundsArraysAndNesting: long arrays and deep nesting under unmapped.
func TestBoundsArraysAndNesting(t *testing.T) {
	h := benchutil.Hostile{Depth: 40, ArrayLen: 1500}
	m, rec := truncatedRecord(t, h)
	if m["metadata"].(map[string]any)["is_truncated"] != true {
		t.Error("metadata.is_truncated not set")
	}
	un := m["unmapped"].(map[string]any)
	dd := un["debugContext"].(map[string]any)["debugData"].(map[string]any)
	if list := dd["list"].([]any); len(list) != MaxMembers+1 {
		t.Errorf("list: %d elements", len(list))
	} else {
		var rest []any
		if err := json.Unmarshal([]byte(list[MaxMembers].(map[string]any)[RestKey].(string)), &rest); err != nil || len(rest) != h.ArrayLen-MaxMembers || rest[0] != "e1000" {
			t.Errorf("list rest: %v, %d elements", err, len(rest))
		}
	}
	// nested: debugData is level 3, nested level 4, each object or array one level more.
	var v any = dd["nested"]
	level := 4
	for done := false; !done; {
		switch t := v.(type) {
		case map[string]any:
			v, level = t["a"], level+1
		case []any:
			v, level = t[1], level+1
		default:
			done = true
		}
	}
	text, ok := v.(string)
	if !ok || level != MaxDepth+1 || !json.Valid([]byte(text)) || !strings.Contains(text, `"deepest"`) {
		t.Errorf("nesting kept as structure to level %d, then %.60q", level, v)
	}
	// The actor's detailEntry.list is bounded the same way.
	if list := un["actor"].(map[string]any)["detailEntry"].(map[string]any)["list"].([]any); len(list) != MaxMembers+1 {
		t.Errorf("actor detailEntry list: %d elements", len(list))
	}
	// Rules read the kept structure.
	var got []any
	rec.Each(event.MustPath("unmapped.debugContext.debugData.list"), func(v any) bool { got = append(got, v); return true })
	if len(got) != MaxMembers+1 || got[0] != "e0" {
		t.Errorf("list through Each: %d values", len(got))
	}
}

func TestBoundsExtraFields(t *testing.T) {
	h := benchutil.Hostile{Extra: 1200}
	m, _ := truncatedRecord(t, h)
	un := m["unmapped"].(map[string]any)
	// Unknown top-level fields: MaxMembers of them, the rest as text.
	extra := map[string]any{}
	for k, v := range un {
		if strings.HasPrefix(k, "extra") || k == RestKey {
			extra[k] = v
		}
	}
	if all := restOf(t, "extra fields", extra); len(all) != h.Extra {
		t.Errorf("extra fields: %d kept, want %d", len(all), h.Extra)
	}
}

// TestWithinBoundsUnflagged: data at the bounds is written whole, unflagged.
func TestWithinBoundsUnflagged(t *testing.T) {
	m, _ := truncatedRecord(t, benchutil.Hostile{Keys: MaxMembers - 4, Extra: MaxMembers, Depth: 10, ArrayLen: MaxMembers, Targets: MaxMembers, Behaviors: MaxMembers})
	if _, ok := m["metadata"].(map[string]any)["is_truncated"]; ok {
		t.Error("metadata.is_truncated set for an event within bounds")
	}
	raw, _ := json.Marshal(m)
	if strings.Contains(string(raw), RestKey) {
		t.Errorf("%s written for an event within bounds", RestKey)
	}
	dd := m["unmapped"].(map[string]any)["debugContext"].(map[string]any)["debugData"].(map[string]any)
	if len(dd) != MaxMembers {
		t.Errorf("debugData: %d members, want %d", len(dd), MaxMembers)
	}
}

func TestRawExceeds(t *testing.T) {
	deep := strings.Repeat(`{"a":`, MaxDepth-3) + "1" + strings.Repeat("}", MaxDepth-3)
	many := "[" + strings.Repeat(`"x",`, MaxMembers-1) + `"x"]`
	cases := []struct {
		text string
		want bool
	}{
		{`{}`, false},
		{`{"a":"}{[,,,"}`, false},
		{deep, false},
		{`[` + deep + `]`, true},
		{many, false},
		{`[` + many + `]`, false},
		{strings.Replace(many, "[", `["y",`, 1), true},
		{`{"k":` + strings.Replace(many, "[", `["y",`, 1) + `}`, true},
	}
	for _, c := range cases {
		if got := rawExceeds([]byte(c.text), 4); got != c.want {
			t.Errorf("rawExceeds(%.40s…) = %v, want %v", c.text, got, c.want)
		}
		v, err := event.ParseValue([]byte(c.text))
		if err != nil {
			t.Fatal(err)
		}
		if got := exceeds(v, 4); got != c.want {
			t.Errorf("exceeds(%.40s…) = %v, want %v", c.text, got, c.want)
		}
	}
}

// TestParseKVLinear: a Java map rendering with many pieces parses in a bounded number of
// allocations (a value continued by n pieces used to be rebuilt n times, and each key was
// looked for among all before it).
func TestParseKVLinear(t *testing.T) {
	var b strings.Builder
	b.WriteString("{reasons=first")
	for i := range 10_000 {
		b.WriteString(", reason " + strconv.Itoa(i))
	}
	for i := range 10_000 {
		b.WriteString(", k" + strconv.Itoa(i) + "=v")
	}
	b.WriteString(", k5=last}")
	s := b.String()
	var pairs []event.KVPair
	allocs := testing.AllocsPerRun(3, func() {
		var ok bool
		if pairs, ok = event.ParseKVPairs(s, nil); !ok {
			t.Fatal("not parsed")
		}
	})
	r := slices.IndexFunc(pairs, func(p event.KVPair) bool { return p.K == "reasons" })
	if len(pairs) != 10_001 || r < 0 || !strings.HasPrefix(pairs[r].V, "first, reason 0, reason 1,") || !strings.HasSuffix(pairs[r].V, ", reason 9999") {
		t.Fatalf("%d pairs, reasons at %d", len(pairs), r)
	}
	if i := slices.IndexFunc(pairs, func(p event.KVPair) bool { return p.K == "k5" }); i < 0 || pairs[i].V != "last" {
		t.Errorf("repeated key: %v", pairs[i])
	}
	if allocs > 1000 {
		t.Errorf("%.0f allocations for 20,000 pieces, want at most 1,000 (one per piece before)", allocs)
	}
}

// TestTruncatedRecordsValid: records that kept data as text are valid OCSF 1.8.0, both records
// of an overlap event are flagged, and they differ only in their labels.
func TestTruncatedRecordsValid(t *testing.T) {
	v := newValidator(t)
	ev, err := event.Decode(benchutil.Hostile{Keys: 1200, Extra: 1100, Depth: 20, ArrayLen: 1100, Targets: 1001, Behaviors: 1001}.Event("u-valid"))
	if err != nil {
		t.Fatal(err)
	}
	recs := New().Normalize(ev, Meta{TenantUID: "t"})
	if len(recs) != 2 {
		t.Fatalf("%d records, want the two of user.authentication.sso", len(recs))
	}
	var bodies []string
	for _, r := range recs {
		b, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if err := v.validate(b); err != nil {
			t.Errorf("%s record: %v", r.Schema, err)
		}
		if !strings.Contains(string(b), `"labels":["schema:`+string(r.Schema)+`","routing:listed"],"is_truncated":true}`) {
			t.Errorf("%s record: metadata does not end with its labels and is_truncated", r.Schema)
		}
		bodies = append(bodies, strings.Replace(string(b), "schema:"+string(r.Schema), "", 1))
	}
	if bodies[0] != bodies[1] {
		t.Error("the records of one event differ beyond their labels")
	}
}

// TestBoundsInsideTypedArrays: a target or ipChain hop whose free-form map is past the bounds
// is written within them; its neighbours are written as usual.
func TestBoundsInsideTypedArrays(t *testing.T) {
	var big strings.Builder
	big.WriteString("{")
	for i := range MaxMembers + 5 {
		if i > 0 {
			big.WriteString(",")
		}
		big.WriteString(`"d` + strconv.Itoa(i) + `":` + strconv.Itoa(i))
	}
	big.WriteString("}")
	raw := `{"uuid":"u-typed","published":"2025-03-10T14:02:11Z","eventType":"user.session.start",` +
		`"target":[{"id":"t1","type":"User","detailEntry":{"a":1}},{"id":"t2","type":"AppInstance","detailEntry":` + big.String() + `}],` +
		`"client":{"ipAddress":"198.51.100.1"},"request":{"ipChain":[{"ip":"198.51.100.1"},{"ip":"10.0.0.1","ipDetails":` + big.String() + `}]}}`
	ev, err := event.Decode([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	b, err := New().Normalize(ev, Meta{Raw: []byte(raw)})[0].AppendJSON(nil, EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Metadata struct {
			IsTruncated bool `json:"is_truncated"`
		} `json:"metadata"`
		Unmapped struct {
			Target  []map[string]any `json:"target"`
			Request struct {
				IPChain []map[string]any `json:"ipChain"`
			} `json:"request"`
		} `json:"unmapped"`
		RawData string `json:"raw_data"`
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	if !rec.Metadata.IsTruncated || rec.RawData != raw {
		t.Errorf("is_truncated %v, raw_data kept %v", rec.Metadata.IsTruncated, rec.RawData == raw)
	}
	if len(rec.Unmapped.Target) != 2 || rec.Unmapped.Target[0]["id"] != "t1" || rec.Unmapped.Target[1]["id"] != "t2" {
		t.Fatalf("targets %v", rec.Unmapped.Target)
	}
	if all := restOf(t, "target detailEntry", rec.Unmapped.Target[1]["detailEntry"].(map[string]any)); len(all) != MaxMembers+5 {
		t.Errorf("target detailEntry keeps %d members", len(all))
	}
	hops := rec.Unmapped.Request.IPChain
	if len(hops) != 2 || hops[1]["ip"] != "10.0.0.1" {
		t.Fatalf("ipChain %v", hops)
	}
	if all := restOf(t, "ipDetails", hops[1]["ipDetails"].(map[string]any)); len(all) != MaxMembers+5 {
		t.Errorf("ipDetails keeps %d members", len(all))
	}
}

// TestBoundsEntityData: entity.data (a policy change's from / to) is bounded like unmapped.
func TestBoundsEntityData(t *testing.T) {
	var big strings.Builder
	big.WriteString(`{"list":[`)
	for i := range MaxMembers + 3 {
		if i > 0 {
			big.WriteString(",")
		}
		big.WriteString(strconv.Itoa(i))
	}
	big.WriteString(`]}`)
	raw := `{"uuid":"u-entity","published":"2025-03-10T14:02:11Z","eventType":"policy.rule.update",` +
		`"target":[{"id":"r1","type":"PolicyRule","changeDetails":{"from":{"a":1},"to":` + big.String() + `}}]}`
	ev, err := event.Decode([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	b, err := New().Normalize(ev, Meta{})[0].AppendJSON(nil, EncodeOptions{OmitRawData: true})
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Metadata struct {
			IsTruncated bool `json:"is_truncated"`
		} `json:"metadata"`
		Entity struct {
			Data struct {
				From map[string]any `json:"from"`
				To   struct {
					List []any `json:"list"`
				} `json:"to"`
			} `json:"data"`
		} `json:"entity"`
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	if !rec.Metadata.IsTruncated || rec.Entity.Data.From["a"] != float64(1) || len(rec.Entity.Data.To.List) != MaxMembers+1 {
		t.Errorf("is_truncated %v, from %v, to.list %d elements", rec.Metadata.IsTruncated, rec.Entity.Data.From, len(rec.Entity.Data.To.List))
	}
}

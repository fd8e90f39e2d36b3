package normalize

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/event"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

var update = flag.Bool("update", false, "rewrite golden files and docs/normalization.md")

// testMeta is the Meta every golden record is built with.
var testMeta = Meta{
	TenantUID:     "acme-okta",
	LoggedTime:    time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC),
	ProcessedTime: time.Date(2025, 3, 20, 12, 0, 1, 0, time.UTC),
}

// validator checks records against the OCSF 1.8.0 class schemas in testdata/ocsf.
type validator struct {
	schemas map[int]*jsonschema.Schema
}

var classFiles = map[int]string{
	ClassAccountChange: "account_change", ClassAuthentication: "authentication", ClassAuthorizeSession: "authorize_session",
	ClassEntityManagement: "entity_management", ClassUserAccess: "user_access", ClassGroupManagement: "group_management",
	ClassDetectionFinding: "detection_finding", ClassAPIActivity: "api_activity",
}

func newValidator(t testing.TB) *validator {
	t.Helper()
	c := jsonschema.NewCompiler()
	load := func(name string) {
		f, err := os.Open(filepath.Join("testdata", "ocsf", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		id := doc.(map[string]any)["$id"].(string)
		if err := c.AddResource(id, doc); err != nil {
			t.Fatal(err)
		}
	}
	load("objects")
	v := &validator{schemas: map[int]*jsonschema.Schema{}}
	for uid, name := range classFiles {
		load(name)
		s, err := c.Compile("https://schema.ocsf.io/1.8.0/classes/" + name + ".json")
		if err != nil {
			t.Fatalf("compile %s: %v", name, err)
		}
		v.schemas[uid] = s
	}
	return v
}

// validate checks one encoded record against its class schema.
func (v *validator) validate(b []byte) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return err
	}
	cls, _ := doc.(map[string]any)["class_uid"].(json.Number).Int64()
	s, ok := v.schemas[int(cls)]
	if !ok {
		return fmt.Errorf("class_uid %d has no schema", cls)
	}
	return s.Validate(doc)
}

func encodeRecords(t testing.TB, recs []*Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString("[\n")
	for i, r := range recs {
		b, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			buf.WriteString(",\n")
		}
		if err := json.Indent(&buf, b, "  ", "  "); err != nil {
			t.Fatalf("record is not JSON: %v\n%s", err, b)
		}
	}
	buf.WriteString("\n]\n")
	return buf.Bytes()
}

// TestGolden normalizes every fixture in testdata/golden, compares with its .golden file, and
// validates every record against its OCSF class schema and idwatch's invariants.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	n := New()
	v := newValidator(t)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := event.Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			recs := n.Normalize(ev, testMeta)
			compareGolden(t, f, encodeRecords(t, recs))
			for _, r := range recs {
				b, _ := r.MarshalJSON()
				if err := v.validate(b); err != nil {
					t.Errorf("%s record is not valid OCSF 1.8.0: %v", r.Schema, err)
				}
				checkInvariants(t, ev, r, b)
			}
		})
	}
}

// compareGolden compares got with the .golden file next to fixture f (-update rewrites it).
func compareGolden(t *testing.T, f string, got []byte) {
	t.Helper()
	golden := strings.TrimSuffix(f, ".json") + ".golden"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("records differ from %s (go test -update rewrites it):\n%s", golden, got)
	}
}

// checkInvariants asserts what tools rely on (schemas.md §2) for one encoded record.
func checkInvariants(t *testing.T, ev *event.LogEvent, r *Record, b []byte) {
	t.Helper()
	doc, err := event.ParseDoc(b)
	if err != nil {
		t.Fatal(err)
	}
	one := func(path string) any {
		var v any
		doc.Each(event.MustPath(path), func(x any) bool { v = x; return false })
		return v
	}
	checks := map[string]any{
		"metadata.uid":                 ev.UUID,
		"metadata.event_code":          ev.EventType,
		"metadata.product.name":        "Okta System Log",
		"metadata.product.vendor_name": "Okta",
		"metadata.tenant_uid":          testMeta.TenantUID,
		"metadata.version":             "1.8.0",
		"time":                         ev.Published.UnixMilli(),
		"metadata.logged_time":         testMeta.LoggedTime.UnixMilli(),
		"class_uid":                    int64(r.OCSF.ClassUID),
		"category_uid":                 int64(r.OCSF.ClassUID / 1000),
		"type_uid":                     int64(r.OCSF.ClassUID*100 + r.OCSF.ActivityID),
		"activity_id":                  int64(r.OCSF.ActivityID),
		"metadata.correlation_uid":     ev.Transaction.ID,
		"unmapped.debugContext.debugData.requestId": nil,
	}
	for path, want := range checks {
		if got := one(path); !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", path, got, want)
		}
	}
	var labels []any
	doc.Each(event.MustPath("metadata.labels"), func(x any) bool { labels = append(labels, x); return true })
	wantLabels := []any{"schema:" + string(r.Schema), "routing:" + string(r.Routing)}
	if !reflect.DeepEqual(labels, wantLabels) {
		t.Errorf("metadata.labels = %v, want %v", labels, wantLabels)
	}
	result := ""
	if ev.Outcome != nil {
		result = ev.Outcome.Result
	}
	if one("status_code") != nil && one("status_code") != result {
		t.Errorf("status_code = %v, want %q", one("status_code"), result)
	}
	if r.OCSF.ClassUID != ClassDetectionFinding {
		st := OutcomeStatus[result]
		if one("status_id") != int64(st.ID) || one("status") != st.Name {
			t.Errorf("status_id/status = %v/%v for outcome %q, want %d/%s", one("status_id"), one("status"), result, st.ID, st.Name)
		}
	}
	rawData, _ := one("raw_data").(string)
	back, err := event.Decode([]byte(rawData))
	// Without Meta.Raw, raw_data is the model's encoding: what did not fit the model is not in
	// it (it is in unmapped.unreadable_fields, checked by the golden files).
	if err == nil {
		want := *ev
		back.Flaws, want.Flaws = nil, nil
		ev = &want
	}
	if err != nil || !reflect.DeepEqual(back, ev) {
		t.Errorf("raw_data does not carry the event: %v", err)
	}
	// Each on the record reads the OCSF fields.
	if got := one("metadata.uid"); got != nil {
		var viaRecord any
		r.Each(event.MustPath("Metadata.UID"), func(x any) bool { viaRecord = x; return false })
		if viaRecord != got {
			t.Errorf("Record.Each(metadata.uid) = %v, want %v", viaRecord, got)
		}
	}
}

func TestListedTableCoverage(t *testing.T) {
	distinct := map[string][]Schema{}
	for _, row := range ListedTable {
		distinct[row.Type] = append(distinct[row.Type], row.Schema)
	}
	if len(ListedTable) != 53 || len(distinct) != 50 {
		t.Fatalf("listed table has %d rows over %d types, want 53 over 50", len(ListedTable), len(distinct))
	}
	n := New()
	overlaps := 0
	for typ, schemas := range distinct {
		raw, err := os.ReadFile("testdata/golden/listed-" + typ + ".json")
		if err != nil {
			t.Errorf("listed type %s has no golden fixture: %v", typ, err)
			continue
		}
		ev, err := event.Decode(raw)
		if err != nil || ev.EventType != typ {
			t.Fatalf("fixture for %s: %v (eventType %q)", typ, err, ev.EventType)
		}
		recs := n.Normalize(ev, testMeta)
		var got []Schema
		for _, r := range recs {
			got = append(got, r.Schema)
			if r.Routing != Listed {
				t.Errorf("%s: routing %s, want listed", typ, r.Routing)
			}
		}
		if !reflect.DeepEqual(got, schemas) {
			t.Errorf("%s: schemas %v, want %v", typ, got, schemas)
		}
		if len(recs) == 2 {
			overlaps++
		}
	}
	if overlaps != 3 {
		t.Errorf("%d types yield two records, want 3", overlaps)
	}
}

func TestFamilyCoverage(t *testing.T) {
	files, _ := filepath.Glob("testdata/golden/family-*.json")
	covered := map[string]bool{}
	r := NewRouter()
	for _, f := range files {
		typ := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "family-"), ".json")
		route := r.Route(typ)
		if route.Routing != Inferred {
			t.Errorf("family fixture %s is a listed type", typ)
		}
		covered[route.Family] = true
	}
	for _, row := range FamilyTable {
		if !covered[row.Prefix] {
			t.Errorf("family row %q has no family-*.json fixture", row.Prefix)
		}
	}
	if !covered[""] {
		t.Error("the default (generic) family has no fixture")
	}
}

func TestOutcomeCoverage(t *testing.T) {
	results := []string{"SUCCESS", "FAILURE", "SKIPPED", "ALLOW", "DENY", "CHALLENGE", "UNKNOWN", "RATE_LIMIT",
		"DEFERRED", "SCHEDULED", "ABANDONED", "UNANSWERED"}
	for _, res := range results {
		if _, ok := OutcomeStatus[res]; !ok {
			t.Errorf("outcome %s has no status mapping", res)
		}
		if _, err := os.Stat("testdata/golden/outcome-" + res + ".json"); err != nil {
			t.Errorf("outcome %s has no golden fixture", res)
		}
	}
}

func TestRouteListedWinsAndDefault(t *testing.T) {
	r := NewRouter()
	cases := []struct {
		typ     string
		schemas []Schema
		routing Routing
		family  string
	}{
		{"user.session.access_admin_app", []Schema{CloudAudit}, Listed, ""}, // user.session.* would say auth
		{"policy.rule.add", []Schema{Auth}, Listed, ""},                     // policy.* would say cloudaudit
		{"user.session.impersonation.grant", []Schema{Auth}, Inferred, "user.session."},
		{"user.account.lock.limit", []Schema{Auth}, Inferred, "user.account.lock"},
		{"user.lifecycle.delete.completed", []Schema{CloudAudit}, Inferred, "user.lifecycle."},
		{"event_hook.delivery", []Schema{Generic}, Inferred, ""},
		{"", []Schema{Generic}, Inferred, ""},
	}
	for _, c := range cases {
		got := r.Route(c.typ)
		if !reflect.DeepEqual(got.Schemas, c.schemas) || got.Routing != c.routing || got.Family != c.family {
			t.Errorf("Route(%q) = %+v", c.typ, got)
		}
	}
}

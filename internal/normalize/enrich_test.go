package normalize

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/event"
)

// mapEnricher is an inventory fixture: identities by user id, and by lowercased login.
type mapEnricher map[string]Identity

func (m mapEnricher) EnrichUser(key string) (Identity, bool) {
	id, ok := m[key]
	return id, ok
}

func loadEnricher(t testing.TB) mapEnricher {
	t.Helper()
	b, err := os.ReadFile("testdata/enrich/inventory.json")
	if err != nil {
		t.Fatal(err)
	}
	var m mapEnricher
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestEnrichedGolden normalizes the fixtures of testdata/enrich with the inventory fixture,
// compares with the .golden files, and validates every record against OCSF 1.8.0.
func TestEnrichedGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/enrich/*.json")
	if err != nil || len(files) < 2 {
		t.Fatalf("no fixtures: %v", err)
	}
	n, v, inv := New(), newValidator(t), loadEnricher(t)
	meta := testMeta
	meta.Enricher = inv
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		if name == "inventory" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := event.Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			recs := n.Normalize(ev, meta)
			got := encodeRecords(t, recs)
			compareGolden(t, f, got)
			plain := encodeRecords(t, n.Normalize(ev, testMeta))
			if bytes.Equal(got, plain) {
				t.Errorf("the inventory knows a user of %s but enrichment added nothing", name)
			}
			for _, r := range recs {
				b, _ := r.MarshalJSON()
				if err := v.validate(b); err != nil {
					t.Errorf("%s record is not valid OCSF 1.8.0: %v", r.Schema, err)
				}
			}
		})
	}
}

// TestEnrichUnknownUnchanged: an inventory that knows none of a record's users leaves every
// record byte-identical to one normalized without an inventory.
func TestEnrichUnknownUnchanged(t *testing.T) {
	files, _ := filepath.Glob("testdata/golden/*.json")
	n := New()
	meta := testMeta
	meta.Enricher = mapEnricher{"00uSomeoneElse": {UserID: "00uSomeoneElse", IsAdmin: true, ADSid: "S-1-5-21-1-2-3-4"}}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := event.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := encodeRecords(t, n.Normalize(ev, meta)), encodeRecords(t, n.Normalize(ev, testMeta)); !bytes.Equal(got, want) {
			t.Errorf("%s: an inventory without its users changed the records:\n%s", f, got)
		}
	}
}

// TestEnrichFields: the AD link lands where OCSF puts it and admins become type_id 2.
func TestEnrichFields(t *testing.T) {
	raw, err := os.ReadFile("testdata/enrich/listed-user.session.start.json")
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := event.Decode(raw)
	meta := testMeta
	meta.Enricher = loadEnricher(t)
	r := New().Normalize(ev, meta)[0]
	b, _ := r.MarshalJSON()
	doc, err := event.ParseDoc(b)
	if err != nil {
		t.Fatal(err)
	}
	one := func(p string) any {
		var v any
		doc.Each(event.MustPath(p), func(x any) bool { v = x; return false })
		return v
	}
	want := map[string]any{
		"actor.user.uid_alt":             "S-1-5-21-717838489-685202119-709183397-1177",
		"actor.user.ldap_person.ldap_dn": "CN=Jane Doe,OU=Finance,OU=Users,DC=corp,DC=acme,DC=com",
		"actor.user.account.uid":         "0b6e5f4d-3c2b-4a19-8f7e-6d5c4b3a2910",
		"actor.user.account.is_locked":   true,
		"actor.user.has_mfa":             false,
		"actor.user.type_id":             int64(1),
		"actor.user.groups.name":         "Everyone",
	}
	for p, w := range want {
		if got := one(p); got != w {
			t.Errorf("%s = %#v, want %#v", p, got, w)
		}
	}
	if id := r.ActorIdentity(); id == nil || id.ADSid == "" {
		t.Errorf("ActorIdentity = %+v", id)
	}
}

package incident

import (
	"strings"
	"testing"
)

// FuzzEntitiesFromGroup feeds arbitrary group keys: no panic, and every entity has a known kind
// and a value.
func FuzzEntitiesFromGroup(f *testing.F) {
	for _, s := range []string{"", "actor.alternateId=a@b", "client.ipAddress=1.2.3.4, target.id=00u1", "=x", "a=, b=", ", , =", "x.y=1=2, z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		for _, e := range EntitiesFromGroup(key) {
			kind, value, ok := strings.Cut(string(e), ":")
			if _, known := kindRank[kind]; !ok || !known || value == "" {
				t.Fatalf("group %q gave entity %q", key, e)
			}
		}
		if _, err := Group([]Alert{{ID: "a", RuleID: "r", GroupKey: key}}, Config{}); err != nil {
			t.Fatal(err)
		}
	})
}

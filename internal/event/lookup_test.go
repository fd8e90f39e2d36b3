package event

import (
	"strconv"
	"testing"
)

// TestLookupBoundedInLargeObjects: a lookup scans for other spellings only in objects of up to
// MaxFoldScan members, so that rules cost the same per lookup on an event with a million keys
// (each absent field used to scan all of them).
func TestLookupBoundedInLargeObjects(t *testing.T) {
	for _, n := range []int{10, MaxFoldScan, MaxFoldScan + 1} {
		dd := map[string]any{"riskScore": "HIGH"}
		extra := `,"CustomField":"x","plain":"p"`
		for i := range n - 1 {
			dd["k"+strconv.Itoa(i)] = "v"
			extra += `,"Extra` + strconv.Itoa(i) + `":1`
		}
		ev, err := Decode([]byte(`{"uuid":"u1","eventType":"t","published":"2025-03-10T14:02:11Z"` + extra + `}`))
		if err != nil {
			t.Fatal(err)
		}
		ev.DebugContext = &DebugContext{DebugData: dd}
		small := n <= MaxFoldScan
		count := func(f Fields, path string) int {
			c := 0
			f.Each(MustPath(path), func(any) bool { c++; return true })
			return c
		}
		doc := Doc{"debugContext": map[string]any{"debugData": dd}}
		for _, c := range []struct {
			f    Fields
			path string
			want bool
		}{
			{ev, "debugContext.debugData.riskScore", true}, // as written
			{doc, "debugContext.debugData.riskScore", true},
			{ev, "debugContext.debugData.RISKSCORE", small}, // another spelling
			{doc, "debugContext.debugData.RISKSCORE", small},
			{doc, "debugContext.debugData.riskscore.x", false},
			{ev, "plain", true}, // lower case
			{ev, "customfield", len(ev.Extra) <= MaxFoldScan}, // another spelling
		} {
			if got := count(c.f, c.path) == 1; got != c.want {
				t.Errorf("%d members: %T %s found = %v, want %v", n, c.f, c.path, got, c.want)
			}
		}
	}
}

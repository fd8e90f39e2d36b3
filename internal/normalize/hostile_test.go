package normalize

import (
	"encoding/json"
	"testing"

	"github.com/idwatch/idwatch/internal/benchutil"
	"github.com/idwatch/idwatch/internal/event"
)

// addHostileSeeds adds the shapes every hostile-event fuzz target starts from: small, at the
// bounds, past each bound, and about 1 MB of everything. (Events of up to 20 MB are
// reached by fuzzing, and timed by the benchmarks.)
func addHostileSeeds(f *testing.F) {
	f.Add(uint16(1), uint16(1), uint16(2), uint32(64), uint32(3), uint16(2), uint16(1))
	f.Add(uint16(62), uint16(62), uint16(14), uint32(4096), uint32(MaxMembers), uint16(MaxMembers), uint16(MaxMembers/4))
	f.Add(uint16(70), uint16(70), uint16(15), uint32(1<<16), uint32(MaxMembers+1), uint16(MaxMembers+1), uint16(MaxMembers/4+1))
	mix := benchutil.SizedMix(benchutil.MB)
	f.Add(uint16(mix.Keys/16), uint16(mix.Extra/16), uint16(mix.Depth), uint32(mix.StrLen), uint32(mix.ArrayLen), uint16(mix.Targets), uint16(mix.Behaviors/4))
}

// FuzzHostileEvent normalizes events with many keys, deep nesting, long strings and big arrays:
// every record is JSON, flagged exactly when a bound was met, and keeps every debugData member
// (as structure or in the rest).
func FuzzHostileEvent(f *testing.F) {
	addHostileSeeds(f)
	n := New()
	f.Fuzz(func(t *testing.T, keys, extra, depth uint16, strLen, arrayLen uint32, targets, behaviors uint16) {
		h := benchutil.FromFuzz(keys, extra, depth, strLen, arrayLen, targets, behaviors)
		raw := h.Event("u-fuzz")
		ev, err := event.DecodeOwned(raw)
		if err != nil {
			t.Fatalf("%+v: %v", h, err)
		}
		members := h.Keys + 1 // signOnMode
		for _, present := range []bool{h.StrLen > 0, h.ArrayLen > 0, h.Depth > 0, h.Behaviors > 0} {
			if present {
				members++
			}
		}
		// debugData.nested is level 4 and each of its Depth levels adds an object and an array.
		want := members > MaxMembers || h.Extra > MaxMembers || h.ArrayLen > MaxMembers || h.Targets > MaxMembers ||
			h.Behaviors > MaxMembers || 4+2*h.Depth-1 > MaxDepth
		for _, r := range n.Normalize(ev, Meta{TenantUID: "t", Raw: raw}) {
			b, err := r.AppendJSON(nil, EncodeOptions{OmitRawData: true})
			if err != nil {
				t.Fatal(err)
			}
			var rec struct {
				Metadata struct {
					IsTruncated bool `json:"is_truncated"`
				} `json:"metadata"`
				Unmapped struct {
					DebugContext struct {
						DebugData map[string]any `json:"debugData"`
					} `json:"debugContext"`
				} `json:"unmapped"`
			}
			if err := json.Unmarshal(b, &rec); err != nil {
				t.Fatalf("%+v: record is not JSON: %v", h, err)
			}
			if rec.Metadata.IsTruncated != want {
				t.Errorf("%+v: is_truncated %v, want %v", h, rec.Metadata.IsTruncated, want)
			}
			dd := rec.Unmapped.DebugContext.DebugData
			got := len(dd)
			if text, ok := dd[RestKey].(string); ok {
				var rest map[string]any
				if err := json.Unmarshal([]byte(text), &rest); err != nil {
					t.Fatalf("%+v: debugData rest: %v", h, err)
				}
				got += len(rest) - 1
			}
			if got != members {
				t.Errorf("%+v: debugData keeps %d members, want %d", h, got, members)
			}
		}
	})
}

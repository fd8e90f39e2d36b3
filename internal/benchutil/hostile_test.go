package benchutil

import (
	"encoding/json"
	"testing"
)

func TestHostileEventsAreJSON(t *testing.T) {
	shapes := []Hostile{SizedKeys(MB), SizedMix(MB), {Keys: 10, Extra: 3, Depth: 5, StrLen: 100, ArrayLen: 3, Targets: 2, Behaviors: 4}, {}}
	for _, h := range shapes {
		b := h.Event("u1")
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%+v: %v", h, err)
		}
		dd := m["debugContext"].(map[string]any)["debugData"].(map[string]any)
		if got := len(dd) - 3; h.Depth == 0 && h.StrLen == 0 && h.ArrayLen == 0 && h.Behaviors == 0 && got != h.Keys {
			t.Errorf("%+v: %d debugData keys, want %d (distinct names)", h, got, h.Keys)
		}
		if got := len(m) - 11; got != h.Extra {
			t.Errorf("%+v: %d extra fields, want %d", h, got, h.Extra)
		}
	}
	if n := len(SizedMix(4 * MB).Event("u")); n < 3*MB || n > 5*MB {
		t.Errorf("SizedMix(4 MB) is %d bytes", n)
	}
	if h := FromFuzz(65535, 65535, 65535, 1<<32-1, 1<<32-1, 65535, 65535); h.size() > MaxSize || h.Depth != MaxDepth || h.Keys == 0 {
		t.Errorf("FromFuzz(max) = %+v, %d bytes", h, h.size())
	}
}

package collect

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeEvents feeds arbitrary page items to the journal key extraction: it never panics, and
// every item becomes exactly one event with a uuid, so nothing a page holds is dropped.
func FuzzDecodeEvents(f *testing.F) {
	f.Add([]byte(`{"uuid":"a3f0c2f8-2b1e-11ef-9d5e-6b1d2f7a9c01","published":"2026-03-02T09:00:00.123Z","eventType":"user.session.start"}`))
	f.Add([]byte(`{"uuid":7,"published":"yesterday"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, item []byte) {
		if !json.Valid(item) {
			return // the client only hands over complete JSON values
		}
		evs, _, bad := decodeEvents([]json.RawMessage{item})
		if len(evs) != 1 || evs[0].UUID == "" || bad > 1 {
			t.Fatalf("decoded %+v (bad %d)", evs, bad)
		}
		again, _, _ := decodeEvents([]json.RawMessage{item})
		if again[0].UUID != evs[0].UUID {
			t.Fatal("the same item got two ids")
		}
	})
}

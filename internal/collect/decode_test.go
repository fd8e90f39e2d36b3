package collect

import (
	"encoding/json"
	"testing"
	"time"
)

// TestDecodeEventsTimeForms: the journal indexes an event's published time with the decoder's
// parser, whatever form an export or a proxy wrote it in, and whatever the keys' case.
func TestDecodeEventsTimeForms(t *testing.T) {
	want := time.Date(2022, 11, 22, 18, 48, 49, 177e6, time.UTC)
	items := []json.RawMessage{
		json.RawMessage(`{"uuid":"a","eventType":"x","published":"2022-11-22T18:48:49.177Z"}`),
		json.RawMessage(`{"uuid":"b","eventType":"x","published":"2022-11-22 18:48:49.177"}`),
		json.RawMessage(`{"uuid":"c","eventType":"x","published":1669142929177}`),
		json.RawMessage(`{"uuid":"d","eventType":"x","published":"1669142929177"}`),
		json.RawMessage(`{"UUID":"e","EventType":"x","Published":"2022-11-22T19:48:49.177+01:00"}`),
	}
	evs, newest, bad := decodeEvents(items)
	if bad != 0 || !newest.Equal(want) {
		t.Fatalf("bad %d, newest %v", bad, newest)
	}
	for _, e := range evs {
		if !e.Published.Equal(want) || e.UUID == "" || e.EventType != "x" {
			t.Errorf("%s: published %v, event type %q", e.UUID, e.Published, e.EventType)
		}
	}
	if _, _, bad := decodeEvents([]json.RawMessage{json.RawMessage(`{"uuid":"f","published":"yesterday"}`)}); bad != 1 {
		t.Errorf("unreadable published counted %d times, want 1", bad)
	}
}

package event

import (
	"reflect"
	"testing"
)

// TestDecoderReuse checks that a Decoder, which reuses its memory from one event to the next,
// decodes each event exactly as DecodeOwned does, whatever event it decoded before: nothing of
// the previous event shows through.
func TestDecoderReuse(t *testing.T) {
	full := readFixture(t, "full.json")
	events := [][]byte{
		full,
		[]byte(`{"uuid":"u2","published":"2026-03-09T10:00:00.000Z","eventType":"user.session.start"}`),
		full,
		[]byte(`{"uuid":"u3","published":"not a time","eventType":7,"actor":{"id":"00u1"}}`),
		[]byte(`[1,2]`),
		[]byte(`{"uuid":"u4","published":"2026-03-09T10:00:01.000Z","eventType":"user.mfa.factor.deactivate","target":[{"id":"t1","type":"User"}]}`),
	}
	var d Decoder
	for i, raw := range events {
		want, wantErr := DecodeOwned(raw)
		got, err := d.DecodeOwned(raw)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("event %d: error %v, DecodeOwned's %v", i, err, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("event %d decodes to\n%+v\nwith a reused decoder, to\n%+v\nwith DecodeOwned", i, got, want)
		}
	}
}

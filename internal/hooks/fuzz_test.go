package hooks

import (
	"encoding/json"
	"testing"
)

// FuzzDecodePushed: any delivery body either fails to parse as an envelope or yields one journal
// event per element, each with a uuid and its JSON, pushed; nothing panics.
func FuzzDecodePushed(f *testing.F) {
	f.Add([]byte(`{"eventType":"com.okta.event_hook","source":"https://acme.okta.com/api/v1/eventHooks/who1","eventId":"e1","data":{"events":[{"uuid":"u1","published":"2026-01-01T00:00:00.000Z","eventType":"user.session.start","device":null}]}}`))
	f.Add([]byte(`{"data":{"events":[7,"x",null,{},{"uuid":null,"published":5}]}}`))
	f.Add([]byte(`{"data":{"events":[{"uuid":"u","a":null,"b":{"c":null}}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var env envelope
		if json.Unmarshal(body, &env) != nil {
			return
		}
		evs, bad := decodePushed(env.Data.Events)
		if len(evs) != len(env.Data.Events) || bad > len(evs) {
			t.Fatalf("%d events from %d, %d bad", len(evs), len(env.Data.Events), bad)
		}
		for _, e := range evs {
			if e.UUID == "" || len(e.Raw) == 0 || e.Source != "push" {
				t.Fatalf("event %+v", e)
			}
			if json.Valid(e.Raw) != json.Valid(env.Data.Events[0]) && len(evs) == 1 {
				t.Fatalf("validity changed: %s", e.Raw)
			}
		}
	})
}

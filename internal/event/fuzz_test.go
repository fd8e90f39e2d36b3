package event

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzDecode checks that Decode never panics, that it accepts only valid JSON, that each flaw
// names its place and keeps a valid value, and that
// Decode → Marshal → Decode → Marshal is stable, that DecodeOwned agrees with Decode, and that
// Each agrees with Doc on the encoding.
func FuzzDecode(f *testing.F) {
	f.Add(readFixture(f, "full.json"))
	f.Add([]byte(`{"uuid":"u","eventType":"t","published":"2025-03-10T14:02:11Z","target":[null,{"id":1}],"x":{"A":[1,2e3,-0.5]}}`))
	f.Add([]byte(`{"uuid":"u","eventType":"t","published":"2025-03-10T14:02:11","Actor":{"id":"x"},"client":{"zone":"null"}}`))
	f.Add([]byte(`{"UUID":"u","EventType":"t","published":"2022-11-22 18:48:49.177","debugContext":{"debugData":""},"target":[{"id":"a"},{"detailEntry":[1]}]}`))
	f.Add([]byte(`{"uuid":"u","eventtype":"t","published":1669142929177,"debugContext":{"debugData":{"logOnlySecurityData":{"risk":{"level":"HIGH"}},"behaviors":{"New IP":"POSITIVE"}}}}`))
	f.Add([]byte(`{"uuid":"u","eventType":"t","published":{"x":1e999},"request":{"ipChain":[{"ip":"null"},{"ip":[]}]},"securityContext":{"asNumber":"n/a","isProxy":{}}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := Decode(raw)
		owned, errOwned := DecodeOwned(bytes.Clone(raw))
		if (err == nil) != (errOwned == nil) {
			t.Fatalf("Decode error %v, DecodeOwned error %v", err, errOwned)
		}
		if err != nil {
			return
		}
		if !json.Valid(raw) {
			t.Fatalf("accepted invalid JSON %q", raw)
		}
		if len(ev.Flaws) != len(owned.Flaws) {
			t.Fatalf("Decode flaws %v, DecodeOwned flaws %v", ev.Flaws, owned.Flaws)
		}
		for _, fl := range ev.Flaws {
			if fl.Path == "" || fl.Problem == "" || (fl.Value != nil && !json.Valid(fl.Value)) {
				t.Fatalf("flaw without a place, a problem or a valid value: %+v", fl)
			}
		}
		out1, err := ev.MarshalJSON()
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		ev2, err := Decode(out1)
		if err != nil {
			t.Fatalf("decode of own output %s: %v", out1, err)
		}
		out2, err := ev2.MarshalJSON()
		if err != nil {
			t.Fatalf("marshal 2: %v", err)
		}
		if !bytes.Equal(out1, out2) {
			t.Fatalf("unstable encoding:\n%s\n%s", out1, out2)
		}
		if outOwned, err := owned.MarshalJSON(); err != nil || !bytes.Equal(outOwned, out1) {
			t.Fatalf("DecodeOwned differs from Decode (%v):\n%s\n%s", err, outOwned, out1)
		}
		checkEachAgainstEncoding(t, ev2)
	})
}

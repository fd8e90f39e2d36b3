package detect

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/event"
)

// TestStateKeepsNoRawEvent checks that what the engine remembers (deduplication uuids, correlation
// entries, group keys, value_count values) does not keep the raw events alive: events decoded
// with DecodeOwned share the memory of their raw bytes, so a remembered substring would hold the
// whole event, and memory would grow with history instead of with the caps.
func TestStateKeepsNoRawEvent(t *testing.T) {
	rs := compile(t, pushRule, `title: Many users denied from one address
id: many-denied
correlation:
    type: value_count
    rules: [deny]
    group-by: [client.ipAddress]
    timespan: 1h
    condition: {gte: 1000, field: actor.alternateId}
`)
	e := engine(t, rs, Config{})
	const events, pad = 200, 128 << 10 // 25 MB of raw events
	padding := strings.Repeat("x", pad)
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range events {
		raw := fmt.Appendf(nil, `{"uuid":"u%d","published":%q,"eventType":"user.mfa.okta_verify.deny_push","actor":{"alternateId":"user%d@example.com"},"client":{"ipAddress":"198.51.100.%d"},"displayMessage":%q}`,
			i, t0.Add(time.Duration(i)*time.Second).Format(time.RFC3339Nano), i, i%4, padding)
		ev, err := event.DecodeOwned(raw)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Process(Input{Fields: ev}); err != nil {
			t.Fatal(err)
		}
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if st := e.Stats(); st.Entries < events {
		t.Fatalf("the engine remembers %d entries, want at least %d (the test must keep state)", st.Entries, events)
	}
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > events*pad/4 {
		t.Fatalf("the heap grew by %d MB after %d events of %d KB: the engine's state keeps raw events", grown>>20, events, pad>>10)
	}
	runtime.KeepAlive(e)
}

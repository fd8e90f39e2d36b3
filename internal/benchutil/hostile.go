package benchutil

import (
	"strconv"
	"strings"
)

// Hostile describes an Okta System Log event built to stress per-event work: many keys, deep
// nesting, long strings, big arrays. Zero fields add nothing of their kind.
type Hostile struct {
	Keys      int // debugData members (short string values)
	Extra     int // unknown top-level fields
	Depth     int // levels of {"a":[1,…]} in debugData.nested, two JSON levels each (MaxDepth at most)
	StrLen    int // length of debugData.long and of the displayMessage
	ArrayLen  int // elements of debugData.list and of the actor's detailEntry.list
	Targets   int // targets, each with a small detailEntry
	Behaviors int // members of debugData.behaviors, a Java map rendering
}

// Event returns the event as one line of JSON, built in time linear in its size. Keys are
// written in no particular order, as they would be by a sender that hashes them.
func (h Hostile) Event(uuid string) []byte {
	var b strings.Builder
	b.Grow(h.size())
	b.WriteString(`{"uuid":"` + uuid + `","published":"2025-03-10T14:02:11.512Z","eventType":"user.authentication.sso","version":"0","severity":"INFO","displayMessage":"`)
	writeRun(&b, h.StrLen)
	b.WriteString(`","actor":{"id":"00u1","type":"User","alternateId":"jdoe@acme.com","displayName":"Jane Doe","detailEntry":{"list":[`)
	for i := range h.ArrayLen {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(i))
	}
	b.WriteString(`]}},"client":{"ipAddress":"198.51.100.23","zone":"null"},"outcome":{"result":"SUCCESS"},"target":[`)
	for i := range h.Targets {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"id":"0oa` + strconv.Itoa(i) + `","type":"AppInstance","displayName":"App ` + strconv.Itoa(i) + `","detailEntry":{"signOnModeType":"SAML_2_0"}}`)
	}
	b.WriteString(`],"debugContext":{"debugData":{"requestId":"r1","requestUri":"/app/x/sso/saml","signOnMode":"SAML 2.0"`)
	for i := range h.Keys {
		b.WriteString(`,"` + scrambled("key", i, h.Keys) + `":"v` + strconv.Itoa(i) + `"`)
	}
	if h.StrLen > 0 {
		b.WriteString(`,"long":"`)
		writeRun(&b, h.StrLen)
		b.WriteByte('"')
	}
	if h.ArrayLen > 0 {
		b.WriteString(`,"list":[`)
		for i := range h.ArrayLen {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"e` + strconv.Itoa(i) + `"`)
		}
		b.WriteByte(']')
	}
	if h.Depth > 0 {
		b.WriteString(`,"nested":`)
		for range h.Depth {
			b.WriteString(`{"a":[1,`)
		}
		b.WriteString(`"deepest"`)
		for range h.Depth {
			b.WriteString(`]}`)
		}
	}
	if h.Behaviors > 0 {
		b.WriteString(`,"behaviors":"{`)
		for i := range h.Behaviors {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(scrambled("New Thing ", i, h.Behaviors) + "=POSITIVE")
		}
		b.WriteString(`}"`)
	}
	b.WriteString(`}}`)
	for i := range h.Extra {
		b.WriteString(`,"` + scrambled("extra", i, h.Extra) + `":` + strconv.Itoa(i))
	}
	b.WriteByte('}')
	return []byte(b.String())
}

// size estimates the event's length, to build it in one allocation.
func (h Hostile) size() int {
	return 1024 + 2*h.StrLen + 16*h.ArrayLen + 96*h.Targets + 32*h.Keys + 24*h.Extra + 12*h.Depth + 28*h.Behaviors
}

// scrambled names the i-th of n items so that names sort in another order than they are
// written (a fixed permutation of 0..n-1).
func scrambled(prefix string, i, n int) string {
	const step = 7919 // a prime: i*step mod n permutes 0..n-1 unless n is a multiple of it
	j := i
	if n%step != 0 {
		j = int(uint64(i) * step % uint64(n))
	}
	return prefix + strconv.Itoa(j)
}

// writeRun writes n bytes of text with a quote, a backslash and a non-ASCII character now and
// then, so that escaping takes its slow paths too.
func writeRun(b *strings.Builder, n int) {
	const chunk = `lorem ipsum dolor sit amet, \"quoted\" \\ caf\u00e9 `
	for n >= len(chunk) {
		b.WriteString(chunk)
		n -= len(chunk)
	}
	b.WriteString(strings.Repeat("x", n))
}

// MB is a megabyte, for sizing hostile events.
const MB = 1 << 20

// SizedKeys returns a Hostile event shape of about size bytes made mostly of debugData keys.
func SizedKeys(size int) Hostile { return Hostile{Keys: size / 20} }

// SizedMix returns a Hostile event shape of about size bytes mixing every kind of excess.
func SizedMix(size int) Hostile {
	return Hostile{Keys: size / 8 / 26, Extra: size / 8 / 24, Depth: MaxDepth, StrLen: size / 8, ArrayLen: size / 8 / 8,
		Targets: size / 8 / 96, Behaviors: size / 8 / 28}
}

// MaxDepth is the deepest Hostile.Depth: with the three levels above debugData.nested, the
// event stays within the 512 levels the event decoder accepts.
const MaxDepth = 250

// MaxSize is the largest event FromFuzz builds.
const MaxSize = 20 * MB

// FromFuzz makes a shape from fuzzed numbers, scaled down to events of at most MaxSize bytes
// and MaxDepth nesting.
func FromFuzz(keys, extra, depth uint16, strLen, arrayLen uint32, targets, behaviors uint16) Hostile {
	h := Hostile{Keys: int(keys) * 16, Extra: int(extra) * 16, Depth: min(int(depth), MaxDepth), StrLen: int(strLen % (MaxSize / 2)),
		ArrayLen: int(arrayLen % (MaxSize / 16)), Targets: int(targets), Behaviors: int(behaviors) * 4}
	for h.size() > MaxSize {
		h.Keys, h.Extra, h.StrLen, h.ArrayLen, h.Targets, h.Behaviors = h.Keys/2, h.Extra/2, h.StrLen/2, h.ArrayLen/2, h.Targets/2, h.Behaviors/2
	}
	return h
}

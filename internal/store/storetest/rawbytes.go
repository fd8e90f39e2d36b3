package storetest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// OddEvents returns events whose raw bytes a store must give back exactly however it keeps them
// (compressed, against a dictionary or not): formatting a parser would normalize, escapes, bytes
// that are not UTF-8, a tiny event, one of a megabyte that repeats, and one that does not.
func OddEvents(prefix string, published time.Time) []store.Event {
	raws := []string{
		`{}`,
		`{"a":1}`,
		"  {\n\t\"uuid\" : \"x\",\r\n \"eventType\":\"user.session.start\" }  \n",
		`{"k":"\u00e9\u20ac\ud83d\ude00 é € 😀","k":"duplicate key","n":1.0e+00,"m":-0,"z":[]}`,
		"{\"bin\":\"\xff\xfe\x00\x01 not utf-8\"}",
		`{"deep":` + strings.Repeat(`[`, 200) + strings.Repeat(`]`, 200) + `}`,
		`{"big":"` + strings.Repeat("abcdefgh", 1<<17) + `"}`,
		`{"noise":"` + noise(200_000) + `"}`,
		"\x00\x01\x02 not JSON at all \xff",
		`{"displayMessage":"` + strings.Repeat("x", 63) + `"}`,
	}
	out := make([]store.Event, len(raws))
	for i, r := range raws {
		out[i] = store.Event{UUID: fmt.Sprintf("%s-odd-%d", prefix, i), Published: published.Add(time.Duration(i) * time.Millisecond),
			EventType: "odd", Raw: []byte(r)}
	}
	return out
}

// noise returns n bytes of deterministic, incompressible text.
func noise(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	x := uint64(0x9E3779B97F4A7C15)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = alphabet[x%uint64(len(alphabet))]
	}
	return string(b)
}

// realisticEvents returns n Okta-shaped events of an integration, enough for a store to build a
// dictionary from.
func realisticEvents(prefix string, n int, published time.Time) []store.Event {
	out := make([]store.Event, n)
	for i := range out {
		uuid := fmt.Sprintf("%s-%05d", prefix, i)
		pub := published.Add(time.Duration(i) * time.Second)
		raw := fmt.Sprintf(`{"actor":{"id":"00u%06d","type":"User","alternateId":"user%d@acme.example","displayName":"User %d"},`+
			`"client":{"ipAddress":"198.51.100.%d","userAgent":{"rawUserAgent":"Mozilla/5.0 (X11; Linux x86_64)"}},`+
			`"eventType":"user.session.start","outcome":{"result":"SUCCESS"},"published":"%s","uuid":"%s","version":"0"}`,
			i%97, i%97, i%97, i%250, pub.Format(time.RFC3339Nano), uuid)
		out[i] = store.Event{UUID: uuid, Published: pub, EventType: "user.session.start", Raw: []byte(raw)}
	}
	return out
}

// rawBytes checks that every read path returns each event's bytes exactly as appended, before and
// after reopening, for events stored before and after the integration has enough of them for a
// store to build a dictionary, and for several integrations side by side.
func (su suite) rawBytes(t *testing.T) {
	f := su.open(t)
	want := map[string][]byte{}
	add := func(id int64, evs []store.Event) {
		for _, e := range evs {
			want[fmt.Sprint(id, "/", e.UUID)] = e.Raw
		}
		f.appendPage(id, evs, nil)
	}
	add(1, OddEvents("early", epoch))
	add(1, realisticEvents("i1", 500, epoch.Add(time.Minute)))
	add(2, realisticEvents("i2", 3, epoch.Add(time.Minute)))
	add(1, OddEvents("late", epoch.Add(time.Hour)))
	add(2, OddEvents("i2", epoch.Add(2*time.Hour)))
	add(2, realisticEvents("i2b", 300, epoch.Add(3*time.Hour)))

	check := func(when string) {
		t.Helper()
		n := 0
		for after := int64(0); ; {
			es, err := f.s.ReadJournal(f.ctx, after, 97, store.ReadFilter{})
			f.must(err)
			if len(es) == 0 {
				break
			}
			for _, e := range es {
				if w := want[fmt.Sprint(e.IntegrationID, "/", e.UUID)]; !bytes.Equal(e.Raw, w) {
					t.Fatalf("%s: ReadJournal seq %d (%s): got %d bytes %.60q, want %d bytes %.60q", when, e.Seq, e.UUID, len(e.Raw), e.Raw, len(w), w)
				}
				n++
			}
			after = es[len(es)-1].Seq
		}
		if n != len(want) {
			t.Fatalf("%s: ReadJournal returned %d entries, want %d", when, n, len(want))
		}
		n = 0
		for after := (store.TimeKey{}); ; {
			es, err := f.s.ReadJournalByTime(f.ctx, after, 101, store.TimeFilter{})
			f.must(err)
			if len(es) == 0 {
				break
			}
			for _, e := range es {
				if w := want[fmt.Sprint(e.IntegrationID, "/", e.UUID)]; !bytes.Equal(e.Raw, w) {
					t.Fatalf("%s: ReadJournalByTime %s: bytes differ", when, e.UUID)
				}
				n++
			}
			after = es[len(es)-1].Key()
		}
		if n != len(want) {
			t.Fatalf("%s: ReadJournalByTime returned %d entries, want %d", when, n, len(want))
		}
		for _, id := range []int64{1, 2} {
			var uuids []string
			for k := range want {
				if u, ok := strings.CutPrefix(k, fmt.Sprint(id, "/")); ok {
					uuids = append(uuids, u)
				}
			}
			es, err := f.s.JournalByUUID(f.ctx, id, uuids)
			f.must(err)
			if len(es) != len(uuids) {
				t.Fatalf("%s: JournalByUUID(%d) returned %d of %d", when, id, len(es), len(uuids))
			}
			for _, e := range es {
				if !bytes.Equal(e.Raw, want[fmt.Sprint(id, "/", e.UUID)]) {
					t.Fatalf("%s: JournalByUUID %s: bytes differ", when, e.UUID)
				}
			}
		}
	}
	check("as appended")
	su.reopenStore(f)
	check("after reopening")
	// Appending after a reopen uses what was stored before it.
	add(1, realisticEvents("i1-after", 50, epoch.Add(4*time.Hour)))
	add(3, append(realisticEvents("i3", 80, epoch.Add(5*time.Hour)), OddEvents("i3", epoch.Add(6*time.Hour))...))
	check("appended after reopening")
}

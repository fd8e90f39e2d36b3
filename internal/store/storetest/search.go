package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/oktasim/scenario"
	"github.com/idwatch/idwatch/internal/store"
)

// searchStart is when the search suite's simulated org starts its day.
var searchStart = time.Date(2026, 3, 12, 6, 0, 0, 0, time.UTC)

// orgEvents generates a realistic journal: a 60-person org's working day with a push-fatigue
// attack and a password spray on top, as oktasim's scenario engine writes them.
func orgEvents(t *testing.T, hours int) []store.Event {
	t.Helper()
	g, err := scenario.New(scenario.Config{Seed: 14, Users: 60, OrgDomain: "acme.example", Start: searchStart})
	if err != nil {
		t.Fatal(err)
	}
	var evs []*event.LogEvent
	g.Advance(searchStart.Add(time.Duration(hours)*time.Hour), func(ev *event.LogEvent) { evs = append(evs, ev) })
	for _, name := range []string{"mfa_push_fatigue", "password_spray"} {
		st, err := g.Storyline(name, searchStart.Add(3*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, st.Events...)
	}
	out := make([]store.Event, 0, len(evs))
	for _, ev := range evs {
		raw, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, store.Event{UUID: ev.UUID, Published: ev.Published, EventType: ev.EventType, Raw: raw})
	}
	return out
}

// indexed is a journal entry with the fields the search filters on, decoded independently of
// the store's index.
type indexed struct {
	e                    store.Entry
	key                  [2]int64
	actor, targets       []string
	ip, outcome, rawLowr string
}

func decodeIndexed(t *testing.T, e store.Entry) indexed {
	ev, err := event.Decode(e.Raw)
	if err != nil {
		t.Fatalf("journal entry %d: %v", e.Seq, err)
	}
	x := indexed{e: e, key: [2]int64{e.Published.UnixMilli(), e.Seq}, rawLowr: strings.ToLower(string(e.Raw))}
	if ev.Actor != nil {
		x.actor = []string{strings.ToLower(ev.Actor.ID), strings.ToLower(ev.Actor.AlternateID)}
	}
	for _, tg := range ev.Target {
		x.targets = append(x.targets, strings.ToLower(tg.ID), strings.ToLower(tg.AlternateID))
	}
	if ev.Client != nil {
		x.ip = ev.Client.IPAddress
	}
	if ev.Outcome != nil {
		x.outcome = ev.Outcome.Result
	}
	return x
}

// searchAll pages through q with a small page size and returns the seqs in order, failing on a
// seq returned twice.
func (f *fixture) searchAll(q store.EventQuery, between func(page int)) []int64 {
	f.t.Helper()
	var out []int64
	seen := map[int64]bool{}
	for page := 0; ; page++ {
		p, err := f.s.SearchEvents(f.ctx, q)
		f.must(err)
		for _, e := range p.Events {
			if seen[e.Seq] {
				f.t.Fatalf("query %+v: seq %d returned twice (page %d)", q, e.Seq, page)
			}
			seen[e.Seq] = true
			out = append(out, e.Seq)
		}
		if p.Next == "" {
			return out
		}
		if page > 10_000 {
			f.t.Fatal("paging does not end")
		}
		if between != nil {
			between(page)
		}
		q.Cursor = p.Next
	}
}

func (su suite) eventSearch(t *testing.T) {
	f := su.open(t)
	evs := orgEvents(t, 14)
	// Two integrations: every fifth event goes to the second.
	var one, two []store.Event
	for i, e := range evs {
		if i%5 == 0 {
			two = append(two, e)
		} else {
			one = append(one, e)
		}
	}
	for _, part := range []struct {
		id  int64
		evs []store.Event
	}{{1, one}, {2, two}} {
		for i := 0; i < len(part.evs); i += 250 {
			f.appendPage(part.id, part.evs[i:min(i+250, len(part.evs))], nil)
		}
	}
	var all []indexed
	for _, e := range f.readAll(0, store.ReadFilter{}) {
		all = append(all, decodeIndexed(t, e))
	}
	if len(all) < 1000 {
		t.Fatalf("the simulated org wrote only %d events", len(all))
	}
	// Pick filter values from the journal itself: a busy actor, a target, an address, a rare
	// type, and text from one event.
	count := map[string]int{}
	for _, x := range all {
		if len(x.actor) > 0 {
			count["actor:"+x.actor[1]]++
		}
		if len(x.targets) > 0 {
			count["target:"+x.targets[0]]++
		}
		if x.ip != "" {
			count["ip:"+x.ip]++
		}
	}
	busiest := func(kind string) string {
		best, n := "", 0
		for k, c := range count {
			if v, ok := strings.CutPrefix(k, kind+":"); ok && v != "" && (c > n || c == n && v < best) {
				best, n = v, c
			}
		}
		return best
	}
	actor, target, ip := busiest("actor"), busiest("target"), busiest("ip")
	// A word that some, not all, of the target's events in integration 1 contain.
	word := ""
	for _, w := range []string{"success", "failure", "session", "verify", "push", "windows", "mac", "chrome", "okta"} {
		n, of := 0, 0
		for _, x := range all {
			if slices.Contains(x.targets, target) && x.e.IntegrationID == 1 {
				of++
				if strings.Contains(x.rawLowr, w) {
					n++
				}
			}
		}
		if n > 0 && n < of {
			word = w
			break
		}
	}
	mid := searchStart.Add(5 * time.Hour)
	type filterCase struct {
		name  string
		q     store.EventQuery
		match func(x indexed) bool
	}
	cases := []filterCase{
		{"all", store.EventQuery{}, func(indexed) bool { return true }},
		{"since", store.EventQuery{Since: mid}, func(x indexed) bool { return !x.e.Published.Before(mid) }},
		{"range", store.EventQuery{Since: searchStart.Add(2 * time.Hour), Until: mid}, func(x indexed) bool {
			return !x.e.Published.Before(searchStart.Add(2*time.Hour)) && x.e.Published.Before(mid)
		}},
		{"integration", store.EventQuery{Integrations: []int64{2}}, func(x indexed) bool { return x.e.IntegrationID == 2 }},
		{"type", store.EventQuery{EventTypes: []string{"user.session.start"}}, func(x indexed) bool { return x.e.EventType == "user.session.start" }},
		{"type prefix", store.EventQuery{TypePrefixes: []string{"user.authentication."}}, func(x indexed) bool {
			return strings.HasPrefix(x.e.EventType, "user.authentication.")
		}},
		{"actor (other case)", store.EventQuery{Actor: strings.ToUpper(actor)}, func(x indexed) bool { return slices.Contains(x.actor, actor) }},
		{"target", store.EventQuery{Target: target}, func(x indexed) bool { return slices.Contains(x.targets, target) }},
		{"ip", store.EventQuery{IP: ip}, func(x indexed) bool { return x.ip == ip }},
		{"outcome", store.EventQuery{Outcomes: []string{"failure"}}, func(x indexed) bool { return x.outcome == "FAILURE" }},
		{"text", store.EventQuery{Text: "PUSH"}, func(x indexed) bool { return strings.Contains(x.rawLowr, "push") }},
		{"actor+outcome+since", store.EventQuery{Actor: actor, Outcomes: []string{"SUCCESS"}, Since: mid}, func(x indexed) bool {
			return slices.Contains(x.actor, actor) && x.outcome == "SUCCESS" && !x.e.Published.Before(mid)
		}},
		{"ip+type prefix", store.EventQuery{IP: ip, TypePrefixes: []string{"user.session."}}, func(x indexed) bool {
			return x.ip == ip && strings.HasPrefix(x.e.EventType, "user.session.")
		}},
		{"target+integration+text", store.EventQuery{Target: target, Integrations: []int64{1}, Text: strings.ToUpper(word)}, func(x indexed) bool {
			return slices.Contains(x.targets, target) && x.e.IntegrationID == 1 && word != "" && strings.Contains(x.rawLowr, word)
		}},
		{"unknown actor", store.EventQuery{Actor: "nobody@nowhere.example"}, func(indexed) bool { return false }},
	}
	for _, c := range cases {
		for _, oldest := range []bool{false, true} {
			q := c.q
			q.Oldest, q.Limit = oldest, 97
			var want []int64
			byKey := slices.Clone(all)
			slices.SortFunc(byKey, func(a, b indexed) int {
				if a.key[0] != b.key[0] {
					return compare(a.key[0], b.key[0])
				}
				return compare(a.key[1], b.key[1])
			})
			if !oldest {
				slices.Reverse(byKey)
			}
			for _, x := range byKey {
				if c.match(x) {
					want = append(want, x.e.Seq)
				}
			}
			if c.name != "all" && c.name != "unknown actor" && (len(want) == 0 || len(want) == len(all)) {
				t.Fatalf("%s: the journal has %d of %d matching events; the case proves nothing", c.name, len(want), len(all))
			}
			got := f.searchAll(q, nil)
			if !slices.Equal(got, want) {
				t.Fatalf("%s (oldest %v): got %d events, want %d\ngot  %v\nwant %v", c.name, oldest, len(got), len(want), head(got), head(want))
			}
		}
	}

	// Paging while events are appended: every event stored before the search started comes
	// exactly once, whatever arrives between pages.
	late := orgEvents(t, 1)
	for i := range late {
		late[i].UUID = fmt.Sprintf("late-%d", i)
	}
	for _, oldest := range []bool{false, true} {
		before := map[int64]bool{}
		for _, x := range all {
			before[x.e.Seq] = true
		}
		n := 0
		got := f.searchAll(store.EventQuery{Oldest: oldest, Limit: 113}, func(int) {
			if n < len(late) {
				batch := late[n:min(n+40, len(late))]
				for i := range batch {
					batch[i].UUID = fmt.Sprintf("%s-%v", batch[i].UUID, oldest)
				}
				f.appendPage(1, batch, nil)
				n += len(batch)
			}
		})
		for _, seq := range got {
			delete(before, seq)
		}
		if len(before) != 0 || n == 0 {
			t.Fatalf("paging during appends (oldest %v): %d earlier events never returned, %d appended", oldest, len(before), n)
		}
	}

	// A bad cursor is refused with the fix, never read as a position.
	p, err := f.s.SearchEvents(f.ctx, store.EventQuery{Actor: actor, Limit: 5})
	f.must(err)
	if p.Next == "" {
		t.Fatal("no next cursor")
	}
	tampered := []byte(p.Next)
	tampered[len(tampered)/2] ^= 1
	for name, q := range map[string]store.EventQuery{
		"garbage":       {Cursor: "not a cursor!"},
		"tampered":      {Actor: actor, Limit: 5, Cursor: string(tampered)},
		"other query":   {Actor: actor, Outcomes: []string{"SUCCESS"}, Cursor: p.Next},
		"other order":   {Actor: actor, Oldest: true, Cursor: p.Next},
		"truncated":     {Actor: actor, Cursor: p.Next[:10]},
		"limit too big": {Limit: store.MaxSearchLimit + 1},
		"until<since":   {Since: mid, Until: searchStart},
	} {
		_, err := f.s.SearchEvents(f.ctx, q)
		wantErr(t, name, err, store.ErrInvalid)
		if name != "limit too big" && name != "until<since" && !strings.Contains(err.Error(), "cursor") {
			t.Errorf("%s: %v does not say what to do with the cursor", name, err)
		}
	}
	// The same cursor with another page size continues the same query.
	if _, err := f.s.SearchEvents(f.ctx, store.EventQuery{Actor: actor, Limit: 9, Cursor: p.Next}); err != nil {
		t.Fatalf("cursor with another limit: %v", err)
	}

	// Indexed types are listed for the schema filter above the store.
	types, err := f.s.IndexedEventTypes(f.ctx)
	f.must(err)
	if !slices.Contains(types, "user.session.start") || !slices.IsSorted(types) {
		t.Fatalf("indexed types %v", types)
	}

	// Free text with a small scan budget stops early, says so, and continues with its cursor.
	var textSeqs []int64
	q := store.EventQuery{Text: "password_spray_never_present", MaxScan: 600}
	for i := 0; ; i++ {
		p, err := f.s.SearchEvents(f.ctx, q)
		f.must(err)
		if p.Scanned > 600 || (p.Next != "" && !p.Partial) {
			t.Fatalf("scan page %+v", p)
		}
		for _, e := range p.Events {
			textSeqs = append(textSeqs, e.Seq)
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
		if i > 100 {
			t.Fatal("bounded scan does not end")
		}
	}
	if len(textSeqs) != 0 {
		t.Fatalf("absent text matched %v", textSeqs)
	}

	// Retention takes the index entries with the journal entries.
	last := f.lastSeq()
	_, err = f.s.TrimJournal(f.ctx, last-9)
	f.must(err)
	got := f.searchAll(store.EventQuery{Oldest: true, Limit: 3}, nil)
	if len(got) != 10 || got[0] < last-9 {
		t.Fatalf("after trimming, search returned %d events (%v), want the 10 kept", len(got), head(got))
	}
}

func compare(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// head is the first few seqs, for messages.
func head(s []int64) []int64 { return s[:min(len(s), 12)] }

package sigma

import (
	"encoding/json"
	"strings"

	"github.com/idwatch/idwatch/internal/event"
)

// Leaf is one value read from an event field, with its text form computed once per event.
type Leaf struct {
	V       any
	S       string // text form (event.Text); valid when HasS
	HasS    bool
	lower   string
	lowered bool
}

// Lower returns the lower-cased text form, computed on first use.
func (l *Leaf) Lower() string {
	if !l.lowered {
		l.lower, l.lowered = strings.ToLower(l.S), true
	}
	return l.lower
}

func makeLeaf(v any) Leaf {
	s, ok := event.Text(v)
	return Leaf{V: v, S: s, HasS: ok}
}

// Paths assigns each distinct field path a slot, so an event's field is read once however
// many rules look at it.
type Paths struct {
	index map[string]int
	paths []event.Path
}

// NewPaths returns an empty path table.
func NewPaths() *Paths { return &Paths{index: map[string]int{}} }

// Slot returns the slot of p, adding it if new.
func (t *Paths) Slot(p event.Path) int {
	k := strings.Join(p.Segments(), ".")
	if i, ok := t.index[k]; ok {
		return i
	}
	t.index[k] = len(t.paths)
	t.paths = append(t.paths, p)
	return len(t.paths) - 1
}

// Lookup returns the slot of p without adding it.
func (t *Paths) Lookup(p event.Path) (int, bool) {
	i, ok := t.index[strings.Join(p.Segments(), ".")]
	return i, ok
}

// Len is the number of slots.
func (t *Paths) Len() int { return len(t.paths) }

// Event is the per-event read cache the matchers evaluate against. Reset it for each event;
// it is not safe for concurrent use.
type Event struct {
	fields  event.Fields
	table   *Paths
	vals    [][]Leaf
	have    []bool
	words   []Leaf
	hasWord bool
	buf     []Leaf
	collect func(v any) bool // appends to buf; made once so reads do not allocate
}

// NewEvent returns a cache over the slots of t.
func NewEvent(t *Paths) *Event {
	e := &Event{table: t}
	e.collect = func(v any) bool {
		e.buf = append(e.buf, makeLeaf(v))
		return true
	}
	return e
}

// Reset points the cache at a new event and forgets the previous one's values.
func (e *Event) Reset(f event.Fields) {
	e.fields = f
	if n := e.table.Len(); len(e.have) < n {
		e.have = make([]bool, n)
		e.vals = append(e.vals, make([][]Leaf, n-len(e.vals))...)
	} else {
		clear(e.have)
	}
	e.words, e.hasWord = e.words[:0], false
}

// Fields returns the event being evaluated.
func (e *Event) Fields() event.Fields { return e.fields }

// Values returns the leaves at a slot, reading the event on first use.
func (e *Event) Values(slot int) []Leaf {
	if e.have[slot] {
		return e.vals[slot]
	}
	e.buf = e.vals[slot][:0]
	e.fields.Each(e.table.paths[slot], e.collect)
	e.vals[slot], e.have[slot] = e.buf, true
	e.buf = nil
	return e.vals[slot]
}

// Keywords returns every scalar leaf of the event, for keyword (full-text) selections.
func (e *Event) Keywords() []Leaf {
	if e.hasWord {
		return e.words
	}
	e.hasWord = true
	switch d := e.fields.(type) {
	case event.Doc:
		e.words = walkLeaves(map[string]any(d), e.words, 0)
	default:
		// Typed events are walked through their JSON form; keyword rules are rare on Okta
		// data, so the cost is paid only by the events that reach one.
		raw, err := json.Marshal(e.fields)
		if err != nil {
			return e.words
		}
		doc, err := event.ParseDoc(raw)
		if err != nil {
			return e.words
		}
		e.words = walkLeaves(map[string]any(doc), e.words, 0)
	}
	return e.words
}

func walkLeaves(v any, out []Leaf, depth int) []Leaf {
	if depth > 64 {
		return out
	}
	switch t := v.(type) {
	case map[string]any:
		for _, x := range t {
			out = walkLeaves(x, out, depth+1)
		}
	case []any:
		for _, x := range t {
			out = walkLeaves(x, out, depth+1)
		}
	case nil:
	default:
		if l := makeLeaf(t); l.HasS {
			out = append(out, l)
		}
	}
	return out
}

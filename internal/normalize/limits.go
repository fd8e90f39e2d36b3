package normalize

import (
	"github.com/idwatch/idwatch/internal/event"
)

// Bounds on the structure a record keeps of an event's free-form data (debugData, detailEntry,
// transaction.detail, the securityContext maps, fields Okta may add, …). Okta writes a few dozen
// members at a few levels; an imported file, a malformed page or a hostile sender can write
// millions, and every rule reading the record would walk them. Past a bound the data is kept
// raw, as JSON text, and the record says so (metadata.is_truncated); raw_data keeps the event
// as received in any case.
const (
	// MaxMembers is the most members an object, or elements an array, under unmapped (and
	// entity.data) keeps as structure: the first MaxMembers in key (or array) order. The rest
	// are kept as the JSON text of an object (or array) holding them, in a member (or a last
	// element {…}) named RestKey.
	MaxMembers = 1000
	// MaxDepth is the deepest nesting under unmapped kept as structure (unmapped itself is level
	// 1); an object or array deeper down is kept as its JSON text.
	MaxDepth = 32
	// RestKey names the member holding, as JSON text, what MaxMembers left out of an object or
	// array.
	RestKey = "idwatch_rest"
)

// exceeds reports whether v, at nesting level depth, holds an object or array with more than
// MaxMembers members or nesting past MaxDepth.
func exceeds(v any, depth int) bool {
	switch t := v.(type) {
	case map[string]any:
		if depth > MaxDepth || len(t) > MaxMembers {
			return true
		}
		for _, e := range t {
			if exceeds(e, depth+1) {
				return true
			}
		}
	case []any:
		if depth > MaxDepth || len(t) > MaxMembers {
			return true
		}
		for _, e := range t {
			if exceeds(e, depth+1) {
				return true
			}
		}
	}
	return false
}

// rawExceeds is exceeds for JSON text, read without building it: it tracks the nesting and
// counts the members of every open object or array.
func rawExceeds(raw []byte, depth int) bool {
	var counts []int // members so far of each open object or array
	inStr, empty := false, false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if inStr {
			switch c {
			case '\\':
				i++
			case '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
			if empty {
				counts[len(counts)-1], empty = 1, false
			}
		case '{', '[':
			if empty {
				counts[len(counts)-1], empty = 1, false
			}
			if depth+len(counts) > MaxDepth {
				return true
			}
			counts = append(counts, 0)
			empty = true
		case '}', ']':
			counts, empty = counts[:len(counts)-1], false
		case ',':
			if counts[len(counts)-1]++; counts[len(counts)-1] > MaxMembers {
				return true
			}
		case ' ', '\t', '\r', '\n', ':':
		default:
			if empty {
				counts[len(counts)-1], empty = 1, false
			}
		}
	}
	return false
}

// bounded writes free-form values within MaxMembers and MaxDepth, keeping the rest as JSON
// text, and remembers whether it had to. Within bounds its output is (*event.JSONWriter).Value's.
type bounded struct {
	w         *event.JSONWriter
	truncated bool
}

// member writes member k holding v, at nesting level depth.
func (b *bounded) member(k string, v any, depth int) {
	b.w.Key(k)
	b.value(v, depth)
}

// mapMember writes member k holding m, unless m is nil.
func (b *bounded) mapMember(k string, m map[string]any, depth int) {
	if m != nil {
		b.member(k, m, depth)
	}
}

// value writes a generic JSON value (as event.ParseValue returns it) at nesting level depth.
func (b *bounded) value(v any, depth int) {
	w := b.w
	switch t := v.(type) {
	case map[string]any:
		if depth > MaxDepth {
			b.rawText(t)
			return
		}
		var mb [16]member[any]
		ms := sortedMembers(t, mb[:0])
		w.Open()
		for i, m := range ms {
			if i == MaxMembers {
				b.restMembers(ms[i:])
				break
			}
			w.Key(m.k)
			b.value(m.v, depth+1)
		}
		w.Close()
	case []any:
		if depth > MaxDepth {
			b.rawText(t)
			return
		}
		w.B = append(w.B, '[')
		for i, e := range t {
			if i > 0 {
				w.B = append(w.B, ',')
			}
			if i == MaxMembers {
				w.Open()
				w.Key(RestKey)
				b.rawText(t[i:])
				w.Close()
				break
			}
			b.value(e, depth+1)
		}
		w.B = append(w.B, ']')
	default:
		w.Value(v)
	}
}

// restMembers writes member RestKey: the JSON text of an object holding ms.
func (b *bounded) restMembers(ms []member[any]) {
	// Sized for short values up front: growing a buffer of megabytes a quarter at a time
	// copies it many times over.
	size := 2
	for _, m := range ms {
		size += len(m.k) + 16
	}
	rest := event.JSONWriter{B: make([]byte, 0, size)}
	rest.Open()
	for _, m := range ms {
		rest.Any(m.k, m.v)
	}
	rest.Close()
	b.keepErr(rest.Err)
	b.w.Key(RestKey)
	b.w.B = event.AppendStringBytes(b.w.B, rest.B)
	b.truncated = true
}

// rawText writes v's JSON encoding as a string.
func (b *bounded) rawText(v any) {
	raw := event.JSONWriter{}
	raw.Value(v)
	b.keepErr(raw.Err)
	b.w.B = event.AppendStringBytes(b.w.B, raw.B)
	b.truncated = true
}

// keepErr keeps the first encoding error in the writer.
func (b *bounded) keepErr(err error) {
	if err != nil && b.w.Err == nil {
		b.w.Err = err
	}
}

package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unsafe"
)

// Decode parses one Okta System Log event. It tolerates what real exports contain (null objects
// and fields, missing contexts, numbers where Okta documents strings and the reverse, keys in
// another case, any timestamp form ParseTime reads) and keeps unknown top-level fields in Extra.
// What still does not fit the model (a field of the wrong type, a missing or unreadable uuid,
// eventType or published) does not fail the event: the value is kept in the event's Flaws and
// the field reads as absent. Decode fails only on input that is not valid JSON, not an object,
// or an object with none of uuid, eventType and a readable published. The event does not reference raw
// after Decode returns.
func Decode(raw []byte) (*LogEvent, error) {
	blk := new(block)
	if err := decodeInto(&blk.ev, string(raw), blk); err != nil {
		return nil, err
	}
	return &blk.ev, nil
}

// DecodeOwned is Decode for input the event may keep: its strings share raw's memory instead of
// a copy, which saves a copy and an allocation the size of the event. The caller must not modify
// raw afterwards; a buffer freshly read from a database or file and handed on is such an input.
func DecodeOwned(raw []byte) (*LogEvent, error) {
	blk := new(block)
	if err := decodeInto(&blk.ev, unsafe.String(unsafe.SliceData(raw), len(raw)), blk); err != nil {
		return nil, err
	}
	return &blk.ev, nil
}

// Decoder decodes events one after another into memory it reuses: the event its DecodeOwned
// returns, and everything that event points to in the model's objects, is valid only until the
// next call. It suits a reader that is done with each event before it decodes the next and keeps
// nothing of it (or copies what it keeps); the zero value is ready to use.
type Decoder struct{ blk *block }

// DecodeOwned is the package's DecodeOwned into the decoder's reused memory.
func (d *Decoder) DecodeOwned(raw []byte) (*LogEvent, error) {
	if d.blk == nil {
		d.blk = new(block)
	} else {
		*d.blk = block{}
	}
	if err := decodeInto(&d.blk.ev, unsafe.String(unsafe.SliceData(raw), len(raw)), d.blk); err != nil {
		return nil, err
	}
	return &d.blk.ev, nil
}

// UnmarshalJSON decodes like Decode, so encoding/json users get the same tolerance and Extra.
func (ev *LogEvent) UnmarshalJSON(raw []byte) error {
	*ev = LogEvent{}
	return decodeInto(ev, string(raw), new(block))
}

// ErrNotEvent is wrapped by every error that says the input is valid JSON but not an Okta event.
var ErrNotEvent = errors.New("not an Okta System Log event")

func decodeInto(ev *LogEvent, s string, blk *block) error {
	d := scanner{s: s, blk: blk, path: blk.path[:0]}
	if c := d.peek(); c != '{' {
		if c == 0 {
			return fmt.Errorf("%w: empty input", ErrNotEvent)
		}
		if _, err := d.skip(); err != nil {
			return err
		}
		return fmt.Errorf("%w: got %s, want a JSON object", ErrNotEvent, kind(c))
	}
	var published, publishedRaw string
	sawPublished := false
	var member func(k string) error
	member = func(k string) error {
		var err error
		switch k {
		case "uuid":
			ev.UUID, err = d.text()
		case "published":
			sawPublished = true
			d.peek()
			start := d.i
			if published, err = d.text(); err == nil && published != "" {
				publishedRaw = d.s[start:d.i]
			}
		case "eventType":
			ev.EventType, err = d.text()
		case "version":
			ev.Version, err = d.text()
		case "severity":
			ev.Severity, err = d.text()
		case "legacyEventType":
			ev.LegacyEventType, err = d.text()
		case "displayMessage":
			ev.DisplayMessage, err = d.text()
		case "actor":
			ev.Actor, err = d.actor()
		case "client":
			ev.Client, err = d.client()
		case "device":
			ev.Device, err = d.device()
		case "outcome":
			ev.Outcome, err = d.outcome()
		case "target":
			ev.Target, err = d.targets()
		case "transaction":
			ev.Transaction, err = d.transaction()
		case "debugContext":
			ev.DebugContext, err = d.debugContext()
		case "authenticationContext":
			ev.AuthenticationContext, err = d.authContext()
		case "securityContext":
			ev.SecurityContext, err = d.securityContext()
		case "request":
			ev.Request, err = d.request()
		default:
			if n, ok := knownKeys[strings.ToLower(k)]; ok && n != k && topLevel(n) {
				return member(n)
			}
			var v string
			if v, err = d.skip(); err == nil {
				// Hold unknown fields to the rules of known ones (numbers must fit a float64),
				// so that they can be read back and re-encoded.
				if _, perr := parseValue(v); perr != nil {
					d.flaw(perr.Error(), v)
					return nil
				}
				if ev.Extra == nil {
					ev.Extra = map[string]json.RawMessage{}
				}
				ev.Extra[k] = compactJSON(v)
			}
		}
		return err
	}
	err := d.object(member)
	if err != nil {
		return err
	}
	if d.peek() != 0 {
		return d.syntax("unexpected data after the event object")
	}
	if ev.UUID == "" && ev.EventType == "" {
		if t, err := ParseTime(published); err != nil || t.IsZero() {
			return fmt.Errorf("%w: no uuid, eventType or published time", ErrNotEvent)
		}
	}
	if ev.UUID == "" {
		d.path = append(d.path[:0], pathSeg{key: "uuid"})
		d.flaw("missing", "")
	}
	if ev.EventType == "" {
		d.path = append(d.path[:0], pathSeg{key: "eventType"})
		d.flaw("missing", "")
	}
	d.path = append(d.path[:0], pathSeg{key: "published"})
	switch t, err := ParseTime(published); {
	case published == "" && !sawPublished:
		d.flaw("missing", "")
	case published == "":
		if !d.flawed("published") {
			d.flaw("empty", "")
		}
	case err != nil:
		d.flaw(err.Error(), publishedRaw)
	case t.IsZero():
		// The model's zero time means no time, and would re-encode as an absent field: keep
		// the value as received instead.
		d.flaw("the zero time (0001-01-01T00:00:00Z) reads as no time", publishedRaw)
	default:
		ev.Published = t
	}
	ev.Flaws = d.flaws
	return nil
}

// flawed reports whether a flaw was recorded at path.
func (d *scanner) flawed(path string) bool {
	for _, f := range d.flaws {
		if f.Path == path {
			return true
		}
	}
	return false
}

// topLevel reports whether n is a top-level member of the event model.
func topLevel(n string) bool {
	switch n {
	case "uuid", "published", "eventType", "version", "severity", "legacyEventType", "displayMessage",
		"actor", "client", "device", "outcome", "target", "transaction", "debugContext",
		"authenticationContext", "securityContext", "request":
		return true
	}
	return false
}

// text reads a string field, accepting null (as ""), numbers and booleans (as their text).
func (d *scanner) text() (string, error) {
	switch c := d.peek(); c {
	case '"':
		return d.str()
	case 'n':
		return "", d.literal("null")
	case 't':
		return "true", d.literal("true")
	case 'f':
		return "false", d.literal("false")
	case '{', '[', 0:
		return "", d.wrongType("a string", c)
	default:
		lit, _, err := d.number()
		return lit, err
	}
}

func (d *scanner) wrongType(want string, c byte) error {
	if c == 0 {
		return d.syntax("unexpected end of input")
	}
	v, err := d.skip()
	if err != nil {
		return err
	}
	if d.blk != nil {
		// Decoding an event: the value is kept as a flaw, the field reads as absent.
		d.flaw(fmt.Sprintf("want %s, got %s", want, kind(c)), v)
		return nil
	}
	return &FieldError{Msg: fmt.Sprintf("want %s, got %s", want, kind(c))}
}

// optBool reads a nullable boolean, accepting "true"/"false" strings; other strings and numbers
// carry no boolean meaning and read as absent.
func (d *scanner) optBool() (*bool, error) {
	var b bool
	switch c := d.peek(); c {
	case 't':
		b = true
		if err := d.literal("true"); err != nil {
			return nil, err
		}
	case 'f':
		if err := d.literal("false"); err != nil {
			return nil, err
		}
	case '{', '[', 0:
		return nil, d.wrongType("a boolean", c)
	default:
		s, err := d.text()
		if err != nil {
			return nil, err
		}
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			b = true
		case "false":
		default:
			return nil, nil
		}
	}
	return &b, nil
}

// optInt reads a nullable integer, accepting numeric strings and integral floats.
func (d *scanner) optInt() (*int64, error) {
	s, err := d.text()
	if err != nil || s == "" {
		return nil, err
	}
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return &n, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == float64(int64(f)) {
		n := int64(f)
		return &n, nil
	}
	return nil, nil
}

// float reads a number, accepting numeric strings; null and non-numbers read as 0.
func (d *scanner) float() (float64, error) {
	s, err := d.text()
	if err != nil || s == "" {
		return 0, err
	}
	f, perr := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if perr != nil {
		return 0, nil
	}
	return f, nil
}

// freeMap reads a free-form object; null reads as nil.
func (d *scanner) freeMap() (map[string]any, error) {
	switch c := d.peek(); c {
	case 'n':
		return nil, d.literal("null")
	case '{':
		v, err := d.freeValue()
		if m, ok := v.(map[string]any); ok && err == nil {
			return m, nil
		}
		return nil, err
	default:
		return nil, d.wrongType("an object", c)
	}
}

// freeValue reads a free-form value. Decoding an event, a number inside it too large for a
// float64 (valid JSON all the same) makes the value a flaw instead of failing the event.
func (d *scanner) freeValue() (any, error) {
	d.peek()
	start := d.i
	v, err := d.value()
	if err == nil || d.blk == nil {
		return v, err
	}
	if se := (*SyntaxError)(nil); errors.As(err, &se) && se.outOfRange {
		d.i = start
		raw, err := d.skip()
		if err != nil {
			return nil, err
		}
		d.flaw(se.Msg, raw)
		return nil, nil
	}
	return v, err
}

// nullOr reports whether the next value is null (consuming it) and checks that otherwise an
// object follows.
func (d *scanner) nullOr(open byte) (bool, error) {
	switch c := d.peek(); c {
	case 'n':
		return true, d.literal("null")
	case open:
		return false, nil
	default:
		if open == '{' {
			return true, d.wrongType("an object", c)
		}
		return true, d.wrongType("an array", c)
	}
}

// compactJSON copies valid JSON text without insignificant whitespace, so that an event re-encodes
// on one line.
func compactJSON(s string) json.RawMessage {
	return AppendCompact(make([]byte, 0, len(s)), s)
}

// AppendCompact appends valid JSON text s to out without insignificant whitespace.
func AppendCompact(out []byte, s string) []byte {
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case in:
			out = append(out, c)
			if c == '\\' && i+1 < len(s) {
				i++
				out = append(out, s[i])
			} else if c == '"' {
				in = false
			}
		case c == '"':
			in = true
			out = append(out, c)
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default:
			out = append(out, c)
		}
	}
	return out
}

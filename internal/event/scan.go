package event

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds nesting in free-form values so hostile input cannot exhaust the stack.
const maxDepth = 512

// SyntaxError is input that is not valid JSON.
type SyntaxError struct {
	Offset int // byte offset of the problem
	Msg    string

	outOfRange bool // valid JSON, but a number no float64 can hold
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

// FieldError is a field whose JSON type the event model cannot hold (an object where a string
// belongs, for example).
type FieldError struct {
	Path string // dotted path of the field
	Msg  string
}

func (e *FieldError) Error() string { return fmt.Sprintf("field %s: %s", e.Path, e.Msg) }

// scanner is a single-pass JSON reader over one string copy of the input: string values without
// escapes are substrings of it, so most fields cost no allocation of their own.
type scanner struct {
	s     string
	i     int
	depth int
	blk   *block // preallocated event objects (see take); nil for generic parsing

	// For event decoding: the members and array indexes leading to the value being read, and
	// the flaws found so far.
	path  []pathSeg
	flaws []Flaw

	// members holds the members read so far of every free-form object being read (see value).
	members []pending
}

// directMembers is how many members a free-form object's map takes as they are read; the
// members of a larger one are gathered first (see value). Okta's objects are smaller, and a map
// this size grows within the CPU's caches.
const directMembers = 128

// pending is a member of a free-form object not yet closed.
type pending struct {
	k string
	v any
}

// push puts p on the members stack, doubling it when full: append grows a large slice by a
// quarter at a time, which for a million-member object allocates five times what it keeps.
func (d *scanner) push(p pending) {
	if len(d.members) == cap(d.members) {
		grown := make([]pending, len(d.members), max(1024, 2*cap(d.members)))
		copy(grown, d.members)
		d.members = grown
	}
	d.members = append(d.members, p)
}

// pathSeg is a member name, or when key is empty an array index.
type pathSeg struct {
	key string
	idx int
}

// flaw records a value the event model cannot hold at the current path; raw is its JSON text.
func (d *scanner) flaw(problem, raw string) {
	f := Flaw{Path: d.pathString(), Problem: problem}
	if raw != "" {
		f.Value = compactJSON(raw)
	}
	d.flaws = append(d.flaws, f)
}

// pathString renders the current path as target[1].detailEntry.
func (d *scanner) pathString() string {
	var b strings.Builder
	for i, seg := range d.path {
		switch {
		case seg.key == "":
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(seg.idx))
			b.WriteByte(']')
		case i > 0:
			b.WriteByte('.')
			fallthrough
		default:
			b.WriteString(seg.key)
		}
	}
	return b.String()
}

// index pushes array index i onto the path for the duration of fn.
func (d *scanner) index(i int, fn func() error) error {
	d.path = append(d.path, pathSeg{idx: i})
	err := fn()
	d.path = d.path[:len(d.path)-1]
	return err
}

func (d *scanner) syntax(msg string, args ...any) error {
	return &SyntaxError{Offset: d.i, Msg: fmt.Sprintf(msg, args...)}
}

func (d *scanner) ws() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the next byte, or 0 at the end of input.
func (d *scanner) peek() byte {
	// Compact JSON (what Okta and oktasim send) has no whitespace between tokens: one compare
	// settles the common case.
	if d.i < len(d.s) && d.s[d.i] > ' ' {
		return d.s[d.i]
	}
	d.ws()
	if d.i >= len(d.s) {
		return 0
	}
	return d.s[d.i]
}

// kind names the JSON type starting with c, for error messages.
func kind(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case 0:
		return "end of input"
	}
	return "a number"
}

// object reads an object, calling fn positioned at each member's value. fn must consume the value,
// or return errUnknown without consuming it (see unknown). Errors from fn that are FieldErrors
// get key prepended to their path.
func (d *scanner) object(fn func(key string) error) error {
	if d.peek() != '{' {
		return d.syntax("expected an object")
	}
	d.i++
	if d.depth++; d.depth > maxDepth {
		return d.syntax("nesting deeper than %d", maxDepth)
	}
	defer func() { d.depth-- }()
	if d.peek() == '}' {
		d.i++
		return nil
	}
	for {
		if d.peek() != '"' {
			return d.syntax("expected a member name, got %s", kind(d.peek()))
		}
		key, err := d.str()
		if err != nil {
			return err
		}
		if d.peek() != ':' {
			return d.syntax("expected ':' after member name %q", key)
		}
		d.i++
		if d.peek() == 0 {
			return d.syntax("unexpected end of input")
		}
		if d.blk != nil {
			d.path = append(d.path, pathSeg{key: key})
		}
		err = fn(key)
		if err == errUnknown {
			err = d.unknown(key, fn)
		}
		if d.blk != nil {
			d.path = d.path[:len(d.path)-1]
		}
		if err != nil {
			if fe, ok := err.(*FieldError); ok {
				path := key
				if fe.Path != "" {
					path += "." + fe.Path
				}
				return &FieldError{Path: path, Msg: fe.Msg}
			}
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return nil
		default:
			return d.syntax("expected ',' or '}' after object member %q", key)
		}
	}
}

// array reads an array, calling fn positioned at each element.
func (d *scanner) array(fn func() error) error {
	if d.peek() != '[' {
		return d.syntax("expected an array")
	}
	d.i++
	if d.depth++; d.depth > maxDepth {
		return d.syntax("nesting deeper than %d", maxDepth)
	}
	defer func() { d.depth-- }()
	if d.peek() == ']' {
		d.i++
		return nil
	}
	for {
		if d.peek() == 0 {
			return d.syntax("unexpected end of input in array")
		}
		if err := fn(); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return nil
		default:
			return d.syntax("expected ',' or ']' in array")
		}
	}
}

// str reads a string literal. Invalid UTF-8 is replaced so that what is stored re-encodes as read.
func (d *scanner) str() (string, error) {
	if d.peek() != '"' {
		return "", d.syntax("expected a string")
	}
	d.i++
	start := d.i
	ascii := true
	for d.i < len(d.s) {
		// Skip eight plain ASCII bytes at a time, as appendStringTail does; the lowest flagged
		// byte is exact, so the byte loop below picks up right at it.
		for s := d.s; d.i+8 <= len(s); {
			i := d.i
			x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
				uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
			if m := hasLess(x, 0x20) | hasByte(x, '"') | hasByte(x, '\\') | (x & hi); m != 0 {
				d.i += bits.TrailingZeros64(m) / 8
				break
			}
			d.i += 8
		}
		if d.i >= len(d.s) {
			break
		}
		c := d.s[d.i]
		switch {
		case c == '"':
			v := d.s[start:d.i]
			d.i++
			if !ascii && !utf8.ValidString(v) {
				v = string(appendValidUTF8(nil, v))
			}
			return v, nil
		case c == '\\':
			return d.strEscaped(start)
		case c < 0x20:
			return "", d.syntax("control character 0x%02x in string", c)
		case c >= 0x80:
			ascii = false
		}
		d.i++
	}
	return "", d.syntax("unterminated string")
}

// strEscaped finishes a string that contains escapes, d.i being at the first backslash.
func (d *scanner) strEscaped(start int) (string, error) {
	b := make([]byte, 0, d.i-start+16)
	b = append(b, d.s[start:d.i]...)
	for d.i < len(d.s) {
		c := d.s[d.i]
		switch {
		case c == '"':
			d.i++
			if !utf8.Valid(b) {
				b = appendValidUTF8(nil, string(b))
			}
			return string(b), nil
		case c < 0x20:
			return "", d.syntax("control character 0x%02x in string", c)
		case c != '\\':
			b = append(b, c)
			d.i++
			continue
		}
		if d.i+1 >= len(d.s) {
			return "", d.syntax("unterminated string")
		}
		e := d.s[d.i+1]
		d.i += 2
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := d.hex4()
			if !ok {
				return "", d.syntax("invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if strings.HasPrefix(d.s[d.i:], `\u`) {
					save := d.i
					d.i += 2
					if x, ok := d.hex4(); ok {
						r2 = x
					} else {
						return "", d.syntax("invalid \\u escape")
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						b = utf8.AppendRune(b, dec)
						continue
					}
					d.i = save
				}
				r = utf8.RuneError
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", d.syntax("invalid escape \\%c in string", e)
		}
	}
	return "", d.syntax("unterminated string")
}

// appendValidUTF8 appends s with each byte that is not part of valid UTF-8 replaced by U+FFFD,
// as encoding/json reads it.
func appendValidUTF8(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}

func (d *scanner) hex4() (rune, bool) {
	if d.i+4 > len(d.s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(d.s[d.i : d.i+4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	d.i += 4
	return r, true
}

// number reads a number literal per the JSON grammar and returns its text and whether it is an
// integer literal (no fraction or exponent).
func (d *scanner) number() (lit string, integer bool, err error) {
	d.ws()
	start := d.i
	integer = true
	if d.i < len(d.s) && d.s[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i < len(d.s) && d.s[d.i] == '0':
		d.i++
	case d.i < len(d.s) && d.s[d.i] >= '1' && d.s[d.i] <= '9':
		d.digits()
	default:
		return "", false, d.syntax("invalid number")
	}
	if d.i < len(d.s) && d.s[d.i] == '.' {
		integer = false
		d.i++
		if d.digits() == 0 {
			return "", false, d.syntax("invalid number: no digits after '.'")
		}
	}
	if d.i < len(d.s) && (d.s[d.i] == 'e' || d.s[d.i] == 'E') {
		integer = false
		d.i++
		if d.i < len(d.s) && (d.s[d.i] == '+' || d.s[d.i] == '-') {
			d.i++
		}
		if d.digits() == 0 {
			return "", false, d.syntax("invalid number: no digits in exponent")
		}
	}
	return d.s[start:d.i], integer, nil
}

func (d *scanner) digits() int {
	n := 0
	for d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9' {
		d.i++
		n++
	}
	return n
}

// literal consumes the keyword word (true, false or null).
func (d *scanner) literal(word string) error {
	if !strings.HasPrefix(d.s[d.i:], word) {
		return d.syntax("invalid literal")
	}
	d.i += len(word)
	return nil
}

// null consumes a null if one is next and reports whether it did.
func (d *scanner) null() (bool, error) {
	if d.peek() != 'n' {
		return false, nil
	}
	return true, d.literal("null")
}

// numberValue converts a number literal the way ParseDoc does: int64 when it is an integer
// literal that fits, float64 otherwise.
func numberValue(lit string, integer bool) (any, error) {
	if integer {
		if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
			return n, nil
		}
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		return nil, fmt.Errorf("number %s is out of range", lit)
	}
	return f, nil
}

// value reads any JSON value into the generic form: map[string]any, []any, string, int64,
// float64, bool or nil.
func (d *scanner) value() (any, error) {
	switch c := d.peek(); c {
	case '{':
		// Past directMembers, members wait on a stack shared by every level until the object
		// is closed, so that its map is made at its final size: growing a map rehashes every
		// member it holds so far, and in a map larger than the CPU's caches each of those is a
		// cache miss.
		m := map[string]any{}
		base := -1 // where the object's members start on the stack, once it has outgrown m
		err := d.object(func(k string) error {
			v, err := d.value()
			if base < 0 {
				if len(m) < directMembers {
					m[k] = v
					return err
				}
				base = len(d.members)
			}
			d.push(pending{k, v})
			return err
		})
		if base >= 0 {
			ms := d.members[base:]
			sized := make(map[string]any, len(m)+len(ms))
			for k, v := range m {
				sized[k] = v
			}
			for _, p := range ms { // in input order, so that the last of a repeated name wins
				sized[p.k] = p.v
			}
			clear(ms)
			d.members = d.members[:base]
			m = sized
		}
		return m, err
	case '[':
		a := []any{}
		err := d.array(func() error {
			v, err := d.value()
			a = append(a, v)
			return err
		})
		return a, err
	case '"':
		return d.str()
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return nil, d.literal("null")
	case 0:
		return nil, d.syntax("unexpected end of input")
	default:
		at := d.i
		lit, integer, err := d.number()
		if err != nil {
			return nil, err
		}
		v, err := numberValue(lit, integer)
		if err != nil {
			return nil, &SyntaxError{Offset: at, Msg: err.Error(), outOfRange: true}
		}
		return v, nil
	}
}

// skip consumes any JSON value, validating it, and returns its text.
func (d *scanner) skip() (string, error) {
	d.ws()
	start := d.i
	var err error
	switch c := d.peek(); c {
	case '{':
		err = d.object(func(string) error { _, err := d.skip(); return err })
	case '[':
		err = d.array(func() error { _, err := d.skip(); return err })
	case '"':
		_, err = d.str()
	case 't':
		err = d.literal("true")
	case 'f':
		err = d.literal("false")
	case 'n':
		err = d.literal("null")
	case 0:
		err = d.syntax("unexpected end of input")
	default:
		_, _, err = d.number()
	}
	return d.s[start:d.i], err
}

// ParseValue decodes one JSON text into the generic form Doc uses: map[string]any, []any,
// string, int64 (integer literals that fit), float64, bool or nil.
func ParseValue(raw []byte) (any, error) { return parseValue(string(raw)) }

// parseValue decodes one complete JSON text into the generic form.
func parseValue(s string) (any, error) {
	d := scanner{s: s}
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	if d.peek() != 0 {
		return nil, d.syntax("unexpected data after the value")
	}
	return v, nil
}

package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Fields is anything a detection rule can read fields from: a raw Okta event (*LogEvent) or a
// normalized record (Doc). Each calls fn with every value found at p, stopping when fn returns
// false. Arrays on the way are expanded, so fn sees each element: a rule on target.displayName
// matches if any target's displayName does. Leaf values are string, float64, int64, bool or nil;
// objects come as map[string]any.
type Fields interface {
	Each(p Path, fn func(v any) bool)
}

// Path is a compiled dotted field path. Segments are matched case-insensitively, because SigmaHQ's
// Okta rules use both "eventtype" and "eventType".
type Path struct {
	raw  string
	segs []string // lower-cased
	orig []string // as written: tried first, as rules usually spell keys as Okta does
}

// ParsePath compiles a dotted path such as "debugContext.debugData.behaviors".
func ParsePath(s string) (Path, error) {
	if s == "" {
		return Path{}, fmt.Errorf("empty field path")
	}
	orig := strings.Split(s, ".")
	segs := make([]string, len(orig))
	for i, seg := range orig {
		if seg == "" {
			return Path{}, fmt.Errorf("field path %q has an empty segment", s)
		}
		segs[i] = strings.ToLower(seg)
	}
	return Path{raw: s, segs: segs, orig: orig}, nil
}

// MustPath is ParsePath for paths written in code; it panics on a malformed literal.
func MustPath(s string) Path {
	p, err := ParsePath(s)
	if err != nil {
		panic(err)
	}
	return p
}

// String returns the path as written.
func (p Path) String() string { return p.raw }

// Segments returns the lower-cased segments of the path.
func (p Path) Segments() []string { return p.segs }

// Doc is a generic JSON document (a normalized record or an event decoded without a model).
type Doc map[string]any

// ParseDoc decodes a JSON object into a Doc, keeping numbers exact as json.Number converted to
// int64 when integral and float64 otherwise.
func ParseDoc(raw []byte) (Doc, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode JSON object: %w", err)
	}
	if m == nil {
		return nil, fmt.Errorf("decode JSON object: got null, want an object")
	}
	return Doc(normalizeNumbers(m).(map[string]any)), nil
}

func normalizeNumbers(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = normalizeNumbers(e)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = normalizeNumbers(e)
		}
		return t
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	}
	return v
}

// Each implements Fields.
func (d Doc) Each(p Path, fn func(v any) bool) {
	if eachDocDebugData(d, p, fn) {
		return
	}
	eachIn(map[string]any(d), p.segs, p.orig, fn)
}

// EachIn walks a generic JSON value along lower-cased segments, expanding arrays, and calls fn with
// each value found. It returns false if fn asked to stop.
func EachIn(v any, segs []string, fn func(v any) bool) bool {
	return eachIn(v, segs, nil, fn)
}

// eachIn is EachIn with the segments as written (orig, nil when unknown) tried before the
// lower-cased ones, so a key spelled as in the data is found without scanning the object.
func eachIn(v any, segs, orig []string, fn func(v any) bool) bool {
	for len(segs) > 0 {
		switch t := v.(type) {
		case map[string]any:
			as := ""
			if len(orig) > 0 {
				as = orig[0]
				orig = orig[1:]
			}
			next, ok := lookupFold(t, as, segs[0])
			if !ok {
				return true
			}
			v, segs = next, segs[1:]
		case []any:
			for _, e := range t {
				if !eachIn(e, segs, orig, fn) {
					return false
				}
			}
			return true
		default:
			return true
		}
	}
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			if !fn(e) {
				return false
			}
		}
		return true
	}
	return fn(v)
}

// MaxFoldScan is the most members a field lookup scans for another spelling of a name: in a
// larger object (only a malformed or hostile event has one) a field is found by its name as the
// rule writes it or in lower case, so that each lookup costs the same however many keys an
// event carries.
const MaxFoldScan = 1000

// lookupFold finds the member named as (when not empty), else lower, else any spelling of it
// (in objects of up to MaxFoldScan members).
func lookupFold(m map[string]any, as, lower string) (any, bool) {
	if as != "" {
		if v, ok := m[as]; ok {
			return v, true
		}
	}
	if v, ok := m[lower]; ok {
		return v, true
	}
	if len(m) > MaxFoldScan {
		return nil, false
	}
	for k, v := range m {
		if strings.EqualFold(k, lower) {
			return v, true
		}
	}
	return nil, false
}

// Text returns the string form of a leaf value the way rules compare it: strings as they are,
// booleans as "true"/"false", integral numbers without a fraction. ok is false for nil, objects
// and arrays.
func Text(v any) (s string, ok bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case bool:
		return strconv.FormatBool(t), true
	case int64:
		return strconv.FormatInt(t, 10), true
	case int:
		return strconv.Itoa(t), true
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), true
	case json.Number:
		return t.String(), true
	}
	return "", false
}

// Number returns a leaf value as a float64, accepting numbers and numeric strings.
func Number(v any) (float64, bool) {
	switch t := v.(type) {
	case float64:
		return t, true
	case int64:
		return float64(t), true
	case int:
		return float64(t), true
	case json.Number:
		f, err := t.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		return f, err == nil
	}
	return 0, false
}

// LooseEqual reports whether a leaf value equals want as rules compare: by string form, ignoring
// case unless cased is set. "true" equals true and "42" equals 42.
func LooseEqual(v any, want string, cased bool) bool {
	s, ok := Text(v)
	if !ok {
		return false
	}
	if cased {
		return s == want
	}
	return strings.EqualFold(s, want)
}

package sigma

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/idwatch/idwatch/internal/event"
)

// Modifiers lists every value modifier the engine understands, for error messages and docs.
var Modifiers = []string{
	"contains", "startswith", "endswith", "all", "re", "i", "m", "s", "cidr", "base64",
	"base64offset", "wide", "utf16le", "utf16be", "utf16", "windash", "exists", "gt", "gte",
	"lt", "lte", "neq", "cased", "fieldref", "minute", "hour", "day", "week", "month", "year",
	"expand",
}

// modSet is the parsed modifier chain of one field key.
type modSet struct {
	match     string   // "", contains, startswith, endswith
	transform []string // in order: wide/utf16*, base64, base64offset, windash
	re        bool
	reFlags   string
	cidr      bool
	cmp       string // gt, gte, lt, lte
	exists    bool
	all       bool
	cased     bool
	neq       bool
	fieldref  bool
	timePart  string
	expand    bool // the value holds %placeholders%
}

func parseMods(mods []string) (modSet, error) {
	var m modSet
	setMatch := func(x string) error {
		if m.match != "" && m.match != x {
			return fmt.Errorf("modifiers %s and %s cannot be combined", m.match, x)
		}
		m.match = x
		return nil
	}
	for _, raw := range mods {
		mod := strings.ToLower(raw)
		var err error
		switch mod {
		case "contains", "startswith", "endswith":
			err = setMatch(mod)
		case "all":
			m.all = true
		case "re":
			m.re = true
		case "i", "m", "s":
			if !m.re {
				return m, fmt.Errorf("modifier %s is a sub-modifier of re and must follow it (field|re|%s)", mod, mod)
			}
			m.reFlags += mod
		case "cidr":
			m.cidr = true
		case "base64", "base64offset", "wide", "utf16le", "utf16be", "utf16", "windash":
			m.transform = append(m.transform, mod)
		case "exists":
			m.exists = true
		case "gt", "gte", "lt", "lte":
			if m.cmp != "" {
				return m, fmt.Errorf("modifiers %s and %s cannot be combined; use two fields in the selection for a range", m.cmp, mod)
			}
			m.cmp = mod
		case "neq":
			m.neq = true
		case "cased":
			m.cased = true
		case "fieldref":
			m.fieldref = true
		case "minute", "hour", "day", "week", "month", "year":
			if m.timePart != "" {
				return m, fmt.Errorf("modifiers %s and %s cannot be combined", m.timePart, mod)
			}
			m.timePart = mod
		case "expand":
			m.expand = true
		default:
			return m, fmt.Errorf("unknown modifier %q (known: %s)", raw, strings.Join(Modifiers, ", "))
		}
		if err != nil {
			return m, err
		}
	}
	// Combinations that have no meaning.
	kinds := 0
	for _, b := range []bool{m.re, m.cidr, m.cmp != "", m.exists, m.fieldref} {
		if b {
			kinds++
		}
	}
	switch {
	case kinds > 1:
		return m, fmt.Errorf("modifiers re, cidr, gt/gte/lt/lte, exists and fieldref exclude each other")
	case (m.re || m.cidr || m.cmp != "" || m.exists) && m.match != "":
		return m, fmt.Errorf("modifier %s cannot be combined with re, cidr, gt/gte/lt/lte or exists", m.match)
	case (m.re || m.cidr || m.cmp != "" || m.exists || m.fieldref) && len(m.transform) > 0:
		return m, fmt.Errorf("encoding modifiers (%s) apply to plain string values only", strings.Join(m.transform, ", "))
	case m.expand && (m.exists || m.fieldref):
		return m, fmt.Errorf("modifier expand applies to values, not to exists or fieldref")
	case m.exists && (m.all || m.neq || m.timePart != ""):
		return m, fmt.Errorf("modifier exists takes a single true or false and no other modifier")
	}
	for i, t := range m.transform {
		switch t {
		case "wide", "utf16le", "utf16be", "utf16":
			rest := m.transform[i+1:]
			if !containsAny(rest, "base64", "base64offset") {
				return m, fmt.Errorf("modifier %s produces binary text and must be followed by base64 or base64offset", t)
			}
		case "base64offset":
			if m.match != "contains" {
				return m, fmt.Errorf("modifier base64offset needs contains (field|base64offset|contains)")
			}
		}
	}
	return m, nil
}

func containsAny(list []string, xs ...string) bool {
	for _, l := range list {
		for _, x := range xs {
			if l == x {
				return true
			}
		}
	}
	return false
}

// valuePred tests the leaves of one field against one rule value.
type valuePred interface {
	match(ls []Leaf, ev *Event) bool
}

// anyPred holds when one of its predicates does: the values one placeholder expands into.
// Empty, it never holds (a placeholder defined with no values matches nothing).
type anyPred []valuePred

func (p anyPred) match(ls []Leaf, ev *Event) bool {
	for _, q := range p {
		if q.match(ls, ev) {
			return true
		}
	}
	return false
}

type nullPred struct{}

func (nullPred) match(ls []Leaf, _ *Event) bool {
	if len(ls) == 0 {
		return true
	}
	for i := range ls {
		if ls[i].V == nil {
			return true
		}
	}
	return false
}

// strPred matches any of several string patterns (one value can expand into variants).
type strPred struct {
	ms []strMatcher
	// num is set when the rule value was a YAML number, so 1.0 matches 1 and "1".
	num    float64
	hasNum bool
}

func (p *strPred) match(ls []Leaf, _ *Event) bool {
	for i := range ls {
		if p.hasNum {
			if f, ok := event.Number(ls[i].V); ok && f == p.num {
				return true
			}
		}
		for j := range p.ms {
			if p.ms[j].match(&ls[i]) {
				return true
			}
		}
	}
	return false
}

type rePred struct{ re *regexp.Regexp }

func (p rePred) match(ls []Leaf, _ *Event) bool {
	for i := range ls {
		if ls[i].HasS && p.re.MatchString(ls[i].S) {
			return true
		}
	}
	return false
}

type cidrPred struct{ prefix netip.Prefix }

func (p cidrPred) match(ls []Leaf, _ *Event) bool {
	for i := range ls {
		if !ls[i].HasS {
			continue
		}
		if a, err := netip.ParseAddr(strings.TrimSpace(ls[i].S)); err == nil && p.prefix.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

type cmpPred struct {
	op string
	n  float64
}

func (p cmpPred) match(ls []Leaf, _ *Event) bool {
	for i := range ls {
		f, ok := event.Number(ls[i].V)
		if !ok || math.IsNaN(f) {
			continue
		}
		switch p.op {
		case "gt":
			ok = f > p.n
		case "gte":
			ok = f >= p.n
		case "lt":
			ok = f < p.n
		default:
			ok = f <= p.n
		}
		if ok {
			return true
		}
	}
	return false
}

// refPred compares a field with another field of the same event.
type refPred struct {
	slot  int
	mode  string // "", contains, startswith, endswith
	cased bool
}

// maxRefWork bounds the bytes a field reference compares per event (the sum, over the value
// pairs it tries, of both values' lengths): two fields of a hostile event holding long lists of
// long strings would otherwise cost the product of their sizes. Equality is exempt: it looks
// values up in a set, in time linear in both lists.
const maxRefWork = 64 << 20

func (p refPred) match(ls []Leaf, ev *Event) bool {
	ok, _ := p.compare(ls, ev.Values(p.slot))
	return ok
}

// text is a leaf's text as the predicate compares it.
func (p refPred) text(l *Leaf) string {
	if p.cased {
		return l.S
	}
	return l.Lower()
}

// compare reports whether a value of ls relates to a value of other as the mode says, and how
// many bytes it compared to find out.
func (p refPred) compare(ls, other []Leaf) (ok bool, work int) {
	if p.mode == "" && len(ls) > 1 && len(other) > 1 {
		set := make(map[string]struct{}, len(other))
		for j := range other {
			if other[j].HasS {
				b := p.text(&other[j])
				set[b] = struct{}{}
				work += len(b)
			}
		}
		for i := range ls {
			if ls[i].HasS {
				a := p.text(&ls[i])
				work += len(a)
				if _, ok := set[a]; ok {
					return true, work
				}
			}
		}
		return false, work
	}
	for i := range ls {
		if !ls[i].HasS {
			continue
		}
		for j := range other {
			if !other[j].HasS {
				continue
			}
			a, b := p.text(&ls[i]), p.text(&other[j])
			if work += len(a) + len(b); work > maxRefWork {
				return false, work
			}
			switch p.mode {
			case "contains":
				ok = strings.Contains(a, b)
			case "startswith":
				ok = strings.HasPrefix(a, b)
			case "endswith":
				ok = strings.HasSuffix(a, b)
			default:
				ok = a == b
			}
			if ok {
				return true, work
			}
		}
	}
	return false, work
}

// timeLeaves turns date leaves into one calendar part (hour, day, ...) as numbers.
func timeLeaves(ls []Leaf, part string) []Leaf {
	out := make([]Leaf, 0, len(ls))
	for i := range ls {
		t, ok := leafTime(ls[i].V)
		if !ok {
			continue
		}
		var n int
		switch part {
		case "minute":
			n = t.Minute()
		case "hour":
			n = t.Hour()
		case "day":
			n = t.Day()
		case "week":
			_, n = t.ISOWeek()
		case "month":
			n = int(t.Month())
		default:
			n = t.Year()
		}
		out = append(out, makeLeaf(int64(n)))
	}
	return out
}

// leafTime reads a timestamp with the decoder's time parser (event.ParseTimeValue: RFC 3339 with
// or without zone, epoch seconds or milliseconds). Calendar parts are UTC.
func leafTime(v any) (time.Time, bool) {
	t, err := event.ParseTimeValue(v)
	return t, err == nil
}

// transformValue applies encoding modifiers to a plain string, returning the variants it
// expands into.
func transformValue(s string, transforms []string) ([]string, error) {
	vals := []string{s}
	for _, t := range transforms {
		var next []string
		for _, v := range vals {
			switch t {
			case "wide", "utf16le":
				next = append(next, encodeUTF16(v, binary.LittleEndian, false))
			case "utf16be":
				next = append(next, encodeUTF16(v, binary.BigEndian, false))
			case "utf16":
				next = append(next, encodeUTF16(v, binary.LittleEndian, true))
			case "base64":
				next = append(next, base64.StdEncoding.EncodeToString([]byte(v)))
			case "base64offset":
				next = append(next, base64Offsets(v)...)
			case "windash":
				w, err := windash(v)
				if err != nil {
					return nil, err
				}
				next = append(next, w...)
			}
		}
		vals = next
	}
	return vals, nil
}

func encodeUTF16(s string, order binary.AppendByteOrder, bom bool) string {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(u)+2)
	if bom {
		b = append(b, 0xFF, 0xFE)
	}
	for _, c := range u {
		b = order.AppendUint16(b, c)
	}
	return string(b)
}

// base64Offsets returns the three encodings of v at byte offsets 0, 1 and 2 inside a longer
// base64 text, trimmed to the characters that do not depend on the neighbouring bytes.
func base64Offsets(v string) []string {
	start := [3]int{0, 2, 3}
	endTrim := [3]int{0, 3, 2}
	out := make([]string, 0, 3)
	for i := 0; i < 3; i++ {
		enc := base64.StdEncoding.EncodeToString(append([]byte(strings.Repeat(" ", i)), v...))
		end := len(enc) - endTrim[(len(v)+i)%3]
		if start[i] >= end {
			continue
		}
		out = append(out, enc[start[i]:end])
	}
	return out
}

// windashChars are the characters Windows accepts interchangeably to start a parameter.
var windashChars = []string{"-", "/", "–", "—", "―"}

// maxWindashVariants bounds the expansion of windash values.
const maxWindashVariants = 625

var windashRe = regexp.MustCompile(`(^|[^\p{L}\p{N}_])[-/–—―]`)

func windash(v string) ([]string, error) {
	locs := windashRe.FindAllStringSubmatchIndex(v, -1)
	if len(locs) == 0 {
		return []string{v}, nil
	}
	total := 1
	for range locs {
		if total *= len(windashChars); total > maxWindashVariants {
			return nil, fmt.Errorf("windash value %q expands to more than %d variants; split it", v, maxWindashVariants)
		}
	}
	out := []string{""}
	last := 0
	for _, l := range locs {
		dash := l[3] // the dash starts right after the boundary group and ends the match
		pre := v[last:dash]
		var next []string
		for _, o := range out {
			for _, c := range windashChars {
				next = append(next, o+pre+c)
			}
		}
		out, last = next, l[1]
	}
	for i := range out {
		out[i] += v[last:]
	}
	return out, nil
}

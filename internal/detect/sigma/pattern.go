package sigma

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// ptok is one piece of a Sigma string value: a literal run or a wildcard.
type ptok struct {
	lit  string
	star bool // *
	one  bool // ?
}

// parseWildcards splits a Sigma string into literals and wildcards, applying the escaping
// rules of the specification: \* and \? are literal wildcards, \\ is one backslash, and a
// backslash before anything else stands for itself.
func parseWildcards(s string) []ptok {
	var out []ptok
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			out = append(out, ptok{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\'):
			lit.WriteByte(s[i+1])
			i++
		case c == '*':
			flush()
			if n := len(out); n == 0 || !out[n-1].star {
				out = append(out, ptok{star: true})
			}
		case c == '?':
			flush()
			out = append(out, ptok{one: true})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return out
}

// hasWildcard reports whether a token list contains an unescaped wildcard.
func hasWildcard(ts []ptok) bool {
	for _, t := range ts {
		if t.star || t.one {
			return true
		}
	}
	return false
}

// literal joins the literal pieces of a token list that has no wildcards.
func literal(ts []ptok) string {
	var b strings.Builder
	for _, t := range ts {
		b.WriteString(t.lit)
	}
	return b.String()
}

// strMatcher matches text against a compiled wildcard pattern.
type strMatcher struct {
	kind  int // one of the sm* constants
	lit   string
	re    *regexp.Regexp
	cased bool
}

const (
	smEq = iota
	smPrefix
	smSuffix
	smContains
	smAny // "*" alone: any string value
	smRegexp
)

// compileWildcards builds the fastest matcher for a pattern.
func compileWildcards(ts []ptok, cased bool) strMatcher {
	m := strMatcher{cased: cased}
	norm := func(s string) string {
		if cased {
			return s
		}
		return strings.ToLower(s)
	}
	switch {
	case len(ts) == 0:
		m.kind = smEq
	case len(ts) == 1 && ts[0].star:
		m.kind = smAny
	case !hasWildcard(ts):
		m.kind, m.lit = smEq, norm(literal(ts))
	case len(ts) == 2 && ts[0].lit != "" && ts[1].star:
		m.kind, m.lit = smPrefix, norm(ts[0].lit)
	case len(ts) == 2 && ts[0].star && ts[1].lit != "":
		m.kind, m.lit = smSuffix, norm(ts[1].lit)
	case len(ts) == 3 && ts[0].star && ts[1].lit != "" && ts[2].star:
		m.kind, m.lit = smContains, norm(ts[1].lit)
	default:
		var b strings.Builder
		b.WriteString("(?s")
		if !cased {
			b.WriteString("i")
		}
		b.WriteString(")^")
		for _, t := range ts {
			switch {
			case t.star:
				b.WriteString(".*")
			case t.one:
				b.WriteString(".")
			default:
				b.WriteString(regexp.QuoteMeta(t.lit))
			}
		}
		b.WriteString("$")
		m.kind, m.re = smRegexp, regexp.MustCompile(b.String())
	}
	return m
}

// match tests one leaf.
func (m *strMatcher) match(l *Leaf) bool {
	if !l.HasS {
		return false
	}
	if m.kind == smAny {
		return true
	}
	if m.kind == smRegexp {
		return m.re.MatchString(l.S)
	}
	s := l.S
	if !m.cased {
		// Most values are ASCII: compare them folded in place rather than lowering a copy.
		if !l.lowered {
			switch m.kind {
			case smEq, smPrefix:
				if eq, ok := hasFoldedPrefix(s, m.lit, m.kind == smEq); ok {
					return eq
				}
			case smSuffix:
				if eq, ok := hasFoldedSuffix(s, m.lit); ok {
					return eq
				}
			}
		}
		s = l.Lower()
	}
	switch m.kind {
	case smEq:
		return s == m.lit
	case smPrefix:
		return strings.HasPrefix(s, m.lit)
	case smSuffix:
		return strings.HasSuffix(s, m.lit)
	default:
		return strings.Contains(s, m.lit)
	}
}

// hasFoldedPrefix reports whether strings.ToLower(s) starts with lit (equals it when whole),
// for a lower-case lit, without lowering s. ok is false when a non-ASCII byte of s could
// decide the answer: lowering may change the length of such text, so the caller lowers s.
func hasFoldedPrefix(s, lit string, whole bool) (match, ok bool) {
	for i := 0; i < len(lit); i++ {
		if i >= len(s) {
			return false, true
		}
		c := s[i]
		if c >= utf8.RuneSelf {
			return false, false
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lit[i] {
			return false, true
		}
	}
	if !whole || len(s) == len(lit) {
		return true, true
	}
	// Longer than lit: ASCII text lowers to the same length, so it differs.
	for i := len(lit); i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false, false
		}
	}
	return false, true
}

// hasFoldedSuffix reports whether strings.ToLower(s) ends with lit, a lower-case literal,
// without lowering s. ok is false unless the last len(lit) bytes of s are ASCII: lowering
// maps rune by rune, and an ASCII byte always starts a rune, so those bytes then lower to
// the end of the lowered text whatever comes before them.
func hasFoldedSuffix(s, lit string) (match, ok bool) {
	if len(s) < len(lit) {
		return false, false
	}
	tail := s[len(s)-len(lit):]
	for i := 0; i < len(tail); i++ {
		if tail[i] >= utf8.RuneSelf {
			return false, false
		}
	}
	for i := 0; i < len(tail); i++ {
		c := tail[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lit[i] {
			return false, true
		}
	}
	return true, true
}

package sigma

import (
	"regexp"
	"strings"
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

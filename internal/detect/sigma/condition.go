package sigma

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Cond is a parsed Sigma condition expression.
type Cond interface{ isCond() }

// CondOr is true when any operand is.
type CondOr struct{ Args []Cond }

// CondAnd is true when every operand is.
type CondAnd struct{ Args []Cond }

// CondNot negates its operand.
type CondNot struct{ Arg Cond }

// CondIdent names one search identifier (or, in a temporal correlation, one rule).
type CondIdent struct {
	Name string
	Pos  int // byte offset in the condition text
}

// CondOf is "N of pattern", "all of pattern", "1 of them" or "all of them".
type CondOf struct {
	All     bool
	N       int    // when !All
	Pattern string // "" for them
	Pos     int
}

func (CondOr) isCond()    {}
func (CondAnd) isCond()   {}
func (CondNot) isCond()   {}
func (CondIdent) isCond() {}
func (CondOf) isCond()    {}

// CondError is a syntax error in a condition, at a byte offset of its text.
type CondError struct {
	Pos int
	Msg string
}

// Error reports the message with the 1-based column.
func (e *CondError) Error() string { return fmt.Sprintf("column %d: %s", e.Pos+1, e.Msg) }

type ctok struct {
	kind string // "ident", "(", ")", "eof"
	text string
	pos  int
}

// maxCondLen and maxCondDepth keep hostile conditions from costing unbounded time or stack.
const (
	maxCondLen   = 4096
	maxCondDepth = 100
)

func lexCond(s string) ([]ctok, error) {
	if len(s) > maxCondLen {
		return nil, &CondError{0, fmt.Sprintf("condition longer than %d characters", maxCondLen)}
	}
	var out []ctok
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			out = append(out, ctok{string(c), string(c), i})
			i++
		case c == '|':
			return nil, &CondError{i, "the pipe aggregation syntax (| count() ...) is obsolete; write a Sigma correlation rule instead"}
		case isIdentChar(c):
			j := i
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			out = append(out, ctok{"ident", s[i:j], i})
			i = j
		default:
			return nil, &CondError{i, fmt.Sprintf("unexpected character %q", c)}
		}
	}
	out = append(out, ctok{"eof", "", len(s)})
	return out, nil
}

func isIdentChar(c byte) bool {
	return c == '_' || c == '*' || c == '-' || c == '.' || c == '?' ||
		(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80
}

type condParser struct {
	toks  []ctok
	i     int
	depth int
}

// ParseCondition parses a Sigma condition: and, or, not, parentheses, "1 of X*", "all of X*",
// "1 of them", "all of them". Keywords are case-insensitive.
func ParseCondition(s string) (Cond, error) {
	toks, err := lexCond(s)
	if err != nil {
		return nil, err
	}
	p := &condParser{toks: toks}
	if p.peek().kind == "eof" {
		return nil, &CondError{0, "empty condition"}
	}
	c, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != "eof" {
		return nil, &CondError{t.pos, fmt.Sprintf("unexpected %q; expected and, or or the end", t.text)}
	}
	return c, nil
}

func (p *condParser) peek() ctok { return p.toks[p.i] }
func (p *condParser) next() ctok { t := p.toks[p.i]; p.i++; return t }

func (p *condParser) isKW(kw string) bool {
	t := p.peek()
	return t.kind == "ident" && strings.EqualFold(t.text, kw)
}

func (p *condParser) or() (Cond, error) {
	a, err := p.and()
	if err != nil {
		return nil, err
	}
	args := []Cond{a}
	for p.isKW("or") {
		p.next()
		b, err := p.and()
		if err != nil {
			return nil, err
		}
		args = append(args, b)
	}
	if len(args) == 1 {
		return a, nil
	}
	return CondOr{args}, nil
}

func (p *condParser) and() (Cond, error) {
	a, err := p.not()
	if err != nil {
		return nil, err
	}
	args := []Cond{a}
	for p.isKW("and") {
		p.next()
		b, err := p.not()
		if err != nil {
			return nil, err
		}
		args = append(args, b)
	}
	if len(args) == 1 {
		return a, nil
	}
	return CondAnd{args}, nil
}

func (p *condParser) not() (Cond, error) {
	if p.isKW("not") {
		p.next()
		if p.depth++; p.depth > maxCondDepth {
			return nil, &CondError{p.peek().pos, "condition nested too deeply"}
		}
		defer func() { p.depth-- }()
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return CondNot{x}, nil
	}
	return p.primary()
}

func (p *condParser) primary() (Cond, error) {
	t := p.peek()
	switch t.kind {
	case "(":
		p.next()
		if p.depth++; p.depth > maxCondDepth {
			return nil, &CondError{t.pos, "condition nested too deeply"}
		}
		x, err := p.or()
		p.depth--
		if err != nil {
			return nil, err
		}
		if c := p.peek(); c.kind != ")" {
			return nil, &CondError{c.pos, "missing closing parenthesis"}
		}
		p.next()
		return x, nil
	case ")":
		return nil, &CondError{t.pos, "unexpected closing parenthesis"}
	case "eof":
		return nil, &CondError{t.pos, "condition ends where an identifier was expected"}
	}
	lt := strings.ToLower(t.text)
	switch lt {
	case "and", "or":
		return nil, &CondError{t.pos, fmt.Sprintf("%q needs an operand before it", t.text)}
	case "of", "them":
		return nil, &CondError{t.pos, fmt.Sprintf("%q must follow a quantifier such as \"1 of\" or \"all of\"", t.text)}
	}
	// Quantifier: "1 of", "all of", "any of", "N of".
	if p.toks[p.i+1].kind == "ident" && strings.EqualFold(p.toks[p.i+1].text, "of") {
		of := CondOf{Pos: t.pos}
		switch lt {
		case "all":
			of.All = true
		case "any":
			of.N = 1
		default:
			n, err := strconv.Atoi(t.text)
			if err != nil || n < 1 {
				return nil, &CondError{t.pos, fmt.Sprintf("quantifier %q: use 1, all or a positive number", t.text)}
			}
			of.N = n
		}
		p.i += 2
		target := p.peek()
		if target.kind != "ident" {
			return nil, &CondError{target.pos, "expected a search identifier pattern or \"them\" after \"of\""}
		}
		p.next()
		if !strings.EqualFold(target.text, "them") {
			if _, err := path.Match(target.text, ""); err != nil {
				return nil, &CondError{target.pos, fmt.Sprintf("bad pattern %q", target.text)}
			}
			of.Pattern = target.text
		}
		return of, nil
	}
	if strings.ContainsAny(t.text, "*?") {
		return nil, &CondError{t.pos, fmt.Sprintf("wildcard %q is only allowed after \"1 of\" or \"all of\"", t.text)}
	}
	p.next()
	return CondIdent{Name: t.text, Pos: t.pos}, nil
}

// matchPattern reports whether a search identifier name matches a "1 of" pattern.
func matchPattern(pattern, name string) bool {
	ok, _ := path.Match(pattern, name)
	return ok
}

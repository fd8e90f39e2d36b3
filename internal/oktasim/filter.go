package oktasim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/idwatch/idwatch/internal/event"
)

// Filter is a parsed SCIM filter expression, as Okta accepts in the System Log's filter and the
// users API's search and filter parameters. Each API checks which attributes and operators it
// allows with Walk; Match evaluates the expression against an event or a user.
type Filter struct {
	root   filterNode
	hasNot bool
}

// Comparison is one attribute expression of a filter, handed to Walk.
type Comparison struct {
	Attr string // attribute name exactly as written (Okta attribute names are case-sensitive)
	Op   string // lower-case operator: eq ne gt ge lt le sw co ew pr
}

type filterNode interface {
	match(f event.Fields) bool
	walk(fn func(Comparison) error) error
	write(b *strings.Builder)
}

// maxFilterLen bounds the expression so a hostile filter cannot make the parser work unboundedly.
const maxFilterLen = 4096

// maxFilterDepth bounds nesting of parentheses and not.
const maxFilterDepth = 32

// ParseFilter parses a SCIM filter. Attribute names are case-sensitive; operators and the
// keywords and/or/not/true/false/null are not. Precedence: attribute expressions, parentheses,
// not, and, or.
func ParseFilter(s string) (*Filter, error) {
	if len(s) > maxFilterLen {
		return nil, fmt.Errorf("filter is %d characters long; the maximum is %d", len(s), maxFilterLen)
	}
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("filter is not valid UTF-8")
	}
	p := &filterParser{src: s}
	if err := p.next(); err != nil {
		return nil, err
	}
	if p.tok.kind == tokEOF {
		return nil, fmt.Errorf("filter is empty")
	}
	root, err := p.parseOr(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, fmt.Errorf("unexpected %s at position %d", p.tok.describe(), p.tok.pos)
	}
	return &Filter{root: root, hasNot: p.sawNot}, nil
}

// UsesNot reports whether the filter negates with not (some Okta APIs allow only and/or).
func (fl *Filter) UsesNot() bool { return fl.hasNot }

// Match reports whether f satisfies the filter.
func (fl *Filter) Match(f event.Fields) bool { return fl.root.match(f) }

// Walk calls fn with every attribute expression, stopping at the first error.
func (fl *Filter) Walk(fn func(Comparison) error) error { return fl.root.walk(fn) }

// String renders the filter in a canonical form that parses back to the same filter.
func (fl *Filter) String() string {
	var b strings.Builder
	fl.root.write(&b)
	return b.String()
}

// Comparison operators the grammar knows.
var filterOps = map[string]bool{"eq": true, "ne": true, "gt": true, "ge": true, "lt": true, "le": true,
	"sw": true, "co": true, "ew": true, "pr": true}

type tokKind int

const (
	tokEOF tokKind = iota
	tokWord
	tokString
	tokNumber
	tokLParen
	tokRParen
)

type token struct {
	kind tokKind
	text string // word or number as written; string value unquoted
	pos  int
}

func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of filter"
	case tokString:
		return strconv.Quote(t.text)
	case tokLParen:
		return `"("`
	case tokRParen:
		return `")"`
	}
	return fmt.Sprintf("%q", t.text)
}

type filterParser struct {
	src    string
	pos    int
	tok    token
	sawNot bool
}

func isWordByte(c byte) bool {
	return c == '.' || c == '_' || c == '-' || c == '$' || c == ':' ||
		c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// next reads the following token into p.tok.
func (p *filterParser) next() error {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t' || p.src[p.pos] == '\n' || p.src[p.pos] == '\r') {
		p.pos++
	}
	start := p.pos
	if p.pos >= len(p.src) {
		p.tok = token{kind: tokEOF, pos: start}
		return nil
	}
	c := p.src[p.pos]
	switch {
	case c == '(':
		p.pos++
		p.tok = token{kind: tokLParen, pos: start}
	case c == ')':
		p.pos++
		p.tok = token{kind: tokRParen, pos: start}
	case c == '[' || c == ']':
		return fmt.Errorf("value path filters with %q (position %d) are not supported", string(c), start)
	case c == '"':
		s, n, err := scanString(p.src[p.pos:])
		if err != nil {
			return fmt.Errorf("%v at position %d", err, start)
		}
		p.pos += n
		p.tok = token{kind: tokString, text: s, pos: start}
	case c == '-' || c >= '0' && c <= '9':
		end := p.pos + 1
		for end < len(p.src) && strings.IndexByte("0123456789.eE+-", p.src[end]) >= 0 {
			end++
		}
		text := p.src[p.pos:end]
		if _, err := strconv.ParseFloat(text, 64); err != nil {
			return fmt.Errorf("malformed number %q at position %d", text, start)
		}
		p.pos = end
		p.tok = token{kind: tokNumber, text: text, pos: start}
	case isWordByte(c):
		end := p.pos
		for end < len(p.src) && isWordByte(p.src[end]) {
			end++
		}
		p.tok = token{kind: tokWord, text: p.src[p.pos:end], pos: start}
		p.pos = end
	default:
		r, _ := utf8.DecodeRuneInString(p.src[p.pos:])
		return fmt.Errorf("unexpected character %q at position %d", r, start)
	}
	return nil
}

// scanString reads a JSON string literal at the start of s and returns its value and length.
func scanString(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), i + 1, nil
		case '\\':
			if i+1 >= len(s) {
				return "", 0, fmt.Errorf("unterminated string")
			}
			i++
			switch e := s[i]; e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				if i+4 >= len(s) {
					return "", 0, fmt.Errorf("truncated \\u escape")
				}
				n, err := strconv.ParseUint(s[i+1:i+5], 16, 32)
				if err != nil {
					return "", 0, fmt.Errorf("malformed \\u escape")
				}
				b.WriteRune(rune(n))
				i += 4
			default:
				return "", 0, fmt.Errorf("unknown escape \\%c", e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("unterminated string")
}

func (p *filterParser) keyword(kw string) bool {
	return p.tok.kind == tokWord && strings.EqualFold(p.tok.text, kw)
}

func (p *filterParser) parseOr(depth int) (filterNode, error) {
	return p.parseBinary(depth, "or", p.parseAnd, func(l, r filterNode) filterNode { return &orNode{l, r} })
}

func (p *filterParser) parseAnd(depth int) (filterNode, error) {
	return p.parseBinary(depth, "and", p.parseUnary, func(l, r filterNode) filterNode { return &andNode{l, r} })
}

// parseBinary parses operands joined by a left-associative keyword operator.
func (p *filterParser) parseBinary(depth int, kw string, operand func(int) (filterNode, error), join func(l, r filterNode) filterNode) (filterNode, error) {
	left, err := operand(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword(kw) {
		if err := p.next(); err != nil {
			return nil, err
		}
		right, err := operand(depth)
		if err != nil {
			return nil, err
		}
		left = join(left, right)
	}
	return left, nil
}

func (p *filterParser) parseUnary(depth int) (filterNode, error) {
	if depth > maxFilterDepth {
		return nil, fmt.Errorf("filter nests deeper than %d levels", maxFilterDepth)
	}
	switch {
	case p.keyword("not"):
		p.sawNot = true
		if err := p.next(); err != nil {
			return nil, err
		}
		inner, err := p.parseUnary(depth + 1)
		if err != nil {
			return nil, err
		}
		return &notNode{inner}, nil
	case p.tok.kind == tokLParen:
		if err := p.next(); err != nil {
			return nil, err
		}
		inner, err := p.parseOr(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tokRParen {
			return nil, fmt.Errorf("expected \")\" at position %d, found %s", p.tok.pos, p.tok.describe())
		}
		if err := p.next(); err != nil {
			return nil, err
		}
		return &groupNode{inner}, nil
	case p.tok.kind == tokWord:
		return p.parseComparison()
	}
	return nil, fmt.Errorf("expected an attribute name, \"(\" or \"not\" at position %d, found %s", p.tok.pos, p.tok.describe())
}

func (p *filterParser) parseComparison() (filterNode, error) {
	attr := p.tok
	path, err := event.ParsePath(attr.text)
	if err != nil || attr.text[0] == '-' {
		return nil, fmt.Errorf("invalid attribute name %q at position %d", attr.text, attr.pos)
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	if p.tok.kind != tokWord {
		return nil, fmt.Errorf("expected an operator after %q at position %d, found %s", attr.text, p.tok.pos, p.tok.describe())
	}
	op := strings.ToLower(p.tok.text)
	if !filterOps[op] {
		return nil, fmt.Errorf("unknown operator %q at position %d; supported operators are eq, ne, gt, ge, lt, le, sw, co, ew, pr", p.tok.text, p.tok.pos)
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	n := &cmpNode{attr: attr.text, path: path, op: op}
	if op == "pr" {
		return n, nil
	}
	switch p.tok.kind {
	case tokString:
		n.val = literal{kind: litString, s: p.tok.text}
		if t, err := time.Parse(time.RFC3339Nano, p.tok.text); err == nil {
			n.val.t, n.val.isTime = t, true
		}
	case tokNumber:
		f, _ := strconv.ParseFloat(p.tok.text, 64)
		n.val = literal{kind: litNumber, s: p.tok.text, n: f}
	case tokWord:
		switch strings.ToLower(p.tok.text) {
		case "true", "false":
			n.val = literal{kind: litBool, s: strings.ToLower(p.tok.text), b: strings.EqualFold(p.tok.text, "true")}
		case "null":
			n.val = literal{kind: litNull, s: "null"}
		default:
			return nil, fmt.Errorf("expected a value after %q %s at position %d, found %s; quote strings with \"", attr.text, op, p.tok.pos, p.tok.describe())
		}
	default:
		return nil, fmt.Errorf("expected a value after %q %s at position %d, found %s", attr.text, op, p.tok.pos, p.tok.describe())
	}
	if n.val.kind != litString && (op == "sw" || op == "co" || op == "ew") {
		return nil, fmt.Errorf("operator %s needs a string value at position %d", op, p.tok.pos)
	}
	if err := p.next(); err != nil {
		return nil, err
	}
	return n, nil
}

type litKind int

const (
	litString litKind = iota
	litNumber
	litBool
	litNull
)

type literal struct {
	kind   litKind
	s      string // string value, or the number/bool/null as written
	n      float64
	b      bool
	t      time.Time
	isTime bool
}

type cmpNode struct {
	attr string
	path event.Path
	op   string
	val  literal
}

type andNode struct{ l, r filterNode }
type orNode struct{ l, r filterNode }
type notNode struct{ x filterNode }
type groupNode struct{ x filterNode }

func (n *andNode) match(f event.Fields) bool   { return n.l.match(f) && n.r.match(f) }
func (n *orNode) match(f event.Fields) bool    { return n.l.match(f) || n.r.match(f) }
func (n *notNode) match(f event.Fields) bool   { return !n.x.match(f) }
func (n *groupNode) match(f event.Fields) bool { return n.x.match(f) }

func (n *andNode) walk(fn func(Comparison) error) error {
	if err := n.l.walk(fn); err != nil {
		return err
	}
	return n.r.walk(fn)
}

func (n *orNode) walk(fn func(Comparison) error) error {
	if err := n.l.walk(fn); err != nil {
		return err
	}
	return n.r.walk(fn)
}

func (n *notNode) walk(fn func(Comparison) error) error   { return n.x.walk(fn) }
func (n *groupNode) walk(fn func(Comparison) error) error { return n.x.walk(fn) }
func (n *cmpNode) walk(fn func(Comparison) error) error {
	return fn(Comparison{Attr: n.attr, Op: n.op})
}

func (n *andNode) write(b *strings.Builder) { n.l.write(b); b.WriteString(" and "); n.r.write(b) }
func (n *orNode) write(b *strings.Builder)  { n.l.write(b); b.WriteString(" or "); n.r.write(b) }
func (n *notNode) write(b *strings.Builder) { b.WriteString("not "); n.x.write(b) }
func (n *groupNode) write(b *strings.Builder) {
	b.WriteByte('(')
	n.x.write(b)
	b.WriteByte(')')
}

func (n *cmpNode) write(b *strings.Builder) {
	b.WriteString(n.attr)
	b.WriteByte(' ')
	b.WriteString(n.op)
	if n.op == "pr" {
		return
	}
	b.WriteByte(' ')
	if n.val.kind == litString {
		// JSON quoting is what the parser reads back; without HTML escaping, so "&" stays one
		// character and the canonical form is no longer than needed.
		var q bytes.Buffer
		enc := json.NewEncoder(&q)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(n.val.s)
		b.Write(bytes.TrimSuffix(q.Bytes(), []byte("\n")))
		return
	}
	b.WriteString(n.val.s)
}

func (n *cmpNode) match(f event.Fields) bool {
	switch n.op {
	case "pr":
		return n.any(f, present)
	case "ne":
		return !n.any(f, n.equal)
	case "eq":
		if n.val.kind == litNull {
			return !n.any(f, present)
		}
		return n.any(f, n.equal)
	case "sw", "co", "ew":
		return n.any(f, n.substring)
	}
	return n.any(f, n.order)
}

// any reports whether pred holds for some value at the attribute's path (arrays expanded).
func (n *cmpNode) any(f event.Fields, pred func(v any) bool) bool {
	found := false
	f.Each(n.path, func(v any) bool {
		if pred(v) {
			found = true
			return false
		}
		return true
	})
	return found
}

func present(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case string:
		return t != ""
	case map[string]any:
		return len(t) > 0
	case []any:
		return len(t) > 0
	}
	return true
}

func (n *cmpNode) equal(v any) bool {
	switch n.val.kind {
	case litNull:
		return v == nil
	case litBool:
		s, ok := event.Text(v)
		return ok && strings.EqualFold(s, n.val.s)
	case litNumber:
		x, ok := event.Number(v)
		return ok && x == n.val.n
	}
	c, ok := n.compareString(v)
	return ok && c == 0
}

func (n *cmpNode) substring(v any) bool {
	s, ok := event.Text(v)
	if !ok {
		return false
	}
	s, want := strings.ToLower(s), strings.ToLower(n.val.s)
	switch n.op {
	case "sw":
		return strings.HasPrefix(s, want)
	case "ew":
		return strings.HasSuffix(s, want)
	}
	return strings.Contains(s, want)
}

func (n *cmpNode) order(v any) bool {
	var c int
	switch n.val.kind {
	case litNumber:
		x, ok := event.Number(v)
		if !ok {
			return false
		}
		switch {
		case x < n.val.n:
			c = -1
		case x > n.val.n:
			c = 1
		}
	case litString:
		var ok bool
		if c, ok = n.compareString(v); !ok {
			return false
		}
	default:
		return false
	}
	switch n.op {
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	}
	return c <= 0 // le
}

// compareString compares a value with a string literal: as instants when both are timestamps,
// otherwise case-insensitively as text.
func (n *cmpNode) compareString(v any) (int, bool) {
	s, ok := event.Text(v)
	if !ok {
		return 0, false
	}
	if n.val.isTime {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.Compare(n.val.t), true
		}
	}
	return strings.Compare(strings.ToLower(s), strings.ToLower(n.val.s)), true
}

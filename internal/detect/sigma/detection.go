package sigma

import (
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/idwatch/idwatch/internal/event"
)

// Detection is a compiled detection section: named selections and the condition over them.
type Detection struct {
	names []string
	sels  []*selection
	cond  func(ev *Event) bool
	ast   Cond
}

// Match evaluates the detection on the event in ev.
func (d *Detection) Match(ev *Event) bool { return d.cond(ev) }

// selection is one search identifier: an OR of AND-groups.
type selection struct {
	groups [][]*fieldMatcher
}

func (s *selection) match(ev *Event) bool {
	for _, g := range s.groups {
		ok := true
		for _, fm := range g {
			if !fm.match(ev) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// fieldMatcher is one "field|modifiers: values" entry (or a keyword list when slot < 0).
type fieldMatcher struct {
	slot     int
	path     string // lower-cased dotted path; "" for keywords
	preds    []valuePred
	all      bool
	neq      bool
	exists   int // 0 no, 1 must exist, 2 must not exist
	timePart string
	// eq holds the lower-cased literal values when this entry is a plain equality test,
	// which the engine uses to index rules by event type.
	eq []string
}

func (fm *fieldMatcher) match(ev *Event) bool {
	var ls []Leaf
	if fm.slot < 0 {
		ls = ev.Keywords()
	} else {
		ls = ev.Values(fm.slot)
	}
	switch fm.exists {
	case 1:
		return len(ls) > 0
	case 2:
		return len(ls) == 0
	}
	if fm.timePart != "" {
		ls = timeLeaves(ls, fm.timePart)
	}
	var r bool
	if fm.all {
		r = true
		for _, p := range fm.preds {
			if !p.match(ls, ev) {
				r = false
				break
			}
		}
	} else {
		for _, p := range fm.preds {
			if p.match(ls, ev) {
				r = true
				break
			}
		}
	}
	if fm.neq {
		return !r
	}
	return r
}

// compileDetection compiles the detection map of a rule.
func compileDetection(file string, det *node, env *env) (*Detection, ErrorList) {
	var errs ErrorList
	if det == nil || det.kind != kindMap {
		return nil, ErrorList{errorf(file, det, "detection must be a map of search identifiers and a condition")}
	}
	d := &Detection{}
	var condNode *node
	for i, name := range det.keys {
		v := det.vals[i]
		if name == "condition" {
			condNode = v
			continue
		}
		if name == "timeframe" {
			errs = append(errs, errorf(file, v, "detection.timeframe belongs to the obsolete aggregation syntax; write a correlation rule with timespan"))
			continue
		}
		s, e := compileSelection(file, v, env)
		errs = append(errs, e...)
		d.names = append(d.names, name)
		d.sels = append(d.sels, s)
	}
	if condNode == nil {
		errs = append(errs, errorf(file, det, "detection has no condition"))
		return nil, errs
	}
	var conds []*node
	switch condNode.kind {
	case kindScalar:
		conds = []*node{condNode}
	case kindSeq:
		conds = condNode.items
	}
	if len(conds) == 0 {
		errs = append(errs, errorf(file, condNode, "condition must be a string or a list of strings"))
		return nil, errs
	}
	var asts []Cond
	for _, cn := range conds {
		s, ok := cn.value.(string)
		if cn.kind != kindScalar || !ok {
			errs = append(errs, errorf(file, cn, "condition must be a string"))
			continue
		}
		c, err := ParseCondition(s)
		if err != nil {
			errs = append(errs, condErr(file, cn, err))
			continue
		}
		if e := d.checkIdents(file, cn, c); e != nil {
			errs = append(errs, e)
			continue
		}
		asts = append(asts, c)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if len(asts) == 1 {
		d.ast = asts[0]
	} else {
		d.ast = CondOr{asts}
	}
	d.cond = d.build(d.ast)
	return d, nil
}

// condErr places a condition syntax error on the condition's line, at its column when the
// condition is written on the same line.
func condErr(file string, n *node, err error) *Error {
	e := errorf(file, n, "condition: %v", err)
	if ce, ok := err.(*CondError); ok {
		e.Msg = "condition: " + ce.Msg
		if n != nil && !strings.Contains(n.text, "\n") {
			e.Col = n.col + ce.Pos
		}
	}
	return e
}

func (d *Detection) index(name string) int {
	for i, n := range d.names {
		if n == name {
			return i
		}
	}
	return -1
}

// ofTargets lists the selections an "of" clause covers.
func (d *Detection) ofTargets(of CondOf) []int {
	var out []int
	for i, n := range d.names {
		if of.Pattern == "" {
			if !strings.HasPrefix(n, "_") {
				out = append(out, i)
			}
		} else if matchPattern(of.Pattern, n) {
			out = append(out, i)
		}
	}
	return out
}

func (d *Detection) checkIdents(file string, n *node, c Cond) *Error {
	var bad *Error
	walkCond(c, func(x Cond) {
		if bad != nil {
			return
		}
		switch t := x.(type) {
		case CondIdent:
			if d.index(t.Name) < 0 {
				bad = condErr(file, n, &CondError{t.Pos, fmt.Sprintf("unknown search identifier %q (defined: %s)", t.Name, strings.Join(d.names, ", "))})
			}
		case CondOf:
			if len(d.ofTargets(t)) == 0 {
				what := "them"
				if t.Pattern != "" {
					what = strconv.Quote(t.Pattern)
				}
				bad = condErr(file, n, &CondError{t.Pos, fmt.Sprintf("%s matches no search identifier", what)})
			}
		}
	})
	return bad
}

// walkCond visits every node of a condition.
func walkCond(c Cond, fn func(Cond)) {
	fn(c)
	switch t := c.(type) {
	case CondOr:
		for _, a := range t.Args {
			walkCond(a, fn)
		}
	case CondAnd:
		for _, a := range t.Args {
			walkCond(a, fn)
		}
	case CondNot:
		walkCond(t.Arg, fn)
	}
}

func (d *Detection) build(c Cond) func(*Event) bool {
	switch t := c.(type) {
	case CondOr:
		fs := make([]func(*Event) bool, len(t.Args))
		for i, a := range t.Args {
			fs[i] = d.build(a)
		}
		return func(ev *Event) bool {
			for _, f := range fs {
				if f(ev) {
					return true
				}
			}
			return false
		}
	case CondAnd:
		fs := make([]func(*Event) bool, len(t.Args))
		for i, a := range t.Args {
			fs[i] = d.build(a)
		}
		return func(ev *Event) bool {
			for _, f := range fs {
				if !f(ev) {
					return false
				}
			}
			return true
		}
	case CondNot:
		f := d.build(t.Arg)
		return func(ev *Event) bool { return !f(ev) }
	case CondIdent:
		s := d.sels[d.index(t.Name)]
		return s.match
	case CondOf:
		idx := d.ofTargets(t)
		sels := make([]*selection, len(idx))
		for i, j := range idx {
			sels[i] = d.sels[j]
		}
		need := t.N
		if t.All {
			need = len(sels)
		}
		return func(ev *Event) bool {
			n := 0
			for i, s := range sels {
				if s.match(ev) {
					if n++; n >= need {
						return true
					}
				}
				if n+len(sels)-i-1 < need {
					return false
				}
			}
			return false
		}
	}
	return func(*Event) bool { return false }
}

// compileSelection compiles one search identifier's value.
func compileSelection(file string, v *node, env *env) (*selection, ErrorList) {
	s := &selection{}
	var errs ErrorList
	addMap := func(m *node) {
		var g []*fieldMatcher
		for i, key := range m.keys {
			fm, err := compileField(file, key, m.vals[i], m.keyLine[i], env)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			g = append(g, fm)
		}
		if len(g) == 0 && len(m.keys) == 0 {
			errs = append(errs, errorf(file, m, "empty selection map"))
		}
		s.groups = append(s.groups, g)
	}
	switch v.kind {
	case kindMap:
		addMap(v)
	case kindSeq:
		if len(v.items) == 0 {
			errs = append(errs, errorf(file, v, "empty selection list"))
		}
		var words []*node
		for _, it := range v.items {
			switch it.kind {
			case kindMap:
				addMap(it)
			case kindScalar:
				words = append(words, it)
			default:
				errs = append(errs, errorf(file, it, "selection list items must be maps or keyword strings, not %s", it.describe()))
			}
		}
		if len(words) > 0 {
			fm, err := compileField(file, "", &node{kind: kindSeq, items: words, line: words[0].line, col: words[0].col}, words[0].line, env)
			if err != nil {
				errs = append(errs, err)
			} else {
				s.groups = append(s.groups, []*fieldMatcher{fm})
			}
		}
	case kindScalar:
		fm, err := compileField(file, "", v, v.line, env)
		if err != nil {
			errs = append(errs, err)
		} else {
			s.groups = append(s.groups, []*fieldMatcher{fm})
		}
	default:
		errs = append(errs, errorf(file, v, "a search identifier must be a map, a list or a keyword, not %s", v.describe()))
	}
	return s, errs
}

// compileField compiles "field|mods: value(s)". An empty field name means keywords.
func compileField(file, key string, v *node, keyLine int, env *env) (*fieldMatcher, *Error) {
	paths := env.paths
	at := func(format string, args ...any) *Error {
		e := errorf(file, v, format, args...)
		if keyLine > 0 {
			e.Line, e.Col = keyLine, 0
		}
		e.Msg = fmt.Sprintf("%s: %s", displayKey(key), e.Msg)
		return e
	}
	parts := strings.Split(key, "|")
	field := parts[0]
	mods, err := parseMods(parts[1:])
	if err != nil {
		return nil, at("%v", err)
	}
	if field == "" && mods.match == "" {
		mods.match = "contains" // keywords search the whole event text
	}
	fm := &fieldMatcher{slot: -1, all: mods.all, neq: mods.neq, timePart: mods.timePart}
	if field != "" {
		p, err := event.ParsePath(field)
		if err != nil {
			return nil, at("%v", err)
		}
		fm.slot = paths.Slot(p)
		fm.path = strings.Join(p.Segments(), ".")
	} else if mods.exists || mods.fieldref || mods.cmp != "" || mods.cidr || mods.timePart != "" {
		return nil, at("keywords cannot use exists, fieldref, cidr, comparison or time modifiers")
	}
	var vals []*node
	switch v.kind {
	case kindSeq:
		vals = v.items
		if len(vals) == 0 {
			return nil, at("empty value list")
		}
	case kindMap:
		return nil, at("a field value must be a scalar or a list, not a map")
	default:
		vals = []*node{v}
	}
	if mods.all && len(vals) < 2 {
		return nil, at("modifier all needs a list of two or more values")
	}
	if mods.exists {
		b, ok := v.value.(bool)
		if v.kind != kindScalar || !ok {
			return nil, at("modifier exists takes true or false")
		}
		fm.exists = 2
		if b {
			fm.exists = 1
		}
		return fm, nil
	}
	plainEq := field != "" && mods.match == "" && len(mods.transform) == 0 && !mods.re && !mods.cidr &&
		mods.cmp == "" && !mods.fieldref && !mods.neq && !mods.all && mods.timePart == ""
	for _, x := range vals {
		if x.kind == kindSeq || x.kind == kindMap {
			return nil, at("nested lists and maps are not valid values")
		}
		p, eqv, err := compileValue(x, field, mods, env)
		if err != nil {
			return nil, at("%v", err)
		}
		if plainEq && eqv != nil {
			fm.eq = append(fm.eq, *eqv)
		} else {
			plainEq = false
		}
		fm.preds = append(fm.preds, p)
	}
	if !plainEq {
		fm.eq = nil
	}
	return fm, nil
}

func displayKey(k string) string {
	if k == "" {
		return "keywords"
	}
	return k
}

// compileValue compiles one rule value. eq is the lower-cased literal when the value is a
// plain string without wildcards. A value with the expand modifier is first replaced by the
// values its placeholders stand for, which are then OR-linked.
func compileValue(x *node, field string, mods modSet, env *env) (valuePred, *string, error) {
	if !mods.expand {
		return compileOne(x, mods, env.paths)
	}
	if _, ok := x.value.(string); !ok || x.kind != kindScalar {
		return nil, nil, fmt.Errorf("modifier expand needs a string value holding %%placeholders%%, not %s", x.describe())
	}
	if p, ok := compileLive(x.text, mods, env.opts); ok {
		return p, nil, nil
	}
	texts, err := env.opts.expand(x.text)
	if err != nil {
		return nil, nil, err
	}
	if len(texts) == 1 {
		return compileOne(&node{kind: kindScalar, text: texts[0], value: texts[0], line: x.line, col: x.col}, mods, env.paths)
	}
	alts := make(anyPred, 0, len(texts))
	for _, t := range texts {
		p, _, err := compileOne(&node{kind: kindScalar, text: t, value: t, line: x.line, col: x.col}, mods, env.paths)
		if err != nil {
			return nil, nil, fmt.Errorf("placeholder value %q: %v", t, err)
		}
		alts = append(alts, p)
	}
	return alts, nil, nil
}

// compileOne compiles one rule value after placeholder expansion.
func compileOne(x *node, mods modSet, paths *Paths) (valuePred, *string, error) {
	if x.kind == kindNull {
		if mods.match != "" || mods.re || mods.cidr || mods.cmp != "" || mods.fieldref || len(mods.transform) > 0 {
			return nil, nil, fmt.Errorf("null cannot be combined with value modifiers")
		}
		return nullPred{}, nil, nil
	}
	text := x.text
	switch {
	case mods.re:
		flags := mods.reFlags
		if flags != "" {
			text = "(?" + flags + ")" + text
		}
		re, err := regexp.Compile(text)
		if err != nil {
			return nil, nil, fmt.Errorf("invalid regular expression (RE2 syntax): %v", err)
		}
		return rePred{re}, nil, nil
	case mods.cidr:
		p, err := netip.ParsePrefix(strings.TrimSpace(text))
		if err != nil {
			return nil, nil, fmt.Errorf("invalid CIDR %q: %v", text, err)
		}
		return cidrPred{p.Masked()}, nil, nil
	case mods.cmp != "":
		f, ok := event.Number(x.value)
		if !ok || math.IsNaN(f) {
			return nil, nil, fmt.Errorf("modifier %s needs a number, got %q", mods.cmp, text)
		}
		return cmpPred{mods.cmp, f}, nil, nil
	case mods.fieldref:
		p, err := event.ParsePath(text)
		if err != nil {
			return nil, nil, fmt.Errorf("fieldref: %v", err)
		}
		return refPred{slot: paths.Slot(p), mode: mods.match, cased: mods.cased}, nil, nil
	}
	sp := &strPred{}
	if _, isStr := x.value.(string); !isStr {
		if f, ok := event.Number(x.value); ok {
			if _, isBool := x.value.(bool); !isBool {
				sp.num, sp.hasNum = f, true
			}
		}
	}
	cased := mods.cased
	variants := [][]ptok{parseWildcards(text)}
	if len(mods.transform) > 0 {
		toks := variants[0]
		if hasWildcard(toks) && !onlyWindash(mods.transform) {
			return nil, nil, fmt.Errorf("wildcards cannot be combined with encoding modifiers")
		}
		plain := literal(toks)
		if hasWildcard(toks) {
			plain = text // windash keeps the wildcards; re-parse after expansion
		}
		vs, err := transformValue(plain, mods.transform)
		if err != nil {
			return nil, nil, err
		}
		variants = variants[:0]
		for _, s := range vs {
			if hasWildcard(toks) {
				variants = append(variants, parseWildcards(s))
			} else {
				variants = append(variants, []ptok{{lit: s}})
			}
		}
		if containsAny(mods.transform, "base64", "base64offset") {
			cased = true // base64 text is case-sensitive by nature
		}
	}
	var eq *string
	for _, toks := range variants {
		switch mods.match {
		case "contains":
			toks = append(append([]ptok{{star: true}}, toks...), ptok{star: true})
		case "startswith":
			toks = append(toks, ptok{star: true})
		case "endswith":
			toks = append([]ptok{{star: true}}, toks...)
		}
		toks = mergeStars(toks)
		m := compileWildcards(toks, cased)
		if m.kind == smEq && len(variants) == 1 && !cased {
			s := m.lit
			eq = &s
		}
		sp.ms = append(sp.ms, m)
	}
	return sp, eq, nil
}

func onlyWindash(ts []string) bool {
	for _, t := range ts {
		if t != "windash" {
			return false
		}
	}
	return true
}

// mergeStars collapses adjacent * tokens.
func mergeStars(ts []ptok) []ptok {
	out := ts[:0:0]
	for _, t := range ts {
		if t.star && len(out) > 0 && out[len(out)-1].star {
			continue
		}
		if !t.star && !t.one && t.lit == "" {
			continue
		}
		out = append(out, t)
	}
	return out
}

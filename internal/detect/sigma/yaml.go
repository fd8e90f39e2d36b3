package sigma

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// kind is the shape of a YAML node.
type kind int

const (
	kindNull kind = iota
	kindScalar
	kindMap
	kindSeq
)

// node is a YAML value with its position, decoupled from the YAML library so the rest of the
// package reads rules through one small, position-carrying tree.
type node struct {
	kind kind
	line int
	col  int

	// scalar: the text and its typed value (string, int64, float64, bool).
	text  string
	value any

	// map: keys in document order, with their own positions.
	keys    []string
	keyLine []int
	vals    []*node

	// seq: items in order.
	items []*node
}

// get returns the map value for key (exact match) or nil.
func (n *node) get(key string) *node {
	if n == nil || n.kind != kindMap {
		return nil
	}
	for i, k := range n.keys {
		if k == key {
			return n.vals[i]
		}
	}
	return nil
}

// describe names the node's shape for error messages.
func (n *node) describe() string {
	switch n.kind {
	case kindNull:
		return "null"
	case kindMap:
		return "a map"
	case kindSeq:
		return "a list"
	}
	switch n.value.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 64

// parseYAMLDocs parses every document of a (multi-document) YAML file into node trees.
func parseYAMLDocs(file string, data []byte) ([]*node, error) {
	f, err := safeParse(data)
	if err != nil {
		var ye interface {
			GetMessage() string
			GetToken() *token.Token
		}
		if errors.As(err, &ye) && ye.GetToken() != nil && ye.GetToken().Position != nil {
			p := ye.GetToken().Position
			return nil, &Error{File: file, Line: p.Line, Col: p.Column, Msg: "invalid YAML: " + ye.GetMessage()}
		}
		return nil, &Error{File: file, Msg: "invalid YAML: " + err.Error()}
	}
	var docs []*node
	for _, d := range f.Docs {
		if d == nil || d.Body == nil {
			continue
		}
		n, err := convert(file, d.Body, 0)
		if err != nil {
			return nil, err
		}
		if n.kind == kindNull {
			continue
		}
		docs = append(docs, n)
	}
	return docs, nil
}

// safeParse shields callers from panics inside the YAML library on hostile input.
func safeParse(data []byte) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("YAML parser failed: %v", r)
		}
	}()
	return parser.ParseBytes(data, 0)
}

func convert(file string, n ast.Node, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, errAt(file, n, "nesting deeper than %d levels", maxDepth)
	}
	line, col := pos(n)
	out := &node{line: line, col: col}
	switch t := n.(type) {
	case *ast.NullNode:
		out.kind = kindNull
	case *ast.StringNode:
		out.kind, out.text, out.value = kindScalar, t.Value, t.Value
	case *ast.LiteralNode:
		s := ""
		if t.Value != nil {
			s = t.Value.Value
		}
		out.kind, out.text, out.value = kindScalar, s, s
	case *ast.IntegerNode:
		out.kind = kindScalar
		out.text = t.GetToken().Value
		switch v := t.Value.(type) {
		case int64:
			out.value = v
		case uint64:
			out.value = float64(v)
		default:
			out.value = t.GetToken().Value
		}
	case *ast.FloatNode:
		out.kind, out.text, out.value = kindScalar, t.GetToken().Value, t.Value
	case *ast.BoolNode:
		out.kind, out.text, out.value = kindScalar, strconv.FormatBool(t.Value), t.Value
	case *ast.InfinityNode, *ast.NanNode:
		return nil, errAt(file, n, "infinite or NaN numbers are not valid rule values")
	case *ast.TagNode:
		if t.Value == nil {
			out.kind = kindNull
			return out, nil
		}
		return convert(file, t.Value, depth+1)
	case *ast.AnchorNode:
		return convert(file, t.Value, depth+1)
	case *ast.AliasNode:
		return nil, errAt(file, n, "YAML aliases (*name) are not supported in rules; write the value out")
	case *ast.MappingNode:
		out.kind = kindMap
		for _, mv := range t.Values {
			if err := addPair(file, out, mv, depth); err != nil {
				return nil, err
			}
		}
	case *ast.MappingValueNode:
		out.kind = kindMap
		if err := addPair(file, out, t, depth); err != nil {
			return nil, err
		}
	case *ast.SequenceNode:
		out.kind = kindSeq
		for _, v := range t.Values {
			c, err := convert(file, v, depth+1)
			if err != nil {
				return nil, err
			}
			out.items = append(out.items, c)
		}
	default:
		return nil, errAt(file, n, "unsupported YAML construct %s", n.Type())
	}
	return out, nil
}

func addPair(file string, m *node, mv *ast.MappingValueNode, depth int) error {
	if mv.Key == nil {
		return errAt(file, mv, "map entry without a key")
	}
	if _, ok := mv.Key.(*ast.MergeKeyNode); ok {
		return errAt(file, mv.Key, "YAML merge keys (<<) are not supported in rules")
	}
	var key string
	switch k := mv.Key.(type) {
	case *ast.StringNode:
		key = k.Value
	case *ast.MappingKeyNode:
		return errAt(file, mv.Key, "complex map keys are not supported")
	default:
		tk := mv.Key.GetToken()
		if tk == nil {
			return errAt(file, mv.Key, "unsupported map key")
		}
		key = tk.Value
	}
	v := ast.Node(nil)
	if mv.Value != nil {
		v = mv.Value
	}
	var val *node
	if v == nil {
		l, c := pos(mv.Key)
		val = &node{kind: kindNull, line: l, col: c}
	} else {
		var err error
		if val, err = convert(file, v, depth+1); err != nil {
			return err
		}
	}
	l, _ := pos(mv.Key)
	m.keys = append(m.keys, key)
	m.keyLine = append(m.keyLine, l)
	m.vals = append(m.vals, val)
	return nil
}

func pos(n ast.Node) (int, int) {
	if n == nil {
		return 0, 0
	}
	if m, ok := n.(*ast.MappingNode); ok && len(m.Values) > 0 {
		n = m.Values[0].Key
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return 0, 0
	}
	return tk.Position.Line, tk.Position.Column
}

func errAt(file string, n ast.Node, format string, args ...any) error {
	l, c := pos(n)
	return &Error{File: file, Line: l, Col: c, Msg: fmt.Sprintf(format, args...)}
}

// Package yamlerr words YAML decoding errors for people: the line, the key, what its value is and
// what the key wants, instead of the decoder's Go types.
package yamlerr

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Options tune Explain.
type Options struct {
	// Keys are accepted at the top level besides the schema's fields (sections parsed
	// elsewhere); unknown keys are matched against them too.
	Keys []string
	// NoLines leaves line numbers out, for documents that are not the user's file as written.
	NoLines bool
}

// Explain turns a YAML decoding error into one line that names the line, the key, what its
// value is and what the key wants ("line 2: collect.poll_interval: 15 is a number; want a
// duration such as 15s"), or suggests the key meant for an unknown one. data is the document and
// schema the type it was decoded into. An error it cannot place is returned as the decoder
// words it.
func Explain(err error, data []byte, schema reflect.Type, o Options) error {
	if err == nil {
		return nil
	}
	file, perr := parser.ParseBytes(data, 0)
	var yerr yaml.Error
	if !errors.As(err, &yerr) || yerr.GetToken() == nil || perr != nil {
		if e, ok := explainDuration(err, file, o); ok && perr == nil {
			return e
		}
		if yerr != nil && yerr.GetToken() != nil && !o.NoLines {
			// Malformed YAML: the parser's message, at its line.
			return fmt.Errorf("line %d: %s", yerr.GetToken().Position.Line, yerr.GetMessage())
		}
		return errors.New(yaml.FormatError(err, false, false))
	}
	pos := yerr.GetToken().Position
	var found located
	for _, doc := range file.Docs {
		if found = locate(doc.Body, pos, nil); found.node != nil {
			break
		}
	}
	if found.node == nil || len(found.path) == 0 {
		return errors.New(yaml.FormatError(err, false, false))
	}
	line := fmt.Sprintf("line %d: ", pos.Line)
	if o.NoLines {
		line = ""
	}
	sections := o.Keys
	at := line + strings.Join(found.path, ".")
	var (
		typeErr    *yaml.TypeError
		nodeErr    *yaml.UnexpectedNodeTypeError
		unknownErr *yaml.UnknownFieldError
	)
	switch {
	case errors.As(err, &typeErr):
		return fmt.Errorf("%s: %s; want %s", at, describe(found.node), want(typeErr.DstType, found.node))
	case errors.As(err, &nodeErr):
		w := map[ast.NodeType]string{ast.MappingType: "a mapping: key: value lines indented below it",
			ast.SequenceType: "a list: [a, b], or one '- item' line each below it"}[nodeErr.Expected]
		if w == "" {
			w = nodeErr.Expected.YAMLName()
		}
		if keys := fieldNames(schema, found.path, sections); len(keys) > 0 && nodeErr.Expected == ast.MappingType {
			w += " (keys: " + strings.Join(keys, ", ") + ")"
		}
		return fmt.Errorf("%s: %s; want %s", at, describe(found.node), w)
	case errors.As(err, &unknownErr):
		parent := found.path[:len(found.path)-1]
		msg := line + unknownErr.GetMessage()
		if len(parent) > 0 {
			msg = line + strings.Join(parent, ".") + ": " + unknownErr.GetMessage()
		}
		if s := nearest(found.path[len(found.path)-1], fieldNames(schema, parent, sections)); s != "" {
			msg += "; did you mean " + s + "?"
		}
		return errors.New(msg)
	}
	return errors.New(line + yerr.GetMessage())
}

// quoted finds the value in a time.ParseDuration error.
var quoted = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"$`)

// explainDuration places a duration the time package refused (the decoder reports those without
// a position) by finding the key whose value it is.
func explainDuration(err error, file *ast.File, o Options) (error, bool) {
	m := quoted.FindStringSubmatch(err.Error())
	if file == nil || !strings.HasPrefix(err.Error(), "time: ") || m == nil {
		return nil, false
	}
	value, uerr := strconv.Unquote(`"` + m[1] + `"`)
	if uerr != nil {
		return nil, false
	}
	for _, doc := range file.Docs {
		if f := locateValue(doc.Body, value, nil); f.node != nil {
			hint := ""
			if strings.HasSuffix(value, "d") {
				hint = " (there is no day unit: write 24h for a day, 168h for a week)"
			}
			line := fmt.Sprintf("line %d: ", f.node.GetToken().Position.Line)
			if o.NoLines {
				line = ""
			}
			return fmt.Errorf("%s%s: %q is not a duration; want a number and a unit (ms, s, m, h), such as 15s, 10m or 168h%s",
				line, strings.Join(f.path, "."), value, hint), true
		}
	}
	return nil, false
}

// located is a node found in the document and the keys that lead to it.
type located struct {
	path []string
	node ast.Node
}

// locate finds the key or value at pos.
func locate(n ast.Node, pos *token.Position, path []string) located {
	return walk(n, path, func(n ast.Node) bool {
		t := n.GetToken()
		return t != nil && t.Position.Line == pos.Line && t.Position.Column == pos.Column
	})
}

// locateValue finds the first scalar whose text is value.
func locateValue(n ast.Node, value string, path []string) located {
	return walk(n, path, func(n ast.Node) bool {
		s, ok := n.(ast.ScalarNode)
		return ok && fmt.Sprint(s.GetValue()) == value
	})
}

// walk returns the first key or value for which match holds, depth first in document order.
func walk(n ast.Node, path []string, match func(ast.Node) bool) located {
	switch n := n.(type) {
	case *ast.MappingNode:
		for _, mv := range n.Values {
			if f := walk(mv, path, match); f.node != nil {
				return f
			}
		}
	case *ast.MappingValueNode:
		key := append(path[:len(path):len(path)], n.Key.GetToken().Value)
		if match(n.Key) {
			return located{key, n.Key}
		}
		if match(n.Value) {
			return located{key, n.Value}
		}
		return walk(n.Value, key, match)
	case *ast.SequenceNode:
		for i, v := range n.Values {
			p := append(path[:len(path):len(path)], "")
			if len(path) > 0 {
				p = append(path[:len(path)-1:len(path)-1], fmt.Sprintf("%s[%d]", path[len(path)-1], i))
			}
			if match(v) {
				return located{p, v}
			}
			if f := walk(v, p, match); f.node != nil {
				return f
			}
		}
	case *ast.TagNode:
		return walk(n.Value, path, match)
	case *ast.AnchorNode:
		return walk(n.Value, path, match)
	}
	return located{}
}

// describe says what a value is: "15 is a number", "[a] is a list".
func describe(n ast.Node) string {
	kind := map[ast.NodeType]string{ast.IntegerType: "a number", ast.FloatType: "a number", ast.InfinityType: "a number",
		ast.NanType: "a number", ast.StringType: "text", ast.BoolType: "a boolean", ast.NullType: "empty",
		ast.MappingType: "a mapping", ast.MappingValueType: "a mapping", ast.SequenceType: "a list"}[n.Type()]
	if kind == "" {
		kind = n.Type().YAMLName()
	}
	if n.Type() == ast.StringType {
		return fmt.Sprintf("%q is %s", n.GetToken().Value, kind)
	}
	if _, scalar := n.(ast.ScalarNode); scalar && n.Type() != ast.NullType {
		return fmt.Sprintf("%s is %s", n.GetToken().Value, kind)
	}
	return "the value is " + kind
}

// want says what a Go type accepts, with an example built from the value given where that helps.
func want(t reflect.Type, n ast.Node) string {
	if t == reflect.TypeOf(time.Duration(0)) {
		if n.Type() == ast.IntegerType {
			return fmt.Sprintf("a duration such as %ss", n.GetToken().Value)
		}
		return "a duration such as 15s, 10m or 168h"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number such as 0.5"
	case reflect.String:
		return "text"
	case reflect.Slice, reflect.Array:
		return "a list: [a, b], or one '- item' line each below it"
	case reflect.Map, reflect.Struct:
		return "a mapping: key: value lines indented below it"
	}
	return t.String()
}

// fieldNames lists the keys accepted at path in schema (extra adds top-level ones).
func fieldNames(schema reflect.Type, path []string, extra []string) []string {
	t := schema
	for _, key := range path {
		f, ok := field(t, key)
		if !ok {
			return nil
		}
		t = f
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	if len(path) == 0 {
		names = append(names, extra...)
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case name == "-" || !f.IsExported():
		case strings.Contains(opts, "inline"):
			names = append(names, fieldNames(f.Type, nil, nil)...)
		case name != "":
			names = append(names, name)
		}
	}
	return names
}

// field returns the type of the field keyed name in struct t.
func field(t reflect.Type, name string) (reflect.Type, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil, false
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == name {
			return f.Type, true
		}
		if strings.Contains(opts, "inline") {
			if ft, ok := field(f.Type, name); ok {
				return ft, true
			}
		}
	}
	return nil, false
}

// nearest returns the key among keys closest to a misspelt one, if it is close enough to be
// the one meant: at most two edits, or one per three letters for long keys.
func nearest(key string, keys []string) string {
	best, bestD := "", max(2, len(key)/3)+1
	for _, k := range keys {
		if d := editDistance(strings.ToLower(key), k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

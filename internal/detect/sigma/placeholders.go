package sigma

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Options tune how rules are compiled.
type Options struct {
	// Placeholders resolves the %name% placeholders of values written with the expand
	// modifier; nil defines none, so every such value is a load error.
	Placeholders Placeholders
	// PlaceholderHelp tells the user where an undefined placeholder can be defined; it ends
	// the error message (default: the rules folder's placeholders.yml).
	PlaceholderHelp string
}

// Placeholders supplies the values that Sigma placeholders stand for. A source may be a fixed
// map (the configuration file, a rules folder's placeholders.yml) or anything that knows the
// org, such as an identity inventory listing %okta_admins%; PlaceholderChain layers them.
type Placeholders interface {
	// Placeholder returns the values of the placeholder name (written without the percent
	// signs) and whether this source defines it. Each value is a Sigma string: * and ? are
	// wildcards, \ escapes them.
	Placeholder(name string) (values []string, ok bool)
}

// PlaceholderChain asks its sources in order; the first that defines a name wins.
type PlaceholderChain []Placeholders

// Placeholder returns the values of the first source that defines name.
func (c PlaceholderChain) Placeholder(name string) ([]string, bool) {
	for _, p := range c {
		if p == nil {
			continue
		}
		if v, ok := p.Placeholder(name); ok {
			return v, true
		}
	}
	return nil, false
}

// PlaceholderMap is a fixed set of placeholders; names match case-insensitively (SigmaHQ's
// rules spell the same placeholder both ways). Build it with NewPlaceholderMap.
type PlaceholderMap map[string][]string

// Placeholder returns the values defined for name.
func (m PlaceholderMap) Placeholder(name string) ([]string, bool) {
	v, ok := m[strings.ToLower(name)]
	return v, ok
}

// Names lists the defined names, sorted.
func (m PlaceholderMap) Names() []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Limits on placeholder definitions and on what one value may expand into.
const (
	maxPlaceholderValues = 10000
	maxExpansions        = 10000
)

var placeholderNameRe = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

// CheckPlaceholder validates one definition: the name's spelling and its values.
func CheckPlaceholder(name string, values []string) error {
	if !placeholderNameRe.MatchString(name) {
		return fmt.Errorf("placeholder name %q: use letters, digits, '_', '-' and '.', without the percent signs", name)
	}
	if len(values) == 0 {
		return fmt.Errorf("placeholder %s has no value; give a value or a list of values", name)
	}
	if len(values) > maxPlaceholderValues {
		return fmt.Errorf("placeholder %s has %d values, more than %d", name, len(values), maxPlaceholderValues)
	}
	for i, v := range values {
		if v == "" {
			return fmt.Errorf("placeholder %s: value %d is empty", name, i+1)
		}
	}
	return nil
}

// NewPlaceholderMap checks definitions and indexes them by lower-cased name; two names that
// differ only in case are an error.
func NewPlaceholderMap(defs map[string][]string) (PlaceholderMap, error) {
	names := make([]string, 0, len(defs))
	for k := range defs {
		names = append(names, k)
	}
	sort.Strings(names)
	m := PlaceholderMap{}
	var errs []string
	seen := map[string]string{}
	for _, name := range names {
		if err := CheckPlaceholder(name, defs[name]); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		k := strings.ToLower(name)
		if prev, dup := seen[k]; dup {
			errs = append(errs, fmt.Sprintf("placeholders %s and %s differ only in case; names match case-insensitively, keep one", prev, name))
			continue
		}
		seen[k] = name
		m[k] = append([]string(nil), defs[name]...)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return m, nil
}

// PlaceholderFile is the name of the file of a rules folder that defines placeholders.
const PlaceholderFile = "placeholders.yml"

// ParsePlaceholders reads a placeholders file:
//
//	placeholders:
//	    okta_admins: [alice@example.com, bob@example.com]
//	    trusted_domain: '@example.com'
//
// Problems are reported with the file and line.
func ParsePlaceholders(file string, data []byte) (PlaceholderMap, error) {
	if len(data) > maxRuleFile {
		return nil, ErrorList{{File: file, Msg: fmt.Sprintf("placeholders file larger than %d bytes", maxRuleFile)}}
	}
	docs, err := parseYAMLDocs(file, data)
	if err != nil {
		return nil, ErrorList{err.(*Error)}
	}
	if len(docs) != 1 || docs[0].kind != kindMap {
		return nil, ErrorList{{File: file, Line: 1, Msg: "a placeholders file is one YAML map with the key placeholders (placeholders: {name: [value, ...]})"}}
	}
	root := docs[0]
	var errs ErrorList
	for i, k := range root.keys {
		if k != "placeholders" {
			errs = append(errs, &Error{File: file, Line: root.keyLine[i], Msg: fmt.Sprintf("unknown key %q (the file holds placeholders: {name: [value, ...]})", k)})
		}
	}
	ph := root.get("placeholders")
	if ph == nil || ph.kind != kindMap {
		errs = append(errs, errorf(file, root, "placeholders must be a map of names to a value or a list of values"))
		return nil, errs
	}
	out := PlaceholderMap{}
	seen := map[string]string{}
	for i, name := range ph.keys {
		line := ph.keyLine[i]
		vals, e := stringList(file, ph.vals[i], "placeholder "+name)
		if len(e) > 0 {
			errs = append(errs, e...)
			continue
		}
		if err := CheckPlaceholder(name, vals); err != nil {
			errs = append(errs, &Error{File: file, Line: line, Msg: err.Error()})
			continue
		}
		k := strings.ToLower(name)
		if prev, dup := seen[k]; dup {
			errs = append(errs, &Error{File: file, Line: line, Msg: fmt.Sprintf("placeholder %s is already defined as %s (names match case-insensitively)", name, prev)})
			continue
		}
		seen[k] = name
		out[k] = vals
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// expand replaces the placeholders of a value written with the expand modifier by their
// values. A value with several placeholders yields every combination. \% is a literal percent
// sign; other escapes (\*, \?, \\) are kept for the wildcard parser.
func (o Options) expand(text string) ([]string, error) {
	out := []string{""}
	var lit strings.Builder
	flush := func() {
		if lit.Len() == 0 {
			return
		}
		for i := range out {
			out[i] += lit.String()
		}
		lit.Reset()
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '\\' && i+1 < len(text) && text[i+1] == '%':
			lit.WriteByte('%')
			i++
		case c == '\\' && i+1 < len(text):
			lit.WriteByte(c)
			lit.WriteByte(text[i+1])
			i++
		case c == '%':
			end := strings.IndexByte(text[i+1:], '%')
			if end < 0 {
				return nil, fmt.Errorf("%q: a percent sign starts a placeholder that is not closed; write %%name%%, or \\%% for a literal percent sign", text)
			}
			name := text[i+1 : i+1+end]
			if !placeholderNameRe.MatchString(name) {
				return nil, fmt.Errorf("%q: %%%s%% is not a placeholder name (letters, digits, '_', '-', '.'); write \\%% for a literal percent sign", text, name)
			}
			vals, err := o.lookup(name)
			if err != nil {
				return nil, err
			}
			flush()
			if len(out)*len(vals) > maxExpansions {
				return nil, fmt.Errorf("%q expands into more than %d values; split it", text, maxExpansions)
			}
			next := make([]string, 0, len(out)*len(vals))
			for _, prefix := range out {
				for _, v := range vals {
					next = append(next, prefix+v)
				}
			}
			out = next
			i += end + 1
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return out, nil
}

func (o Options) lookup(name string) ([]string, error) {
	help := o.PlaceholderHelp
	if help == "" {
		help = "define it in " + PlaceholderFile + " in the rules folder"
	}
	if o.Placeholders == nil {
		return nil, fmt.Errorf("placeholder %%%s%% is not defined; %s", name, help)
	}
	vals, ok := o.Placeholders.Placeholder(name)
	if !ok {
		return nil, fmt.Errorf("placeholder %%%s%% is not defined; %s", name, help)
	}
	return vals, nil
}

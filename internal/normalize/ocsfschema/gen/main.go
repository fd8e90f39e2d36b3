// Command gen builds JSON Schemas (draft 2020-12) for the OCSF event classes idwatch emits from a
// checkout of the OCSF schema tree (dictionary, objects, events, profiles), so that tests can
// validate normalized records without the tree. It writes objects.json (every object reachable
// from the classes, under $defs) and one <class>.json per class, all strict: unknown attributes
// are errors, required attributes and integer enums are enforced, and data type regexes, length
// limits and ranges apply.
//
// Usage (from internal/normalize): go run ./ocsfschema/gen [-src /path/to/ocsf-schema-1.8.0] -out testdata/ocsf
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// classes are the OCSF classes idwatch emits (file names under events/, without .json).
var classes = []string{
	"iam/authentication", "iam/account_change", "iam/authorize_session", "iam/entity_management",
	"iam/user_access", "iam/group_management", "application/api_activity", "findings/detection_finding",
	"findings/incident_finding", "findings/iam_analysis_finding", "findings/compliance_finding", "discovery/user_inventory",
}

type attrs = map[string]map[string]any

type gen struct {
	src     string
	dict    attrs
	types   attrs
	objects map[string]attrs // resolved object attributes
	raw     map[string]map[string]any
	queue   []string
	done    map[string]bool
}

func main() {
	src := flag.String("src", defaultSrc(), "OCSF schema tree (a checkout of ocsf-schema v1.8.0); default $OCSF_SCHEMA_DIR, else "+sharedTree)
	out := flag.String("out", "testdata/ocsf", "output directory")
	flag.Parse()
	if err := run(*src, *out); err != nil {
		fmt.Fprintln(os.Stderr, "ocsfschema gen:", err)
		os.Exit(1)
	}
}

// sharedTree is where the schema tree sits beside a checkout of the project, seen from
// internal/normalize (where go generate runs).
const sharedTree = "../../../shared/ocsf-1.8.0"

func defaultSrc() string {
	if d := os.Getenv("OCSF_SCHEMA_DIR"); d != "" {
		return d
	}
	if _, err := os.Stat(filepath.Join(sharedTree, "dictionary.json")); err == nil {
		return sharedTree
	}
	return ""
}

func run(src, out string) error {
	if src == "" {
		return fmt.Errorf("no schema tree: pass -src or set OCSF_SCHEMA_DIR to a checkout of ocsf-schema v1.8.0")
	}
	g := &gen{src: src, objects: map[string]attrs{}, raw: map[string]map[string]any{}, done: map[string]bool{}}
	dict, err := g.readJSON("dictionary.json")
	if err != nil {
		return err
	}
	g.dict = toAttrs(dict["attributes"])
	g.types = toAttrs(dict["types"].(map[string]any)["attributes"])
	cats, err := g.readJSON("categories.json")
	if err != nil {
		return err
	}
	version, err := g.readJSON("version.json")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, c := range classes {
		schema, err := g.class(c, toAttrs(cats["attributes"]))
		if err != nil {
			return fmt.Errorf("class %s: %w", c, err)
		}
		schema["$comment"] = fmt.Sprintf("Generated from OCSF schema %v by ocsfschema/gen; do not edit.", version["version"])
		if err := writeJSON(filepath.Join(out, filepath.Base(c)+".json"), schema); err != nil {
			return err
		}
	}
	defs := map[string]any{}
	for len(g.queue) > 0 {
		name := g.queue[0]
		g.queue = g.queue[1:]
		s, err := g.objectSchema(name)
		if err != nil {
			return fmt.Errorf("object %s: %w", name, err)
		}
		defs[name] = s
	}
	return writeJSON(filepath.Join(out, "objects.json"), map[string]any{
		"$schema": "https://json-schema.org/draft/2020-12/schema",
		"$id":     "https://schema.ocsf.io/1.8.0/objects.json",
		"$comment": fmt.Sprintf("Generated from OCSF schema %v by ocsfschema/gen; do not edit.",
			version["version"]),
		"$defs": defs,
	})
}

func (g *gen) readJSON(rel string) (map[string]any, error) {
	b, err := os.ReadFile(filepath.Join(g.src, rel))
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	return m, nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func toAttrs(v any) attrs {
	out := attrs{}
	m, _ := v.(map[string]any)
	for k, e := range m {
		if em, ok := e.(map[string]any); ok {
			out[k] = em
		}
	}
	return out
}

// merge returns base overlaid with over; enums are united so a refinement never drops values.
func merge(base, over map[string]any) map[string]any {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range over {
		if k == "enum" {
			e := map[string]any{}
			if be, ok := out["enum"].(map[string]any); ok {
				maps.Copy(e, be)
			}
			if oe, ok := v.(map[string]any); ok {
				maps.Copy(e, oe)
			}
			out[k] = e
			continue
		}
		out[k] = v
	}
	return out
}

// attributes reads a definition's attributes with its $include files applied first.
func (g *gen) attributes(def map[string]any) (attrs, error) {
	raw, _ := def["attributes"].(map[string]any)
	out := attrs{}
	if inc, ok := raw["$include"].([]any); ok {
		for _, f := range inc {
			d, err := g.readJSON(f.(string))
			if err != nil {
				return nil, err
			}
			sub, err := g.attributes(d)
			if err != nil {
				return nil, err
			}
			for k, v := range sub {
				if strings.HasPrefix(f.(string), "profiles/") && v["requirement"] == "required" {
					// A profile's requirements bind only records that declare the profile in
					// metadata.profiles; idwatch declares none of these.
					v = merge(v, map[string]any{"requirement": "optional"})
				}
				out[k] = merge(out[k], v)
			}
		}
	}
	for k, v := range toAttrs(raw) {
		out[k] = merge(out[k], v)
	}
	return out, nil
}

// resolved returns a definition's attributes merged down its extends chain. find loads a
// definition by name.
func (g *gen) resolved(def map[string]any, find func(string) (map[string]any, error)) (attrs, error) {
	own, err := g.attributes(def)
	if err != nil {
		return nil, err
	}
	parent, _ := def["extends"].(string)
	if parent == "" {
		return own, nil
	}
	pdef, err := find(parent)
	if err != nil {
		return nil, err
	}
	out, err := g.resolved(pdef, find)
	if err != nil {
		return nil, err
	}
	for k, v := range own {
		out[k] = merge(out[k], v)
	}
	return out, nil
}

func (g *gen) findObject(name string) (map[string]any, error) {
	if d, ok := g.raw[name]; ok {
		return d, nil
	}
	d, err := g.readJSON(filepath.Join("objects", name+".json"))
	if err == nil {
		g.raw[name] = d
	}
	return d, err
}

func (g *gen) findClass(name string) (map[string]any, error) {
	if name == "base_event" {
		return g.readJSON("events/base_event.json")
	}
	var found string
	err := filepath.WalkDir(filepath.Join(g.src, "events"), func(p string, _ os.DirEntry, err error) error {
		if err == nil && filepath.Base(p) == name+".json" {
			found = p
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if found == "" {
		return nil, fmt.Errorf("no class named %q", name)
	}
	rel, _ := filepath.Rel(g.src, found)
	return g.readJSON(rel)
}

func (g *gen) class(rel string, cats attrs) (map[string]any, error) {
	def, err := g.readJSON(filepath.Join("events", rel+".json"))
	if err != nil {
		return nil, err
	}
	all, err := g.resolved(def, g.findClass)
	if err != nil {
		return nil, err
	}
	cat := cats[filepath.Dir(rel)]
	catUID := int(cat["uid"].(float64))
	classUID := catUID*1000 + int(def["uid"].(float64))
	s, err := g.objectLike(all, nil)
	if err != nil {
		return nil, err
	}
	props := s["properties"].(map[string]any)
	props["class_uid"] = map[string]any{"const": classUID}
	props["category_uid"] = map[string]any{"const": catUID}
	var types []int
	for id := range all["activity_id"]["enum"].(map[string]any) {
		n, _ := strconv.Atoi(id)
		types = append(types, classUID*100+n)
	}
	slices.Sort(types)
	props["type_uid"] = map[string]any{"type": "integer", "enum": types}
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	s["$id"] = fmt.Sprintf("https://schema.ocsf.io/1.8.0/classes/%s.json", def["name"])
	s["title"] = fmt.Sprintf("%v (%d)", def["caption"], classUID)
	return s, nil
}

func (g *gen) objectSchema(name string) (map[string]any, error) {
	def, err := g.findObject(name)
	if err != nil {
		return nil, err
	}
	all, err := g.resolved(def, g.findObject)
	if err != nil {
		return nil, err
	}
	s, err := g.objectLike(all, def["constraints"])
	if err != nil {
		return nil, err
	}
	s["title"] = def["caption"]
	return s, nil
}

// objectLike builds the schema of an object or class from its resolved attributes.
func (g *gen) objectLike(all attrs, constraints any) (map[string]any, error) {
	props := map[string]any{}
	var required []string
	for _, name := range slices.Sorted(maps.Keys(all)) {
		spec := merge(g.dict[name], all[name])
		p, err := g.attribute(name, spec)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", name, err)
		}
		props[name] = p
		if spec["requirement"] == "required" {
			required = append(required, name)
		}
	}
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	if c, ok := constraints.(map[string]any); ok {
		for kw, list := range map[string]string{"anyOf": "at_least_one", "oneOf": "just_one"} {
			names, _ := c[list].([]any)
			var alts []any
			for _, n := range names {
				alts = append(alts, map[string]any{"required": []any{n}})
			}
			if len(alts) > 0 {
				s[kw] = alts
			}
		}
	}
	return s, nil
}

func (g *gen) attribute(name string, spec map[string]any) (map[string]any, error) {
	typ, _ := spec["type"].(string)
	if typ == "" {
		return nil, fmt.Errorf("no type in the dictionary")
	}
	var item map[string]any
	switch {
	case typ == "object":
		item = map[string]any{"type": "object"}
	case typ == "json_t":
		item = map[string]any{}
	case strings.HasSuffix(typ, "_t"):
		item = g.scalar(typ)
		if e, ok := spec["enum"].(map[string]any); ok && item["type"] == "integer" {
			var ids []int
			for k := range e {
				n, err := strconv.Atoi(k)
				if err != nil {
					return nil, fmt.Errorf("enum key %q", k)
				}
				ids = append(ids, n)
			}
			slices.Sort(ids)
			item["enum"] = ids
		}
	default:
		if !g.done[typ] {
			g.done[typ] = true
			g.queue = append(g.queue, typ)
		}
		item = map[string]any{"$ref": "https://schema.ocsf.io/1.8.0/objects.json#/$defs/" + typ}
	}
	if spec["is_array"] == true {
		return map[string]any{"type": "array", "items": item}, nil
	}
	return item, nil
}

// scalar maps an OCSF data type to JSON Schema, following the type chain for constraints.
func (g *gen) scalar(typ string) map[string]any {
	s := map[string]any{}
	for t := typ; t != ""; {
		def := g.types[t]
		if re, ok := def["regex"].(string); ok && s["pattern"] == nil {
			if _, err := regexp.Compile(re); err == nil {
				s["pattern"] = re
			}
		}
		if n, ok := def["max_len"].(float64); ok && s["maxLength"] == nil {
			s["maxLength"] = int(n)
		}
		if r, ok := def["range"].([]any); ok && len(r) == 2 && s["minimum"] == nil {
			s["minimum"], s["maximum"] = r[0], r[1]
		}
		switch t {
		case "string_t":
			s["type"] = "string"
		case "integer_t", "long_t":
			s["type"] = "integer"
		case "float_t":
			s["type"] = "number"
		case "boolean_t":
			s["type"] = "boolean"
		}
		next, _ := def["type"].(string)
		t = next
	}
	return s
}

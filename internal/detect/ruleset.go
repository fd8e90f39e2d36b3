// Package detect runs compiled Sigma rules and correlations over a stream of events: an
// index by event type, a per-event field cache, windowed correlation state bounded by
// watermark and caps, deterministic alert ids, and OCSF Detection Finding output. It does no
// I/O: persistence is injected (Baseline) and state is rebuilt by replaying events.
package detect

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/idwatch/idwatch/internal/detect/sigma"
	"github.com/idwatch/idwatch/internal/event"
)

// Ruleset is an immutable, compiled set of rules; many Engines may share it.
type Ruleset struct {
	paths *sigma.Paths
	rules []*compiled
	byRef map[string]*compiled

	// Detection rules indexed per schema ("" = raw events) by the first index key whose
	// value they require, plus the rules no key can narrow.
	index  map[string][]*keyIndex
	always map[string][]*compiled

	skipped     sigma.ErrorList   // problems of the rule files left out
	skippedRefs map[string]string // id or name -> file, of rules left out
}

// compiled is one rule with what the engine needs to run it.
type compiled struct {
	rule    *sigma.Rule
	n       int  // position in Ruleset.rules
	alerts  bool // emits alerts itself (not consumed silently by a correlation)
	parents []*parentLink
	// Correlation only: the referenced rules, and per reference how to read each group-by
	// field and the counted/coordinate fields.
	children []*compiled
	// suppression group-by slots for detection rules
	supSlots []int
}

// parentLink ties a rule to a correlation that consumes its matches.
type parentLink struct {
	corr *compiled
	pos  int // index of the child in corr.children (first occurrence)
	// fields to read from the child's match, in order: group-by, then value fields, then lat/lon
	group  []fieldRef
	values []fieldRef
	geo    []fieldRef
}

// fieldRef reads a field from a match: a slot for detection matches, a name for chained
// correlation hits (which carry only their group-by values).
type fieldRef struct {
	name string // lower-cased
	slot int
}

// keyIndex maps the lower-cased values of one field to the rules that require them.
type keyIndex struct {
	slot  int
	rules map[string][]*compiled
}

// IndexKeys are the equality prefilters per schema, in order of preference: a rule is indexed
// by the first field whose value it requires (eventType on raw Okta events, then the fields
// SigmaHQ's Okta rules also test by equality; metadata.event_code and class_uid on normalized
// records).
var IndexKeys = map[string][]string{
	"":           {"eventType", "legacyEventType", "displayMessage"},
	"auth":       {"metadata.event_code", "class_uid"},
	"cloudaudit": {"metadata.event_code", "class_uid"},
	"generic":    {"metadata.event_code", "class_uid"},
}

// engineFields are read by every engine: default times, uuids and the index keys.
var engineFields = []string{"published", "time", "uuid", "metadata.uid"}

// RuleFile is one rule file to compile.
type RuleFile struct {
	Name string
	Data []byte
}

// LoadFS reads every rule file (*.yml, *.yaml, excluding *.tests.yml) under dir in fsys. The
// placeholders file at dir's root is not a rule file (see LoadPlaceholdersFS); one deeper down
// is an error, so that it cannot be silently ignored.
func LoadFS(fsys fs.FS, dir string) ([]RuleFile, error) {
	var out []RuleFile
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !IsRuleFile(p) {
			return nil
		}
		if isPlaceholderFile(p) {
			if path.Dir(p) != path.Clean(dir) {
				return fmt.Errorf("%s: a placeholders file belongs at the root of the rules folder", p)
			}
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		out = append(out, RuleFile{Name: p, Data: b})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read rules in %s: %w", dir, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// placeholderFiles are the names a rules folder's placeholders file may have.
var placeholderFiles = []string{sigma.PlaceholderFile, "placeholders.yaml"}

func isPlaceholderFile(p string) bool { return contains(placeholderFiles, path.Base(p)) }

// LoadPlaceholdersFS reads the placeholders file (placeholders.yml) at the root of dir in fsys.
// It returns nil, nil when there is none.
func LoadPlaceholdersFS(fsys fs.FS, dir string) (sigma.PlaceholderMap, error) {
	var found sigma.PlaceholderMap
	var foundName string
	for _, name := range placeholderFiles {
		p := path.Join(dir, name)
		b, err := fs.ReadFile(fsys, p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if foundName != "" {
			return nil, fmt.Errorf("%s and %s both define placeholders; keep one", foundName, p)
		}
		if found, err = sigma.ParsePlaceholders(p, b); err != nil {
			return nil, err
		}
		foundName = p
	}
	return found, nil
}

// IsRuleFile reports whether a file name is a rule file (not a rule-test file).
func IsRuleFile(name string) bool {
	ext := path.Ext(name)
	return (ext == ".yml" || ext == ".yaml") && !IsTestFile(name)
}

// IsTestFile reports whether a file name is a rule-test file.
func IsTestFile(name string) bool {
	return strings.HasSuffix(name, ".tests.yml") || strings.HasSuffix(name, ".tests.yaml")
}

// Options tune CompileWith.
type Options struct {
	// Sigma carries the placeholder sources for values with the expand modifier.
	Sigma sigma.Options
	// SkipBad leaves out every rule file with a problem instead of failing: the problems are
	// kept in Ruleset.Skipped (file, line, reason) and the other files' rules run. Rules that
	// reference a left-out file's rules are left out in turn. The unit is the file because a
	// correlation and the rules it reads are written together.
	SkipBad bool
}

// Compile parses and links rule files: references by id or name, aliases, chains, the
// event-type index. Every problem is reported with its file and line.
func Compile(files []RuleFile) (*Ruleset, error) { return CompileWith(files, Options{}) }

// CompileWith is Compile with placeholders and, with SkipBad, tolerance of bad rule files.
func CompileWith(files []RuleFile, opts Options) (*Ruleset, error) {
	paths := sigma.NewPaths()
	// The fields the engine itself reads get slots up front, so that engines never add to
	// the table and can share the ruleset across goroutines.
	for _, f := range engineFields {
		paths.Slot(event.MustPath(f))
	}
	for _, keys := range IndexKeys {
		for _, k := range keys {
			paths.Slot(event.MustPath(k))
		}
	}
	var all []*sigma.Rule
	var problems sigma.ErrorList
	bad := map[string]bool{}
	skippedRefs := map[string]string{}
	for _, f := range files {
		rules, errs := sigma.ParseFileWith(f.Name, f.Data, paths, opts.Sigma)
		all = append(all, rules...)
		problems = append(problems, errs...)
		for _, e := range errs {
			bad[f.Name] = true
			for _, ref := range e.Refs {
				skippedRefs[ref] = f.Name
			}
		}
	}
	if len(problems) > 0 && !opts.SkipBad {
		return nil, problems
	}
	for {
		var keep []*sigma.Rule
		for _, r := range all {
			if !bad[r.File] {
				keep = append(keep, r)
				continue
			}
			for _, ref := range []string{r.ID, r.Name} {
				if ref != "" {
					skippedRefs[ref] = r.File
				}
			}
		}
		all = keep
		rs, errs := build(paths, all, skippedRefs)
		if len(errs) == 0 {
			rs.skipped = problems
			return rs, nil
		}
		if !opts.SkipBad {
			return nil, errs
		}
		problems = append(problems, errs...)
		progress := false
		for _, e := range errs {
			if e.File != "" && !bad[e.File] {
				bad[e.File], progress = true, true
			}
		}
		if !progress {
			return nil, problems
		}
	}
}

// build links parsed rules into a ruleset. skippedRefs names the rules of files left out, for
// clearer errors in the rules that reference them.
func build(paths *sigma.Paths, rules []*sigma.Rule, skippedRefs map[string]string) (*Ruleset, sigma.ErrorList) {
	rs := &Ruleset{paths: paths, byRef: map[string]*compiled{},
		index: map[string][]*keyIndex{}, always: map[string][]*compiled{}, skippedRefs: skippedRefs}
	for schema, keys := range IndexKeys {
		for _, k := range keys {
			rs.index[schema] = append(rs.index[schema], &keyIndex{slot: paths.Slot(event.MustPath(k)), rules: map[string][]*compiled{}})
		}
	}
	var errs sigma.ErrorList
	for _, r := range rules {
		c := &compiled{rule: r, n: len(rs.rules)}
		for _, ref := range []string{r.ID, r.Name} {
			if ref == "" {
				continue
			}
			if prev, dup := rs.byRef[ref]; dup {
				errs = append(errs, &sigma.Error{File: r.File, Line: r.Line, Msg: fmt.Sprintf("rule id or name %q is already used by %s:%d", ref, prev.rule.File, prev.rule.Line)})
				continue
			}
			rs.byRef[ref] = c
		}
		rs.rules = append(rs.rules, c)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	for _, c := range rs.rules {
		errs = append(errs, rs.link(c)...)
	}
	if len(errs) == 0 {
		errs = append(errs, rs.checkCycles()...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	for _, c := range rs.rules {
		c.alerts = len(c.parents) == 0
		for _, p := range c.parents {
			if p.corr.rule.Correlation.Generate {
				c.alerts = true
			}
		}
		if c.rule.Detection != nil {
			rs.indexRule(c)
		}
	}
	return rs, nil
}

// Skipped lists the problems of the rule files left out (CompileWith with SkipBad).
func (rs *Ruleset) Skipped() sigma.ErrorList { return append(sigma.ErrorList(nil), rs.skipped...) }

func ruleErr(r *sigma.Rule, format string, args ...any) *sigma.Error {
	return &sigma.Error{File: r.File, Line: r.Line, Msg: fmt.Sprintf(format, args...)}
}

func (rs *Ruleset) slot(f string) fieldRef {
	p, err := event.ParsePath(f)
	if err != nil {
		return fieldRef{name: strings.ToLower(f), slot: -1}
	}
	return fieldRef{name: strings.ToLower(f), slot: rs.paths.Slot(p)}
}

func (rs *Ruleset) link(c *compiled) sigma.ErrorList {
	r := c.rule
	var errs sigma.ErrorList
	if r.Suppression != nil {
		if r.Correlation != nil && len(r.Suppression.GroupBy) > 0 {
			errs = append(errs, ruleErr(r, "suppression of a correlation groups by the correlation's group-by; remove suppression.group-by"))
		}
		for _, g := range r.Suppression.GroupBy {
			c.supSlots = append(c.supSlots, rs.slot(g).slot)
		}
	}
	cor := r.Correlation
	if cor == nil {
		return nil
	}
	for i, ref := range cor.Rules {
		child, ok := rs.byRef[ref]
		if !ok && rs.skippedRefs[ref] != "" {
			errs = append(errs, ruleErr(r, "correlation %q references rule %q of %s, which does not load (see its errors)", r.Title, ref, rs.skippedRefs[ref]))
			continue
		}
		if !ok {
			errs = append(errs, ruleErr(r, "correlation %q references unknown rule %q (give the id or name of a loaded rule)", r.Title, ref))
			continue
		}
		c.children = append(c.children, child)
		dup := false
		for _, p := range child.parents {
			if p.corr == c {
				dup = true
			}
		}
		if dup {
			continue
		}
		link := &parentLink{corr: c, pos: i}
		fieldFor := func(f string) (string, bool) {
			if m, isAlias := cor.Aliases[f]; isAlias {
				if v, ok := m[child.rule.Name]; ok {
					return v, true
				}
				if v, ok := m[child.rule.ID]; ok {
					return v, true
				}
				errs = append(errs, ruleErr(r, "alias %q has no field for rule %q (aliases are keyed by rule name)", f, ref))
				return "", false
			}
			return f, true
		}
		provides := func(f string) bool {
			if child.rule.Correlation == nil {
				return true
			}
			for _, g := range child.rule.Correlation.GroupBy {
				if strings.EqualFold(g, f) {
					return true
				}
			}
			return false
		}
		for _, g := range cor.GroupBy {
			f, ok := fieldFor(g)
			if !ok {
				continue
			}
			if !provides(f) {
				errs = append(errs, ruleErr(r, "correlation groups by %q, which chained correlation %q does not provide (its group-by: %s)", f, ref, strings.Join(child.rule.Correlation.GroupBy, ", ")))
			}
			link.group = append(link.group, rs.slot(f))
		}
		for _, f := range cor.Fields {
			if child.rule.Correlation != nil && !provides(f) {
				errs = append(errs, ruleErr(r, "field %q is not provided by chained correlation %q", f, ref))
			}
			link.values = append(link.values, rs.slot(f))
		}
		if cor.Type == sigma.GeoVelocity {
			if child.rule.Correlation != nil {
				errs = append(errs, ruleErr(r, "geo_velocity needs events with coordinates, not correlation %q", ref))
			}
			link.geo = []fieldRef{rs.slot(cor.Lat), rs.slot(cor.Lon)}
		}
		child.parents = append(child.parents, link)
	}
	if cor.Expr != nil {
		var bad error
		walkIdents(cor.Expr, func(name string) {
			if !contains(cor.Rules, name) && bad == nil {
				bad = fmt.Errorf("condition names %q, which is not in rules", name)
			}
		})
		if bad != nil {
			errs = append(errs, ruleErr(r, "%v", bad))
		}
	}
	return errs
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func walkIdents(c sigma.Cond, fn func(string)) {
	switch t := c.(type) {
	case sigma.CondIdent:
		fn(t.Name)
	case sigma.CondAnd:
		for _, a := range t.Args {
			walkIdents(a, fn)
		}
	case sigma.CondOr:
		for _, a := range t.Args {
			walkIdents(a, fn)
		}
	case sigma.CondNot:
		walkIdents(t.Arg, fn)
	}
}

func (rs *Ruleset) checkCycles() sigma.ErrorList {
	state := make([]int, len(rs.rules)) // 0 new, 1 visiting, 2 done
	var errs sigma.ErrorList
	var visit func(c *compiled) bool
	visit = func(c *compiled) bool {
		switch state[c.n] {
		case 1:
			return false
		case 2:
			return true
		}
		state[c.n] = 1
		for _, ch := range c.children {
			if !visit(ch) {
				if len(errs) == 0 {
					errs = append(errs, ruleErr(c.rule, "correlation %q is part of a reference cycle", c.rule.Title))
				}
				return false
			}
		}
		state[c.n] = 2
		return true
	}
	for _, c := range rs.rules {
		visit(c)
	}
	return errs
}

func (rs *Ruleset) indexRule(c *compiled) {
	schema := c.rule.Logsource.Schema()
	for i, k := range IndexKeys[schema] {
		vals, ok := c.rule.Detection.EqualityConstraint(event.MustPath(k))
		if !ok {
			continue
		}
		ki := rs.index[schema][i]
		for _, v := range vals {
			ki.rules[v] = append(ki.rules[v], c)
		}
		return
	}
	rs.always[schema] = append(rs.always[schema], c)
}

// Rules returns the parsed rules in load order.
func (rs *Ruleset) Rules() []*sigma.Rule {
	out := make([]*sigma.Rule, len(rs.rules))
	for i, c := range rs.rules {
		out[i] = c.rule
	}
	return out
}

// Alerting reports whether the rule raises alerts itself (rules consumed by a correlation
// without generate: true only feed it).
func (rs *Ruleset) Alerting(r *sigma.Rule) bool {
	for _, c := range rs.rules {
		if c.rule == r {
			return c.alerts
		}
	}
	return false
}

// Unindexed counts the detection rules the event-type index cannot narrow, per schema.
func (rs *Ruleset) Unindexed() map[string]int {
	out := map[string]int{}
	for s, l := range rs.always {
		out[s] = len(l)
	}
	return out
}

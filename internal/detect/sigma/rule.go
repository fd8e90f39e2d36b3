// Package sigma parses Sigma detection and correlation rules (specification v2) into
// compiled matchers over event.Fields, with precise file:line errors.
package sigma

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/event"
)

// Rule is one Sigma document: a detection rule or a correlation rule.
type Rule struct {
	File           string
	Line           int
	Title          string
	ID             string
	Name           string
	Status         string
	Description    string
	Author         string
	Level          string // informational, low, medium, high, critical ("" when unset)
	Tags           []string
	FalsePositives []string
	References     []string
	Logsource      Logsource
	Detection      *Detection   // set for detection rules
	Correlation    *Correlation // set for correlation rules
	Suppression    *Suppression // idwatch extension: per-rule alert suppression
	Response       *Response    // idwatch extension: response actions on the alert's user
}

// Key is how other rules and alerts refer to the rule: its id, else its name, else its title.
func (r *Rule) Key() string {
	switch {
	case r.ID != "":
		return r.ID
	case r.Name != "":
		return r.Name
	}
	return r.Title
}

// Logsource says which data a detection rule reads.
type Logsource struct {
	Category string
	Product  string
	Service  string
}

// Schemas a normalized-data rule may select with logsource.category.
var Schemas = []string{"auth", "cloudaudit", "generic"}

// Schema returns "" for rules on raw Okta events, or the normalized schema the rule reads.
func (l Logsource) Schema() string { return l.Category }

// Suppression silences repeats of an alert for the same group within a time window.
type Suppression struct {
	Timespan time.Duration
	GroupBy  []string
}

// Levels are the Sigma levels in increasing severity.
var Levels = []string{"informational", "low", "medium", "high", "critical"}

var (
	tagRe      = regexp.MustCompile(`^[a-z0-9_.-]+$`)
	timespanRe = regexp.MustCompile(`^([0-9]+)([smhdw])$`)
)

// maxRuleFile bounds the size of one rule file.
const maxRuleFile = 1 << 20

// ParseFile parses every document of a rule file. Field paths are registered in paths so
// that an engine can read each field once per event. All problems found are returned as an
// ErrorList, and then no rule is returned.
func ParseFile(file string, data []byte, paths *Paths) ([]*Rule, error) {
	rules, errs := ParseFileWith(file, data, paths, Options{})
	if len(errs) > 0 {
		return nil, errs
	}
	return rules, nil
}

// ParseFileWith parses every document of a rule file with opts. It returns the documents that
// parse and the problems of those that do not, so that one bad rule of a file does not hide
// the others; a file that is not valid YAML yields no rule.
func ParseFileWith(file string, data []byte, paths *Paths, opts Options) ([]*Rule, ErrorList) {
	if len(data) > maxRuleFile {
		return nil, ErrorList{{File: file, Msg: fmt.Sprintf("rule file larger than %d bytes", maxRuleFile)}}
	}
	docs, err := parseYAMLDocs(file, data)
	if err != nil {
		return nil, ErrorList{err.(*Error)}
	}
	if len(docs) == 0 {
		return nil, ErrorList{{File: file, Msg: "no rule in file"}}
	}
	env := &env{paths: paths, opts: opts}
	var rules []*Rule
	var errs ErrorList
	for _, d := range docs {
		r, e := parseRule(file, d, env)
		errs = append(errs, e...)
		if r != nil {
			rules = append(rules, r)
		}
	}
	return rules, errs
}

// env is what compiling one rule needs besides its text.
type env struct {
	paths *Paths
	opts  Options
}

func parseRule(file string, d *node, env *env) (*Rule, ErrorList) {
	if d.kind != kindMap {
		return nil, ErrorList{errorf(file, d, "a rule must be a YAML map, not %s", d.describe())}
	}
	r := &Rule{File: file, Line: d.line}
	var errs ErrorList
	add := func(e *Error) { errs = append(errs, e) }
	str := func(key string, dst *string) {
		v := d.get(key)
		if v == nil || v.kind == kindNull {
			return
		}
		if v.kind != kindScalar {
			add(errorf(file, v, "%s must be a string, not %s", key, v.describe()))
			return
		}
		*dst = v.text
	}
	list := func(key string, dst *[]string) {
		v := d.get(key)
		if v == nil || v.kind == kindNull {
			return
		}
		switch v.kind {
		case kindScalar:
			*dst = []string{v.text}
		case kindSeq:
			for _, it := range v.items {
				if it.kind != kindScalar {
					add(errorf(file, it, "%s items must be strings", key))
					continue
				}
				*dst = append(*dst, it.text)
			}
		default:
			add(errorf(file, v, "%s must be a list of strings", key))
		}
	}
	str("title", &r.Title)
	str("id", &r.ID)
	str("name", &r.Name)
	str("status", &r.Status)
	str("description", &r.Description)
	str("author", &r.Author)
	str("level", &r.Level)
	list("tags", &r.Tags)
	list("falsepositives", &r.FalsePositives)
	list("references", &r.References)
	if r.Title == "" {
		add(errorf(file, d, "rule has no title"))
	} else if len(r.Title) > 256 {
		add(errorf(file, d.get("title"), "title longer than 256 characters"))
	}
	if r.Level != "" {
		r.Level = strings.ToLower(r.Level)
		if !contains(Levels, r.Level) {
			add(errorf(file, d.get("level"), "level %q: use one of %s", r.Level, strings.Join(Levels, ", ")))
		}
	}
	for i, t := range r.Tags {
		if !tagRe.MatchString(t) {
			add(errorf(file, d.get("tags").itemOr(i), "tag %q: tags are lower-case letters, digits, '_', '-' and '.' (e.g. attack.t1078.004)", t))
		}
	}
	if s := d.get("suppression"); s != nil {
		sup, e := parseSuppression(file, s)
		errs = append(errs, e...)
		r.Suppression = sup
	}
	if rs := d.get("response"); rs != nil && rs.kind != kindNull {
		resp, e := parseResponse(file, rs)
		errs = append(errs, e...)
		r.Response = resp
	}
	det, cor := d.get("detection"), d.get("correlation")
	switch {
	case det != nil && cor != nil:
		add(errorf(file, cor, "a rule has either detection or correlation, not both"))
	case det != nil:
		ls := d.get("logsource")
		if ls == nil {
			add(errorf(file, d, "detection rule has no logsource (use product: okta for raw Okta events, or category: auth, cloudaudit or generic for normalized records)"))
		} else if e := parseLogsource(file, ls, &r.Logsource); e != nil {
			add(e)
		}
		dt, e := compileDetection(file, det, env)
		errs = append(errs, e...)
		r.Detection = dt
	case cor != nil:
		c, e := parseCorrelation(file, cor, env.paths)
		errs = append(errs, e...)
		r.Correlation = c
	default:
		add(errorf(file, d, "rule has neither a detection nor a correlation section"))
	}
	if len(errs) > 0 {
		var refs []string
		for _, ref := range []string{r.ID, r.Name} {
			if ref != "" {
				refs = append(refs, ref)
			}
		}
		for _, e := range errs {
			e.Refs = refs
		}
		return nil, errs
	}
	return r, nil
}

func (n *node) itemOr(i int) *node {
	if n != nil && n.kind == kindSeq && i < len(n.items) {
		return n.items[i]
	}
	return n
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func parseLogsource(file string, ls *node, out *Logsource) *Error {
	if ls.kind != kindMap {
		return errorf(file, ls, "logsource must be a map")
	}
	get := func(k string) string {
		if v := ls.get(k); v != nil && v.kind == kindScalar {
			return strings.ToLower(v.text)
		}
		return ""
	}
	out.Category, out.Product, out.Service = get("category"), get("product"), get("service")
	switch {
	case out.Category != "":
		if !contains(Schemas, out.Category) {
			return errorf(file, ls.get("category"), "logsource category %q: idwatch normalizes to auth, cloudaudit and generic", out.Category)
		}
		if out.Product != "" && out.Product != "okta" {
			return errorf(file, ls.get("product"), "logsource product %q: idwatch reads Okta data only (product: okta)", out.Product)
		}
	case out.Product != "okta":
		return errorf(file, ls, "logsource: use product: okta for raw Okta events, or category: auth, cloudaudit or generic for normalized records")
	}
	if out.Service != "" && out.Service != "okta" {
		return errorf(file, ls.get("service"), "logsource service %q: the Okta System Log is service: okta", out.Service)
	}
	return nil
}

// ParseTimespan reads a Sigma timespan such as 30s, 10m, 1h, 7d or 2w.
func ParseTimespan(s string) (time.Duration, error) {
	m := timespanRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("timespan %q: use a number and one of s, m, h, d, w (e.g. 10m)", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n <= 0 || n > 10000 {
		return 0, fmt.Errorf("timespan %q: the number must be between 1 and 10000", s)
	}
	unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
	return time.Duration(n) * unit, nil
}

func parseSuppression(file string, s *node) (*Suppression, ErrorList) {
	out := &Suppression{}
	var errs ErrorList
	switch s.kind {
	case kindScalar:
		d, err := ParseTimespan(s.text)
		if err != nil {
			return nil, ErrorList{errorf(file, s, "suppression: %v", err)}
		}
		out.Timespan = d
	case kindMap:
		for i, k := range s.keys {
			v := s.vals[i]
			switch k {
			case "timespan":
				d, err := ParseTimespan(v.text)
				if err != nil {
					errs = append(errs, errorf(file, v, "suppression: %v", err))
				}
				out.Timespan = d
			case "group-by":
				gb, e := stringList(file, v, "suppression.group-by")
				errs = append(errs, e...)
				for _, g := range gb {
					if _, err := event.ParsePath(g); err != nil {
						errs = append(errs, errorf(file, v, "suppression.group-by: %v", err))
					}
				}
				out.GroupBy = gb
			default:
				errs = append(errs, errorf(file, v, "suppression: unknown key %q (timespan, group-by)", k))
			}
		}
		if out.Timespan == 0 && len(errs) == 0 {
			errs = append(errs, errorf(file, s, "suppression needs a timespan"))
		}
	default:
		errs = append(errs, errorf(file, s, "suppression must be a timespan or a map with timespan and group-by"))
	}
	return out, errs
}

func stringList(file string, v *node, what string) ([]string, ErrorList) {
	switch v.kind {
	case kindScalar:
		return []string{v.text}, nil
	case kindSeq:
		var out []string
		var errs ErrorList
		for _, it := range v.items {
			if it.kind != kindScalar || it.text == "" {
				errs = append(errs, errorf(file, it, "%s items must be non-empty strings", what))
				continue
			}
			out = append(out, it.text)
		}
		return out, errs
	}
	return nil, ErrorList{errorf(file, v, "%s must be a string or a list of strings", what)}
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

package sigma

import (
	"fmt"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/event"
)

// Correlation types: the four of the Sigma specification and idwatch's extensions.
const (
	EventCount      = "event_count"
	ValueCount      = "value_count"
	Temporal        = "temporal"
	TemporalOrdered = "temporal_ordered"
	Absence         = "absence"      // idwatch: rules[0] not followed by rules[1] within timespan
	FirstSeen       = "first_seen"   // idwatch: a value new for its group against a baseline
	GeoVelocity     = "geo_velocity" // idwatch: speed between consecutive locations of a group
)

// CorrelationTypes lists the supported correlation types.
var CorrelationTypes = []string{EventCount, ValueCount, Temporal, TemporalOrdered, Absence, FirstSeen, GeoVelocity}

// Correlation is a parsed correlation section.
type Correlation struct {
	Type     string
	Rules    []string // referenced rule ids or names, as written
	GroupBy  []string
	Timespan time.Duration
	Cond     CountCond
	// Expr is the boolean condition of a temporal correlation over rule names ("a and b").
	Expr Cond
	// Fields are the value_count / first_seen fields (the tuple of their values counts).
	Fields []string
	// Aliases maps an alias used in GroupBy to the field per referenced rule name.
	Aliases  map[string]map[string]string
	Generate bool
	// Lat and Lon are the geo_velocity coordinate fields; MinDistanceKm ignores short hops.
	Lat, Lon      string
	MinDistanceKm float64
	// Learning is how long first_seen only learns, without alerting, from the first event.
	Learning time.Duration
}

// CountCond is a correlation condition on a number: every bound that is set must hold.
type CountCond struct {
	GT, GTE, LT, LTE, EQ, NEQ *float64
}

// Set reports whether any bound is set.
func (c CountCond) Set() bool {
	return c.GT != nil || c.GTE != nil || c.LT != nil || c.LTE != nil || c.EQ != nil || c.NEQ != nil
}

// Monotone reports whether the condition only has lower bounds, so it can be decided as soon
// as it holds, without waiting for the window to close.
func (c CountCond) Monotone() bool {
	return c.LT == nil && c.LTE == nil && c.EQ == nil && c.NEQ == nil
}

// Holds evaluates the condition on n.
func (c CountCond) Holds(n float64) bool {
	switch {
	case c.GT != nil && !(n > *c.GT), c.GTE != nil && !(n >= *c.GTE),
		c.LT != nil && !(n < *c.LT), c.LTE != nil && !(n <= *c.LTE),
		c.EQ != nil && n != *c.EQ, c.NEQ != nil && n == *c.NEQ:
		return false
	}
	return true
}

// String renders the condition for alert details.
func (c CountCond) String() string {
	var parts []string
	add := func(op string, v *float64) {
		if v != nil {
			parts = append(parts, fmt.Sprintf("%s %g", op, *v))
		}
	}
	add(">", c.GT)
	add(">=", c.GTE)
	add("<", c.LT)
	add("<=", c.LTE)
	add("==", c.EQ)
	add("!=", c.NEQ)
	return strings.Join(parts, " and ")
}

// Default coordinate fields of an Okta event.
const (
	DefaultLat = "client.geographicalContext.geolocation.lat"
	DefaultLon = "client.geographicalContext.geolocation.lon"
)

func parseCorrelation(file string, cn *node, paths *Paths) (*Correlation, ErrorList) {
	if cn.kind != kindMap {
		return nil, ErrorList{errorf(file, cn, "correlation must be a map")}
	}
	c := &Correlation{}
	var errs ErrorList
	add := func(n *node, format string, args ...any) { errs = append(errs, errorf(file, n, format, args...)) }
	var condNode, fieldNode *node
	for i, k := range cn.keys {
		v := cn.vals[i]
		switch k {
		case "type":
			c.Type = strings.ToLower(v.text)
			if !contains(CorrelationTypes, c.Type) {
				add(v, "correlation type %q: use one of %s", v.text, strings.Join(CorrelationTypes, ", "))
			}
		case "rules":
			l, e := stringList(file, v, "correlation.rules")
			errs = append(errs, e...)
			c.Rules = l
		case "group-by":
			l, e := stringList(file, v, "correlation.group-by")
			errs = append(errs, e...)
			c.GroupBy = l
		case "timespan":
			d, err := ParseTimespan(v.text)
			if err != nil {
				add(v, "correlation.%v", err)
			}
			c.Timespan = d
		case "condition":
			condNode = v
		case "field":
			fieldNode = v
		case "aliases":
			c.Aliases, errs = parseAliases(file, v, errs)
		case "generate":
			b, ok := v.value.(bool)
			if !ok {
				add(v, "correlation.generate must be true or false")
			}
			c.Generate = b
		case "lat":
			c.Lat = v.text
		case "lon":
			c.Lon = v.text
		case "min-distance":
			f, ok := event.Number(v.value)
			if !ok || !finite(f) || f < 0 {
				add(v, "correlation.min-distance must be a non-negative number of kilometres")
			}
			c.MinDistanceKm = f
		case "learning":
			d, err := ParseTimespan(v.text)
			if err != nil {
				add(v, "correlation.learning: %v", err)
			}
			c.Learning = d
		default:
			add(v, "correlation: unknown key %q", k)
		}
	}
	if c.Type == "" {
		add(cn, "correlation has no type (%s)", strings.Join(CorrelationTypes, ", "))
	}
	if len(c.Rules) == 0 {
		add(cn, "correlation.rules must name at least one rule")
	}
	if c.Timespan == 0 && cn.get("timespan") == nil {
		add(cn, "correlation has no timespan")
	}
	if condNode != nil {
		errs = append(errs, c.parseCondition(file, condNode, &fieldNode)...)
	}
	if fieldNode != nil {
		l, e := stringList(file, fieldNode, "correlation field")
		errs = append(errs, e...)
		c.Fields = l
	}
	for _, f := range append(append([]string{}, c.Fields...), c.GroupBy...) {
		if _, isAlias := c.Aliases[f]; isAlias {
			continue
		}
		if p, err := event.ParsePath(f); err != nil {
			add(cn, "correlation field %q: %v", f, err)
		} else {
			paths.Slot(p)
		}
	}
	switch c.Type {
	case EventCount:
		if !c.Cond.Set() {
			add(cn, "event_count needs a condition such as gte: 10")
		}
	case ValueCount:
		if !c.Cond.Set() || len(c.Fields) == 0 {
			add(cn, "value_count needs a condition with field and a bound, e.g. {field: actor.alternateId, gte: 5}")
		}
	case Temporal, TemporalOrdered:
		if len(c.Rules) < 2 {
			add(cn, "%s needs at least two rules", c.Type)
		}
	case Absence:
		if len(c.Rules) != 2 {
			add(cn, "absence needs exactly two rules: the event, then the one expected to follow it")
		}
		if len(c.GroupBy) == 0 {
			add(cn, "absence needs group-by to tie the follow-up to its event")
		}
	case FirstSeen:
		if len(c.Fields) == 0 || len(c.GroupBy) == 0 {
			add(cn, "first_seen needs field (the value to learn) and group-by (whose baseline)")
		}
	case GeoVelocity:
		if len(c.GroupBy) == 0 {
			add(cn, "geo_velocity needs group-by (usually the user)")
		}
		if !c.Cond.Set() {
			add(cn, "geo_velocity needs a speed condition in km/h, e.g. gt: 900")
		}
		if c.Lat == "" {
			c.Lat = DefaultLat
		}
		if c.Lon == "" {
			c.Lon = DefaultLon
		}
		for _, f := range []string{c.Lat, c.Lon} {
			if p, err := event.ParsePath(f); err != nil {
				add(cn, "geo_velocity coordinate field %q: %v", f, err)
			} else {
				paths.Slot(p)
			}
		}
	}
	if c.Type != GeoVelocity && (c.Lat != "" || c.Lon != "" || c.MinDistanceKm != 0) {
		add(cn, "lat, lon and min-distance apply to geo_velocity only")
	}
	if c.Type != FirstSeen && c.Learning != 0 {
		add(cn, "learning applies to first_seen only")
	}
	if c.Type != Temporal && c.Type != TemporalOrdered && c.Expr != nil {
		add(condNode, "a condition expression over rule names applies to temporal and temporal_ordered correlations only")
	}
	return c, errs
}

func (c *Correlation) parseCondition(file string, cn *node, fieldNode **node) ErrorList {
	var errs ErrorList
	if cn.kind == kindScalar {
		s, _ := cn.value.(string)
		x, err := ParseCondition(s)
		if err != nil {
			return ErrorList{condErr(file, cn, err)}
		}
		c.Expr = x
		return nil
	}
	if cn.kind != kindMap {
		return ErrorList{errorf(file, cn, "correlation condition must be a map such as {gte: 10}")}
	}
	for i, k := range cn.keys {
		v := cn.vals[i]
		if k == "field" {
			*fieldNode = v
			continue
		}
		f, ok := event.Number(v.value)
		if _, isStr := v.value.(string); isStr || !ok || !finite(f) {
			errs = append(errs, errorf(file, v, "condition %s must be a number", k))
			continue
		}
		p := &f
		switch k {
		case "gt":
			c.Cond.GT = p
		case "gte":
			c.Cond.GTE = p
		case "lt":
			c.Cond.LT = p
		case "lte":
			c.Cond.LTE = p
		case "eq":
			c.Cond.EQ = p
		case "neq":
			c.Cond.NEQ = p
		default:
			errs = append(errs, errorf(file, v, "condition: unknown key %q (gt, gte, lt, lte, eq, neq, field)", k))
		}
	}
	return errs
}

func parseAliases(file string, v *node, errs ErrorList) (map[string]map[string]string, ErrorList) {
	if v.kind != kindMap {
		return nil, append(errs, errorf(file, v, "aliases must map an alias to {rule name: field}"))
	}
	out := map[string]map[string]string{}
	for i, alias := range v.keys {
		m := v.vals[i]
		if m.kind != kindMap {
			errs = append(errs, errorf(file, m, "alias %q must map rule names to fields", alias))
			continue
		}
		out[alias] = map[string]string{}
		for j, rule := range m.keys {
			f := m.vals[j]
			if f.kind != kindScalar || f.text == "" {
				errs = append(errs, errorf(file, f, "alias %q: the field for rule %q must be a string", alias, rule))
				continue
			}
			if _, err := event.ParsePath(f.text); err != nil {
				errs = append(errs, errorf(file, f, "alias %q: %v", alias, err))
				continue
			}
			out[alias][rule] = f.text
		}
	}
	return out, errs
}

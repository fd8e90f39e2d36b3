package sigma

import (
	"sort"
	"strings"

	"github.com/idwatch/idwatch/internal/event"
)

// EqualityConstraint returns the lower-cased values that the field at p must equal for the
// detection to match, and false when the detection can match without such a value (so the
// engine cannot index it by that field).
func (d *Detection) EqualityConstraint(p event.Path) ([]string, bool) {
	key := strings.Join(p.Segments(), ".")
	selCons := make([][]string, len(d.sels))
	selOK := make([]bool, len(d.sels))
	for i, s := range d.sels {
		selCons[i], selOK[i] = s.constraint(key)
	}
	set, ok := d.constraint(d.ast, selCons, selOK)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	sort.Strings(out)
	return out, true
}

func (s *selection) constraint(key string) ([]string, bool) {
	var all []string
	for _, g := range s.groups {
		found := false
		for _, fm := range g {
			if fm.path == key && fm.eq != nil {
				all = append(all, fm.eq...)
				found = true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return all, len(s.groups) > 0
}

func (d *Detection) constraint(c Cond, selCons [][]string, selOK []bool) (map[string]bool, bool) {
	toSet := func(vs []string) map[string]bool {
		m := make(map[string]bool, len(vs))
		for _, v := range vs {
			m[v] = true
		}
		return m
	}
	union := func(parts []Cond) (map[string]bool, bool) {
		out := map[string]bool{}
		for _, a := range parts {
			s, ok := d.constraint(a, selCons, selOK)
			if !ok {
				return nil, false
			}
			for v := range s {
				out[v] = true
			}
		}
		return out, true
	}
	intersectAny := func(parts []Cond) (map[string]bool, bool) {
		var best map[string]bool
		for _, a := range parts {
			if s, ok := d.constraint(a, selCons, selOK); ok && (best == nil || len(s) < len(best)) {
				best = s
			}
		}
		return best, best != nil
	}
	switch t := c.(type) {
	case CondIdent:
		i := d.index(t.Name)
		if !selOK[i] {
			return nil, false
		}
		return toSet(selCons[i]), true
	case CondOr:
		return union(t.Args)
	case CondAnd:
		return intersectAny(t.Args)
	case CondOf:
		idx := d.ofTargets(t)
		parts := make([]Cond, len(idx))
		for i, j := range idx {
			parts[i] = CondIdent{Name: d.names[j]}
		}
		if t.All || t.N >= len(parts) {
			return intersectAny(parts)
		}
		return union(parts)
	}
	return nil, false
}

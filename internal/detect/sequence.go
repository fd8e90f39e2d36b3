package detect

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/detect/sigma"
	"github.com/idwatch/idwatch/internal/event"
)

// correlationHit turns completed evidence into a match of the correlation rule: an alert if
// the rule alerts, and input for correlations chained on it.
func (e *Engine) correlationHit(st *ruleState, g *group, used []entry, measure float64, detail string) {
	cor := st.c.rule.Correlation
	sort.SliceStable(used, func(i, j int) bool { return used[i].t.Before(used[j].t) })
	m := &match{rule: st.c, group: g.kvs, first: used[0].t, t: used[len(used)-1].t}
	for _, u := range used {
		if u.uuid != "" {
			m.uuids = append(m.uuids, u.uuid)
		}
	}
	m.anchor = used[0].uuid + "|" + used[0].t.Format(time.RFC3339Nano)
	if detail == "" {
		switch cor.Type {
		case sigma.EventCount:
			detail = fmt.Sprintf("%g events within %s (condition %s)", measure, span(cor.Timespan), cor.Cond)
		case sigma.ValueCount:
			detail = fmt.Sprintf("%g distinct %s within %s (condition %s)", measure, strings.Join(cor.Fields, "+"), span(cor.Timespan), cor.Cond)
		case sigma.Temporal:
			detail = fmt.Sprintf("%g of the correlated rules within %s", measure, span(cor.Timespan))
		case sigma.TemporalOrdered:
			detail = fmt.Sprintf("the correlated rules in order within %s", span(cor.Timespan))
		}
	}
	m.detail = detail
	e.matched(m)
}

// rulePresence returns which rule positions have an entry in es.
func rulePresence(n int, es []entry) []bool {
	p := make([]bool, n)
	for _, x := range es {
		p[x.pos] = true
	}
	return p
}

// temporalAdd handles temporal and temporal_ordered correlations.
func (e *Engine) temporalAdd(st *ruleState, g *group, ent entry) {
	cor := st.c.rule.Correlation
	g.entries = e.insert(st, g.entries, ent)
	n := len(cor.Rules)
	windowsContaining(g.entries, ent.t, cor.Timespan, func(es []entry) bool {
		var used []entry
		var measure float64
		if cor.Type == sigma.TemporalOrdered {
			used = orderedChain(es, n, cor.Timespan)
			measure = float64(n)
		} else {
			present := rulePresence(n, es)
			cnt := 0
			for _, p := range present {
				if p {
					cnt++
				}
			}
			measure = float64(cnt)
			ok := cnt == n
			switch {
			case cor.Expr != nil:
				ok = evalNames(cor.Expr, cor.Rules, present)
			case cor.Cond.Set():
				ok = cor.Cond.Holds(float64(cnt))
			}
			if ok {
				used = latestPerRule(es, n)
			}
		}
		if len(used) == 0 {
			return false
		}
		e.correlationHit(st, g, used, measure, "")
		e.removeEntries(st, g, used)
		return true
	})
}

// latestPerRule picks the newest entry of each rule present.
func latestPerRule(es []entry, n int) []entry {
	best := make([]int, n)
	for i := range best {
		best[i] = -1
	}
	for i, x := range es {
		best[x.pos] = i
	}
	var out []entry
	for _, i := range best {
		if i >= 0 {
			out = append(out, es[i])
		}
	}
	return out
}

// orderedChain finds entries of rules 0..n-1 in time order spanning at most span, or nil.
func orderedChain(es []entry, n int, span time.Duration) []entry {
	for i, start := range es {
		if start.pos != 0 {
			continue
		}
		chain := []entry{start}
		j := i + 1
		for want := 1; want < n; want++ {
			for j < len(es) && es[j].pos != want {
				j++
			}
			if j == len(es) || es[j].t.Sub(start.t) > span {
				chain = nil
				break
			}
			chain = append(chain, es[j])
			j++
		}
		if len(chain) == n {
			return chain
		}
	}
	return nil
}

// evalNames evaluates a temporal condition expression given which rules were seen.
func evalNames(c sigma.Cond, names []string, present []bool) bool {
	switch t := c.(type) {
	case sigma.CondIdent:
		for i, n := range names {
			if n == t.Name && present[i] {
				return true
			}
		}
		return false
	case sigma.CondAnd:
		for _, a := range t.Args {
			if !evalNames(a, names, present) {
				return false
			}
		}
		return true
	case sigma.CondOr:
		for _, a := range t.Args {
			if evalNames(a, names, present) {
				return true
			}
		}
		return false
	case sigma.CondNot:
		return !evalNames(t.Arg, names, present)
	case sigma.CondOf:
		cnt := 0
		for i, n := range names {
			if present[i] && (t.Pattern == "" || matchName(t.Pattern, n)) {
				cnt++
			}
		}
		if t.All {
			total := 0
			for _, n := range names {
				if t.Pattern == "" || matchName(t.Pattern, n) {
					total++
				}
			}
			return cnt == total
		}
		return cnt >= t.N
	}
	return false
}

func matchName(pattern, name string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == name
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	rest := name[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return strings.HasSuffix(rest, parts[len(parts)-1])
}

// absenceAdd handles the idwatch absence correlation: rules[0] opens a deadline, rules[1]
// for the same group within the timespan after it closes it.
func (e *Engine) absenceAdd(st *ruleState, g *group, ent entry) {
	span := st.c.rule.Correlation.Timespan
	if ent.pos == 0 {
		// A follow-up may have arrived before its (late) trigger.
		for _, f := range window(g.entries, ent.t, ent.t.Add(span)) {
			if f.pos == 1 {
				return
			}
		}
		g.pending = e.insert(st, g.pending, ent)
		return
	}
	kept := g.pending[:0]
	for _, p := range g.pending {
		if !ent.t.Before(p.t) && !ent.t.After(p.t.Add(span)) {
			st.entries--
			continue
		}
		kept = append(kept, p)
	}
	g.pending = kept
	g.entries = e.insert(st, g.entries, ent)
}

// absenceExpire fires the deadlines the watermark passed.
func (e *Engine) absenceExpire(st *ruleState, g *group) {
	cor := st.c.rule.Correlation
	for len(g.pending) > 0 {
		p := g.pending[0]
		deadline := p.t.Add(cor.Timespan)
		if !deadline.Before(e.watermark) {
			return
		}
		g.pending = g.pending[1:]
		st.entries--
		used := []entry{p}
		e.correlationHit(st, g, used, 0, fmt.Sprintf("no %s within %s after %s", cor.Rules[1], span(cor.Timespan), p.t.Format(time.RFC3339)))
	}
}

// geoAdd handles the idwatch geo_velocity correlation: the speed between an event and its
// neighbours in time for the same group.
func (e *Engine) geoAdd(st *ruleState, g *group, ent entry) {
	cor := st.c.rule.Correlation
	g.entries = e.insert(st, g.entries, ent)
	i := -1
	for k := range g.entries {
		if g.entries[k] == ent {
			i = k
			break
		}
	}
	if i < 0 {
		return // dropped by the cap
	}
	for _, j := range []int{i - 1, i + 1} {
		if j < 0 || j >= len(g.entries) {
			continue
		}
		a, b := g.entries[j], ent
		if b.t.Before(a.t) {
			a, b = b, a
		}
		dt := b.t.Sub(a.t)
		if dt > cor.Timespan {
			continue
		}
		km := haversineKm(a.lat, a.lon, b.lat, b.lon)
		if km < cor.MinDistanceKm || km == 0 {
			continue
		}
		speed := math.Inf(1)
		if dt > 0 {
			speed = km / dt.Hours()
		}
		if !cor.Cond.Holds(speed) {
			continue
		}
		detail := fmt.Sprintf("%.0f km in %s (%.0f km/h)", km, dt.Round(time.Second), speed)
		if math.IsInf(speed, 1) {
			detail = fmt.Sprintf("%.0f km apart at the same instant", km)
		}
		e.correlationHit(st, g, []entry{a, b}, speed, detail)
		return
	}
}

// haversineKm is the great-circle distance between two points on Earth.
func haversineKm(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0
	rad := math.Pi / 180
	dlat := (lat2 - lat1) * rad
	dlon := (lon2 - lon1) * rad
	h := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
}

func numberOf(v any) (float64, bool) {
	f, ok := event.Number(v)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// firstSeen handles the idwatch first_seen correlation against the persisted baseline.
func (e *Engine) firstSeen(st *ruleState, key string, kvs []KV, ent entry, m *match) {
	cor := st.c.rule.Correlation
	rule := st.c.rule.Key()
	b := e.cfg.Baseline
	observe := func(k, v string) (Seen, bool) {
		s, ok := b.Get(rule, k, v)
		ns := s
		if !ok || ent.t.Before(ns.First) {
			ns.First = ent.t
		}
		if ent.t.After(ns.Last) {
			ns.Last = ent.t
		}
		if !ok || ns != s {
			b.Put(rule, k, v, ns)
		}
		return s, ok
	}
	start, _ := observe("", "")
	keyRec, keyKnown := observe(key, "")
	rec, known := observe(key, ent.value)
	switch {
	case !keyKnown || !ent.t.After(keyRec.First):
		return // the key itself is new: its first values are its baseline
	case cor.Learning > 0 && ent.t.Before(start.First.Add(cor.Learning)):
		return
	case known && rec.First.Before(ent.t) && !rec.Last.Before(ent.t.Add(-cor.Timespan)):
		return // seen before, recently enough
	case known && rec.First.Before(ent.t) && rec.Last.After(ent.t):
		return // a later sighting exists; this is a late arrival
	}
	g := &group{key: key, kvs: kvs}
	shown := strings.ReplaceAll(ent.value, "\x1f", ", ")
	e.correlationHit(st, g, []entry{ent}, 1, fmt.Sprintf("%s %q not seen for this %s in the last %s", strings.Join(cor.Fields, "+"), shown, strings.Join(cor.GroupBy, "+"), span(cor.Timespan)))
}

// span renders a timespan the way rules write it (90d, 12h, 30m, 45s).
func span(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

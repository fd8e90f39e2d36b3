package normalize

import (
	"slices"
	"strings"

	"github.com/idwatch/idwatch/internal/event"
)

// ParseKV parses Okta's Java-map rendering used by debugData.behaviors and debugData.risk:
// "{New Device=POSITIVE, New IP=NEGATIVE}" or "{reasons=Anomalous Device, New IP, level=HIGH}".
// A comma-separated piece without "=" continues the previous value (risk reasons contain
// commas). ok is false when s does not look like such a map, so the caller keeps the string.
func ParseKV(s string) (m map[string]any, ok bool) {
	var buf [8]kvPair
	pairs, ok := parseKVPairs(s, buf[:0])
	if !ok {
		return nil, false
	}
	m = make(map[string]any, len(pairs))
	for _, p := range pairs {
		m[p.k] = p.v
	}
	return m, true
}

// kvPair is one member of a Java map rendering: its value is v, continued by more (the pieces
// without "=" that followed it, each after a comma).
type kvPair struct {
	k, v string
	more []string
}

// parseKVPairs parses like ParseKV into pairs appended to buf, sorted by key, each key once (the
// last assignment wins, as in a map), so that encoding needs no map.
func parseKVPairs(s string, buf []kvPair) ([]kvPair, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, false
	}
	body := strings.TrimSpace(s[1 : len(s)-1])
	pairs := buf
	if body == "" {
		return pairs, true
	}
	// Linear in the text however it is made: continuations are joined once at the end, and
	// a repeated key is found through an index once there are more than a few.
	last := -1
	var index map[string]int
	for piece := range strings.SplitSeq(body, ",") {
		k, v, found := strings.Cut(piece, "=")
		k = strings.TrimSpace(k)
		if !found || k == "" {
			if last < 0 {
				return nil, false
			}
			pairs[last].more = append(pairs[last].more, piece)
			continue
		}
		if index != nil {
			var ok bool
			if last, ok = index[k]; !ok {
				last = -1
			}
		} else {
			last = slices.IndexFunc(pairs, func(p kvPair) bool { return p.k == k })
		}
		if last < 0 {
			last = len(pairs)
			pairs = append(pairs, kvPair{k: k})
			if index != nil {
				index[k] = last
			} else if len(pairs) > 16 {
				index = make(map[string]int, 2*len(pairs))
				for i, p := range pairs {
					index[p.k] = i
				}
			}
		}
		pairs[last].v, pairs[last].more = strings.TrimSpace(v), pairs[last].more[:0]
	}
	for i := range pairs {
		if p := &pairs[i]; len(p.more) > 0 {
			p.v = p.v + "," + strings.Join(p.more, ",")
		}
		pairs[i].v = strings.TrimSpace(pairs[i].v)
	}
	slices.SortFunc(pairs, func(a, b kvPair) int { return strings.Compare(a.k, b.k) })
	return pairs, true
}

// writeStructured writes member k (level 4 of unmapped) as parseStructured's result, writing a
// Java map rendering straight from its pairs when they are within MaxMembers.
func writeStructured(b *bounded, k string, v any) {
	w := b.w
	if s, ok := v.(string); ok && !isJSONObjectText(strings.TrimSpace(s)) {
		var buf [8]kvPair
		if pairs, ok := parseKVPairs(s, buf[:0]); ok && len(pairs) <= MaxMembers {
			w.Key(k)
			w.Open()
			for _, p := range pairs {
				w.Key(p.k)
				w.B = event.AppendString(w.B, p.v)
			}
			w.Close()
			return
		}
	}
	b.member(k, parseStructured(v), 4)
}

// isJSONObjectText reports whether parseStructured reads trimmed text t as JSON.
func isJSONObjectText(t string) bool { return strings.HasPrefix(t, "{\"") || t == "{}" }

// parseStructured returns the structured form of a debugData string that encodes one: a Java map
// rendering or a JSON object (logOnlySecurityData). Anything else comes back unchanged.
func parseStructured(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	t := strings.TrimSpace(s)
	if isJSONObjectText(t) {
		if v, err := event.ParseValue([]byte(t)); err == nil {
			return v
		}
	}
	if m, ok := ParseKV(t); ok {
		return m
	}
	return v
}

// riskLevel finds the highest Okta risk level (LOW, MEDIUM, HIGH) among debugData.risk (a Java
// map string), logOnlySecurityData (a JSON string with risk.level) and securityContext.risk (an
// object). It reads the strings without parsing them whole: this runs for every event.
func riskLevel(vals ...any) string {
	best, bestRank := "", 0
	for _, v := range vals {
		var lvl string
		switch t := v.(type) {
		case string:
			lvl = levelInText(t)
		case map[string]any:
			if r, ok := t["risk"].(map[string]any); ok {
				t = r
			}
			lvl, _ = t["level"].(string)
		}
		lvl = strings.ToUpper(strings.TrimSpace(lvl))
		if r := riskRank[lvl]; r > bestRank {
			best, bestRank = lvl, r
		}
	}
	return best
}

// levelInText returns the value of "level" in "{reasons=…, level=HIGH}" or in
// {"risk":{"level":"HIGH"},…}.
func levelInText(s string) string {
	if i := strings.Index(s, `"level"`); i >= 0 {
		rest := strings.TrimLeft(s[i+len(`"level"`):], " \t\r\n")
		if rest, ok := strings.CutPrefix(rest, ":"); ok {
			rest = strings.TrimLeft(rest, " \t\r\n")
			if rest, ok := strings.CutPrefix(rest, `"`); ok {
				v, _, _ := strings.Cut(rest, `"`)
				return v
			}
		}
		return ""
	}
	for rest := s; ; {
		i := strings.Index(rest, "level=")
		if i < 0 {
			return ""
		}
		if i == 0 || rest[i-1] == '{' || rest[i-1] == ' ' || rest[i-1] == ',' {
			v := rest[i+len("level="):]
			if j := strings.IndexAny(v, ",}"); j >= 0 {
				v = v[:j]
			}
			return v
		}
		rest = rest[i+1:]
	}
}

var riskRank = map[string]int{"LOW": 2, "MEDIUM": 3, "HIGH": 4}

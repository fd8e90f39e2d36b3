package normalize

import (
	"strings"

	"github.com/idwatch/idwatch/internal/event"
)

// ParseKV parses Okta's Java-map rendering used by debugData.behaviors and debugData.risk:
// "{New Device=POSITIVE, New IP=NEGATIVE}" or "{reasons=Anomalous Device, New IP, level=HIGH}".
// A comma-separated piece without "=" continues the previous value (risk reasons contain
// commas). ok is false when s does not look like such a map, so the caller keeps the string.
func ParseKV(s string) (m map[string]any, ok bool) {
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, false
	}
	body := strings.TrimSpace(s[1 : len(s)-1])
	m = map[string]any{}
	if body == "" {
		return m, true
	}
	last := ""
	for piece := range strings.SplitSeq(body, ",") {
		k, v, found := strings.Cut(piece, "=")
		k = strings.TrimSpace(k)
		if !found || k == "" {
			if last == "" {
				return nil, false
			}
			m[last] = m[last].(string) + "," + piece
			continue
		}
		m[k] = strings.TrimSpace(v)
		last = k
	}
	for k, v := range m {
		m[k] = strings.TrimSpace(v.(string))
	}
	return m, true
}

// parseStructured returns the structured form of a debugData string that encodes one: a Java map
// rendering or a JSON object (logOnlySecurityData). Anything else comes back unchanged.
func parseStructured(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "{\"") || t == "{}" {
		if v, err := event.ParseValue([]byte(t)); err == nil {
			return v
		}
	}
	if m, ok := ParseKV(t); ok {
		return m
	}
	return v
}

// riskLevel finds the Okta risk level (LOW, MEDIUM, HIGH) in parsed debug data or the security
// context, highest first.
func riskLevel(vals ...any) string {
	best, bestRank := "", 0
	for _, v := range vals {
		m, ok := v.(map[string]any)
		if !ok {
			continue
		}
		if r, ok := m["risk"].(map[string]any); ok { // logOnlySecurityData nests it
			m = r
		}
		lvl, _ := m["level"].(string)
		if r := riskRank[strings.ToUpper(lvl)]; r > bestRank {
			best, bestRank = strings.ToUpper(lvl), r
		}
	}
	return best
}

var riskRank = map[string]int{"LOW": 2, "MEDIUM": 3, "HIGH": 4}

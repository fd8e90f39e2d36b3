package normalize

import (
	"strings"

	"github.com/idwatch/idwatch/internal/event"
)

// writeStructured writes member k (level 4 of unmapped) as event.ParseStructured's result, writing
// a Java map rendering straight from its pairs when they are within MaxMembers.
func writeStructured(b *bounded, k string, v any) {
	w := b.w
	if s, ok := v.(string); ok && !event.IsJSONObjectText(strings.TrimSpace(s)) {
		var buf [8]event.KVPair
		if pairs, ok := event.ParseKVPairs(s, buf[:0]); ok && len(pairs) <= MaxMembers {
			w.Key(k)
			w.Open()
			for _, p := range pairs {
				w.Key(p.K)
				w.B = event.AppendString(w.B, p.V)
			}
			w.Close()
			return
		}
	}
	b.member(k, event.ParseStructured(v), 4)
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

package event

import (
	"slices"
	"strings"
)

// ParseKV parses Okta's Java-map rendering used by debugData.behaviors and debugData.risk:
// "{New Device=POSITIVE, New IP=NEGATIVE}" or "{reasons=Anomalous Device, New IP, level=HIGH}".
// A comma-separated piece without "=" continues the previous value (risk reasons contain
// commas). ok is false when s does not look like such a map, so the caller keeps the string.
func ParseKV(s string) (m map[string]any, ok bool) {
	var buf [8]KVPair
	pairs, ok := ParseKVPairs(s, buf[:0])
	if !ok {
		return nil, false
	}
	m = make(map[string]any, len(pairs))
	for _, p := range pairs {
		m[p.K] = p.V
	}
	return m, true
}

// KVPair is one member of a Java map rendering.
type KVPair struct {
	K, V string
	// more holds the pieces without "=" that continued V, each after a comma, joined at the end.
	more []string
}

// ParseKVPairs parses like ParseKV into pairs appended to buf, sorted by key, each key once (the
// last assignment wins, as in a map), so that encoding needs no map.
func ParseKVPairs(s string, buf []KVPair) ([]KVPair, bool) {
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
			last = slices.IndexFunc(pairs, func(p KVPair) bool { return p.K == k })
		}
		if last < 0 {
			last = len(pairs)
			pairs = append(pairs, KVPair{K: k})
			if index != nil {
				index[k] = last
			} else if len(pairs) > 16 {
				index = make(map[string]int, 2*len(pairs))
				for i, p := range pairs {
					index[p.K] = i
				}
			}
		}
		pairs[last].V, pairs[last].more = strings.TrimSpace(v), pairs[last].more[:0]
	}
	for i := range pairs {
		p := &pairs[i]
		if len(p.more) > 0 {
			p.V = p.V + "," + strings.Join(p.more, ",")
		}
		p.V, p.more = strings.TrimSpace(p.V), nil
	}
	slices.SortFunc(pairs, func(a, b KVPair) int { return strings.Compare(a.K, b.K) })
	return pairs, true
}

// IsJSONObjectText reports whether ParseStructured reads trimmed text t as JSON.
func IsJSONObjectText(t string) bool { return strings.HasPrefix(t, "{\"") || t == "{}" }

// ParseStructured returns the structured form of a debugData string that encodes one: a Java map
// rendering or a JSON object (logOnlySecurityData). Anything else comes back unchanged.
func ParseStructured(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	t := strings.TrimSpace(s)
	if IsJSONObjectText(t) {
		if v, err := ParseValue([]byte(t)); err == nil {
			return v
		}
	}
	if m, ok := ParseKV(t); ok {
		return m
	}
	return v
}

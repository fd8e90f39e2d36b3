package event

import (
	"slices"
	"strings"
)

// Okta writes three debugData members as a string that holds a structure: logOnlySecurityData
// as JSON text, behaviors and risk as a Java map rendering ({New Device=POSITIVE, New IP=NEGATIVE}).
// Exports and other tools often write the structure itself. Rules are written against Okta's
// form (SigmaHQ's and ours match logOnlySecurityData|contains: '"level":"HIGH"'), so the field
// reader gives either form the same meaning: the member itself reads as Okta's string, and a
// path into it (logOnlySecurityData.risk.level) reads inside the structure.

// Kinds of dual-form member.
const (
	formNone = iota
	formJSON
	formJavaMap
)

// dualForm returns the kind of the debugData member named by lower-cased seg.
func dualForm(seg string) int {
	switch seg {
	case "logonlysecuritydata":
		return formJSON
	case "behaviors", "risk":
		return formJavaMap
	}
	return formNone
}

// eachDebugData walks debugData dd along segs (lower-cased; orig as written, or nil) with the
// dual-form members read as described above.
func eachDebugData(dd map[string]any, segs, orig []string, fn func(any) bool) bool {
	if len(segs) == 0 || dualForm(segs[0]) == formNone {
		return eachIn(dd, segs, orig, fn)
	}
	form := dualForm(segs[0])
	as := ""
	if len(orig) > 0 {
		as, orig = orig[0], orig[1:]
	}
	v, ok := lookupFold(dd, as, segs[0])
	if !ok {
		return true
	}
	rest := segs[1:]
	switch t := v.(type) {
	case map[string]any:
		if len(rest) == 0 {
			return fn(oktaForm(t, form))
		}
	case string:
		if len(rest) == 0 {
			return fn(t)
		}
		if m, ok := ParseStructured(t).(map[string]any); ok {
			v = m
		}
	}
	return eachIn(v, rest, orig, fn)
}

// oktaForm renders a structure as Okta writes the member: compact JSON with keys in order, or a
// Java map rendering with entries in key order.
func oktaForm(m map[string]any, form int) string {
	if form == formJSON {
		w := JSONWriter{}
		w.Value(m)
		return string(w.B)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteByte('=')
		switch v := m[k].(type) {
		case string:
			b.WriteString(v)
		case map[string]any:
			b.WriteString(oktaForm(v, form))
		default:
			w := JSONWriter{}
			w.Value(v)
			b.Write(w.B)
		}
	}
	b.WriteByte('}')
	return b.String()
}

// eachDocDebugData walks a generic document's debugContext.debugData with eachDebugData, as
// LogEvent.Each does, and reports false when the document has no such object (the caller then
// walks it generically).
func eachDocDebugData(d map[string]any, p Path, fn func(any) bool) (handled bool) {
	if len(p.segs) < 3 || p.segs[0] != "debugcontext" || p.segs[1] != "debugdata" || dualForm(p.segs[2]) == formNone {
		return false
	}
	dc, ok := lookupFold(d, p.orig[0], p.segs[0])
	if !ok {
		return false
	}
	dcm, ok := dc.(map[string]any)
	if !ok {
		return false
	}
	dd, ok := lookupFold(dcm, p.orig[1], p.segs[1])
	if !ok {
		return false
	}
	ddm, ok := dd.(map[string]any)
	if !ok {
		return false
	}
	eachDebugData(ddm, p.segs[2:], p.orig[2:], fn)
	return true
}

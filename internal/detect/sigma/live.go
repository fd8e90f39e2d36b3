package sigma

import (
	"strings"
)

// LiveSet is a set of values that changes while rules run (for example the logins of an org's
// admins, kept by the identity inventory). Contains is given the lower-cased field value and
// must be safe for concurrent use and not block.
type LiveSet interface {
	Contains(lower string) bool
}

// LivePlaceholders is a placeholder source whose values are read at match time rather than at
// compile time. A value that is exactly one such placeholder (`'%okta_admins%'`) with no
// modifier but expand matches a field value equal to any member of the set at that moment
// (case-insensitively, as Sigma's plain equality); other uses expand from Placeholder's
// values at compile time.
type LivePlaceholders interface {
	Placeholders
	LivePlaceholder(name string) (LiveSet, bool)
}

// liveSource finds a live placeholder named name in p (or in a chain holding one).
func liveSource(p Placeholders, name string) (LiveSet, bool) {
	switch s := p.(type) {
	case PlaceholderChain:
		for _, q := range s {
			if q == nil {
				continue
			}
			// An earlier fixed definition wins, as in the chain's own lookup.
			if _, ok := q.Placeholder(name); ok {
				return liveSource(q, name)
			}
		}
	case LivePlaceholders:
		return s.LivePlaceholder(name)
	}
	return nil, false
}

// livePred matches a field value that is in a live set.
type livePred struct{ set LiveSet }

func (p livePred) match(ls []Leaf, _ *Event) bool {
	for i := range ls {
		if ls[i].HasS && p.set.Contains(ls[i].Lower()) {
			return true
		}
	}
	return false
}

// compileLive compiles text as a live placeholder when it is exactly one and mods are plain
// equality; ok is false otherwise.
func compileLive(text string, mods modSet, opts Options) (valuePred, bool) {
	if len(text) < 3 || text[0] != '%' || text[len(text)-1] != '%' || strings.ContainsAny(text[1:len(text)-1], "%\\") {
		return nil, false
	}
	if mods.match != "" || mods.re || mods.cidr || mods.cmp != "" || mods.exists || mods.all || mods.cased ||
		mods.neq || mods.fieldref || mods.timePart != "" || len(mods.transform) > 0 || opts.Placeholders == nil {
		return nil, false
	}
	set, ok := liveSource(opts.Placeholders, text[1:len(text)-1])
	if !ok {
		return nil, false
	}
	return livePred{set}, true
}

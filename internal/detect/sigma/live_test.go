package sigma

import (
	"sync"
	"testing"
)

// mutableSet is a live set a test changes between matches.
type mutableSet struct {
	mu sync.Mutex
	m  map[string]bool
}

func (s *mutableSet) Contains(v string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[v]
}

func (s *mutableSet) set(vs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m = map[string]bool{}
	for _, v := range vs {
		s.m[v] = true
	}
}

// liveSource serves %admins% live and as a compile-time list of the set at the time.
type liveSrc struct{ s *mutableSet }

func (l liveSrc) Placeholder(name string) ([]string, bool) {
	if name != "admins" {
		return nil, false
	}
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	var out []string
	for k := range l.s.m {
		out = append(out, k)
	}
	return out, true
}

func (l liveSrc) LivePlaceholder(name string) (LiveSet, bool) {
	if name != "admins" {
		return nil, false
	}
	return l.s, true
}

// TestLivePlaceholder: a value that is exactly a live placeholder follows the set as it changes
// after the rule was compiled, case-insensitively; a fixed definition earlier in the chain wins;
// other uses expand at compile time.
func TestLivePlaceholder(t *testing.T) {
	s := &mutableSet{}
	s.set("alice@example.com")
	ph := PlaceholderChain{PlaceholderMap{}, liveSrc{s}}
	r, paths := ruleWith(t, ph, "sel:\n    actor.alternateId|expand: '%admins%'\ncondition: sel")
	if !matches(t, r, paths, `{"actor":{"alternateId":"Alice@Example.com"}}`) || matches(t, r, paths, `{"actor":{"alternateId":"bob@example.com"}}`) {
		t.Fatal("live placeholder does not match the set at compile time")
	}
	s.set("bob@example.com")
	if matches(t, r, paths, `{"actor":{"alternateId":"alice@example.com"}}`) || !matches(t, r, paths, `{"actor":{"alternateId":"bob@example.com"}}`) {
		t.Fatal("live placeholder does not follow the set")
	}
	// A fixed definition first in the chain wins over the live source.
	fixed := PlaceholderChain{PlaceholderMap{"admins": {"carol@example.com"}}, liveSrc{s}}
	r, paths = ruleWith(t, fixed, "sel:\n    actor.alternateId|expand: '%admins%'\ncondition: sel")
	if !matches(t, r, paths, `{"actor":{"alternateId":"carol@example.com"}}`) || matches(t, r, paths, `{"actor":{"alternateId":"bob@example.com"}}`) {
		t.Fatal("the configuration's definition does not win")
	}
	// With another modifier, the values are expanded when the rule is compiled.
	r, paths = ruleWith(t, ph, "sel:\n    actor.alternateId|startswith|expand: '%admins%'\ncondition: sel")
	s.set("dave@example.com")
	if !matches(t, r, paths, `{"actor":{"alternateId":"bob@example.com.evil"}}`) {
		t.Fatal("a modified value did not expand at compile time")
	}
}

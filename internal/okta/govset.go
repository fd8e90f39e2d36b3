package okta

import "sync"

// GovernorSet hands out one Governor per org, so that every client of an org — live collection,
// backfill, inventory, response — draws on the same budget.
type GovernorSet struct {
	cfg GovernorConfig
	mu  sync.Mutex
	m   map[string]*Governor
}

// NewGovernorSet validates cfg, which every governor of the set uses.
func NewGovernorSet(cfg GovernorConfig) (*GovernorSet, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &GovernorSet{cfg: cfg, m: map[string]*Governor{}}, nil
}

// For returns the org's governor, creating it on first use.
func (s *GovernorSet) For(org OrgURL) *Governor {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := org.String()
	if g := s.m[key]; g != nil {
		return g
	}
	g, _ := NewGovernor(s.cfg) // cfg was validated by NewGovernorSet
	s.m[key] = g
	return g
}

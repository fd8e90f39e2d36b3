// Package scenario simulates an Okta org's people and their System Log: a benign workforce that
// signs in, uses apps and gets administered, plus labelled attack storylines that can be injected
// at any time. Everything is derived from Config.Seed, so runs are reproducible.
//
// The workforce is planned one UTC day at a time, each day from its own PRNG stream, in order, and
// held until Advance reaches the events' published times; so advancing in small or large steps
// yields the same events. People's state changes (hires, lifecycle, roles, factors) travel with
// the events that cause them and reach People() when those events are emitted.
//
// Storylines are generated on demand and are not part of Advance's output: the caller injects
// them, and Apply carries their consequences (a locked account, a granted role) into the org.
// Each storyline lists the detections it should trigger (see DetectionLabels); benign traffic is
// kept clear of the behavioural ones, while routine audit events (API token rotation, policy rule
// edits, help-desk factor resets, the odd false-alarm report) occur as they do in real orgs.
//
// Emitted events may share read-only sub-objects (client, securityContext, request, outcome) with
// other events of the same session; consumers must not modify events they receive.
package scenario

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/idwatch/idwatch/internal/event"
)

// Generator produces the org's population and its workforce traffic. It is safe for concurrent use.
type Generator struct {
	mu  sync.Mutex
	cfg Config
	org *org
	pop *population

	// Planning state: what the simulation has decided up to the last planned day.
	people []*Person
	byID   map[string]*Person
	tokens []apiToken

	// Public state: the population as of the last emitted event.
	public   []*Person
	publicIx map[string]int

	pending []pending
	seq     uint64
	stories int       // Storyline calls so far
	nextDay time.Time // UTC midnight of the next day to plan
	last    time.Time // events up to and including last have been emitted
}

// planLead bounds how early before its UTC midnight a day's plan can hold events: local working
// days start at 05:00 at the earliest, in zones up to UTC+14.
const planLead = 14 * time.Hour

// apiToken is an SSWS token some admin created.
type apiToken struct{ id, name string }

// pending is a planned event waiting for its published time, with the state change it carries.
type pending struct {
	ev  *event.LogEvent
	seq uint64
	mut *mutation
}

type mutKind uint8

const (
	mutLogin mutKind = iota
	mutStatus
	mutPassword
	mutHire
	mutDelete
	mutRoles
	mutFactors
	mutGroups
	mutApps
)

// mutation is the change an event makes to the public population once emitted.
type mutation struct {
	kind     mutKind
	id       string
	status   string
	person   *Person   // mutHire: the new person (a clone owned by the public state)
	list     []string  // mutRoles, mutGroups, mutApps: the new list
	facts    []Factor  // mutFactors: the new factors
	password bool      // the event also set the password
	at       time.Time // event time
}

// New builds the org described by cfg.
func New(cfg Config) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	r := newRNG(cfg.Seed, streamID("population"))
	g := &Generator{cfg: cfg, org: newOrg(r), byID: map[string]*Person{}, publicIx: map[string]int{}}
	g.org.adInstance = "corp." + cfg.OrgDomain
	g.pop = newPopulation(cfg, g.org, r)
	g.people = g.pop.initial(r)
	for _, p := range g.people {
		g.byID[p.ID] = p
		c := p.clone()
		g.publicIx[p.ID] = len(g.public)
		g.public = append(g.public, &c)
	}
	for i := range 3 {
		g.tokens = append(g.tokens, apiToken{id: r.oktaID("00T"), name: []string{"terraform-okta", "scim-bridge", "legacy-reporting"}[i]})
	}
	start := cfg.Start.UTC()
	g.nextDay = time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	g.last = cfg.Start
	return g, nil
}

// Config returns the configuration in effect (with defaults filled in).
func (g *Generator) Config() Config { return g.cfg }

// People returns a copy of the org's users as of the last event Advance emitted: new hires appear
// when their user.lifecycle.create is emitted, deleted users disappear, statuses follow lifecycle events.
func (g *Generator) People() []Person {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]Person, len(g.public))
	for i, p := range g.public {
		out[i] = p.clone()
	}
	return out
}

// Apps returns the org's end-user applications, including the Okta Dashboard and Admin Console.
func (g *Generator) Apps() []App {
	out := []App{*g.org.dashboard, *g.org.adminConsole}
	for _, a := range g.org.apps {
		out = append(out, *a)
	}
	return out
}

// ServiceApps returns the OAuth service apps that call Okta's APIs with client credentials.
func (g *Generator) ServiceApps() []App {
	var out []App
	for _, a := range g.org.services {
		out = append(out, *a)
	}
	return out
}

// Groups returns the org's groups.
func (g *Generator) Groups() []Group {
	var out []Group
	for _, gr := range g.org.groups {
		out = append(out, *gr)
	}
	return out
}

// Policies returns the org's sign-on and authentication policies as they were at Start.
func (g *Generator) Policies() []Policy {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []Policy
	for _, p := range g.org.policies[:g.org.initialPolicies] {
		c := *p
		c.Rules = slices.Clone(p.Rules)
		c.evalTargets = nil
		out = append(out, c)
	}
	return out
}

// Advance emits, in published order, the benign workforce events published after the previous
// call's time (Config.Start at first) and at or before to. Splitting a span into several calls
// yields exactly the events of one call over the whole span. emit must not call back into g.
func (g *Generator) Advance(to time.Time, emit func(ev *event.LogEvent)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !to.After(g.last) {
		return
	}
	// A day's plan holds events from at most planLead before its UTC midnight onwards, so once the
	// days before nextDay are planned, every event before nextDay-planLead is known and can go out.
	// Emitting between days keeps only about a day and a half of events pending, however far to is.
	for {
		more := !g.nextDay.Add(-planLead).After(to)
		safe := to
		if more {
			safe = g.nextDay.Add(-planLead - time.Nanosecond)
		}
		g.emitUntil(safe, emit)
		if !more {
			break
		}
		g.planDay(g.nextDay)
		g.nextDay = g.nextDay.AddDate(0, 0, 1)
		slices.SortFunc(g.pending, func(a, b pending) int {
			if c := a.ev.Published.Compare(b.ev.Published); c != 0 {
				return c
			}
			return cmp.Compare(a.seq, b.seq)
		})
	}
	g.last = to
}

// emitUntil emits the pending events published at or before t, applying their state changes.
func (g *Generator) emitUntil(t time.Time, emit func(ev *event.LogEvent)) {
	n := 0
	for n < len(g.pending) && !g.pending[n].ev.Published.After(t) {
		pe := g.pending[n]
		if pe.mut != nil {
			g.apply(pe.mut)
		}
		if pe.ev.Published.After(g.last) {
			emit(pe.ev)
		}
		n++
	}
	g.pending = slices.Delete(g.pending, 0, n)
}

// push queues a planned event; events at or before Start are dropped.
func (g *Generator) push(ev *event.LogEvent, mut *mutation) {
	if !ev.Published.After(g.cfg.Start) {
		return
	}
	g.seq++
	if mut != nil {
		mut.at = ev.Published
	}
	g.pending = append(g.pending, pending{ev: ev, seq: g.seq, mut: mut})
}

// apply changes the public population as an emitted event says.
func (g *Generator) apply(m *mutation) {
	if m.kind == mutHire {
		g.publicIx[m.person.ID] = len(g.public)
		g.public = append(g.public, m.person)
		return
	}
	i, ok := g.publicIx[m.id]
	if !ok {
		return
	}
	p := g.public[i]
	switch m.kind {
	case mutLogin:
		p.LastLogin = m.at
	case mutStatus:
		if p.Status != m.status {
			p.Status, p.StatusChanged = m.status, m.at
			if m.status == StatusActive && p.Activated.IsZero() {
				p.Activated = m.at
			}
		}
	case mutPassword:
		p.PasswordChanged = m.at
	case mutRoles:
		p.AdminRoles = slices.Clone(m.list)
	case mutGroups:
		p.Groups = slices.Clone(m.list)
	case mutApps:
		p.Apps = slices.Clone(m.list)
	case mutFactors:
		p.Factors = slices.Clone(m.facts)
	case mutDelete:
		g.public = slices.Delete(g.public, i, i+1)
		delete(g.publicIx, m.id)
		for j := i; j < len(g.public); j++ {
			g.publicIx[g.public[j].ID] = j
		}
		return
	}
	if m.password {
		p.PasswordChanged = m.at
	}
}

// Package incident groups alerts into incidents by the identity they are about and scores each
// incident's risk along the identity kill chain. It does no I/O: the same alerts, in any order,
// give the same incidents with the same ids.
package incident

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"time"
)

// DefaultWindow is how long after an incident's last alert a new alert of its entities still
// joins it.
const DefaultWindow = 24 * time.Hour

// Config tunes grouping.
type Config struct {
	// Window is how long after an incident's last alert a new alert joins it (DefaultWindow when 0).
	Window time.Duration
}

// Validate reports a config that cannot be used.
func (c Config) Validate() error {
	if c.Window < 0 {
		return errors.New("incident: window must not be negative (set it to a duration such as 24h, or 0 for the default)")
	}
	return nil
}

// Alert is what grouping needs of a stored alert.
type Alert struct {
	ID       string
	RuleID   string
	Severity string // Sigma level: informational, low, medium, high, critical
	Time     time.Time
	// Scope keeps apart entities of different orgs (the integration id): alerts of two scopes
	// never share an incident.
	Scope string
	// GroupKey is the alert's group ("field=value, …") as the processor stores it.
	GroupKey string
	// Entities are further entities the alert is about, beyond those of its group key.
	Entities []Entity
	// Tactics are the rule's ATT&CK tactics (Sigma tags, names or TA ids).
	Tactics []string
	// Techniques are the rule's ATT&CK technique or sub-technique ids ("T1110.003").
	Techniques []string

	entities []Entity
}

// Contribution is what one alert added to its incident's risk.
type Contribution struct {
	AlertID string `json:"alertId"`
	RuleID  string `json:"ruleId"`
	// Points is the sum of the parts below.
	Points int `json:"points"`
	// Rule is the alert's severity points the first time its rule appears, 1 for a repeat.
	Rule int `json:"rule"`
	// Entities counts entities the incident had not seen (beyond its first).
	Entities int `json:"entities"`
	// Stage is added when the alert takes the incident further along the kill chain, to Reached.
	Stage   int    `json:"stage"`
	Reached string `json:"reached,omitempty"`
}

// Incident is a group of alerts about one entity (and the entities they link it to).
type Incident struct {
	// ID derives from the earliest alert's id and the primary entity.
	ID       string    `json:"id"`
	Scope    string    `json:"scope,omitempty"`
	Entity   Entity    `json:"entity"`
	Entities []Entity  `json:"entities"`
	First    time.Time `json:"first"`
	Last     time.Time `json:"last"`
	// Alerts are the alert ids in (time, id) order.
	Alerts []string `json:"alerts"`
	Rules  []string `json:"rules"`
	// Merged lists the ids of incidents an alert linking their entities folded into this one.
	Merged        []string       `json:"merged,omitempty"`
	Stage         string         `json:"stage,omitempty"`
	Risk          int            `json:"risk"`
	Severity      string         `json:"severity"`
	Contributions []Contribution `json:"contributions"`
}

// building is an incident while alerts are being assigned.
type building struct {
	inc    Incident
	alerts []*Alert
	ents   map[scoped]bool
	gone   bool
}

// Group assigns alerts to incidents. Alerts are taken in (time, id) order, whatever order they
// come in, and an alert repeating an id already seen is ignored. An alert joins every open
// incident (last alert within the window) that shares one of its entities; when it shares
// entities with several, they merge into the earliest. The result is ordered by first alert
// time, then id.
func Group(alerts []Alert, cfg Config) ([]Incident, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	window := cfg.Window
	if window == 0 {
		window = DefaultWindow
	}
	as := make([]*Alert, 0, len(alerts))
	for i := range alerts {
		a := alerts[i]
		a.entities = entitiesOf(&a)
		as = append(as, &a)
	}
	slices.SortFunc(as, compareAlerts)
	seen := make(map[string]bool, len(as))
	as = slices.DeleteFunc(as, func(a *Alert) bool {
		dup := seen[a.ID]
		seen[a.ID] = true
		return dup
	})

	var all []*building
	open := map[scoped]*building{}
	for _, a := range as {
		var joined []*building
		for _, e := range a.entities {
			b := open[scoped{a.Scope, e}]
			if b == nil || b.gone || a.Time.Sub(b.inc.Last) > window || slices.Contains(joined, b) {
				continue
			}
			joined = append(joined, b)
		}
		var into *building
		if len(joined) == 0 {
			into = &building{ents: map[scoped]bool{}}
			into.inc.Scope = a.Scope
			into.inc.Entity = primary(a.entities)
			into.inc.First = a.Time
			into.inc.ID = incidentID(a.Scope, a.ID, into.inc.Entity)
			all = append(all, into)
		} else {
			slices.SortFunc(joined, func(x, y *building) int {
				return cmp.Or(x.inc.First.Compare(y.inc.First), cmp.Compare(x.inc.ID, y.inc.ID))
			})
			into = joined[0]
			for _, other := range joined[1:] {
				into.absorb(other, open)
			}
		}
		into.alerts = append(into.alerts, a)
		into.inc.Last = a.Time
		for _, e := range a.entities {
			into.ents[scoped{a.Scope, e}] = true
			open[scoped{a.Scope, e}] = into
		}
	}

	var out []Incident
	for _, b := range all {
		if b.gone {
			continue
		}
		slices.SortFunc(b.alerts, compareAlerts)
		inc := b.inc
		rules := map[string]bool{}
		for _, a := range b.alerts {
			inc.Alerts = append(inc.Alerts, a.ID)
			if !rules[a.RuleID] {
				rules[a.RuleID] = true
				inc.Rules = append(inc.Rules, a.RuleID)
			}
			inc.Last = maxTime(inc.Last, a.Time)
		}
		slices.Sort(inc.Rules)
		for e := range b.ents {
			inc.Entities = append(inc.Entities, e.entity)
		}
		slices.Sort(inc.Entities)
		slices.Sort(inc.Merged)
		score(&inc, b.alerts)
		out = append(out, inc)
	}
	slices.SortFunc(out, func(x, y Incident) int {
		return cmp.Or(x.First.Compare(y.First), cmp.Compare(x.ID, y.ID))
	})
	return out, nil
}

// absorb folds other into b and points other's entities at b.
func (b *building) absorb(other *building, open map[scoped]*building) {
	b.alerts = append(b.alerts, other.alerts...)
	b.inc.Merged = append(b.inc.Merged, other.inc.ID)
	b.inc.Merged = append(b.inc.Merged, other.inc.Merged...)
	b.inc.Last = maxTime(b.inc.Last, other.inc.Last)
	for e := range other.ents {
		b.ents[e] = true
		if open[e] == other {
			open[e] = b
		}
	}
	other.gone = true
}

// entitiesOf lists an alert's entities without repeats: its group key's, then the extra ones;
// an alert naming none is about its rule.
func entitiesOf(a *Alert) []Entity {
	var es []Entity
	for _, e := range append(append(EntitiesFromGroup(a.GroupKey), a.Entities...), campaignOf(a)...) {
		if e != "" && !slices.Contains(es, e) {
			es = append(es, e)
		}
	}
	if len(es) == 0 {
		es = []Entity{Entity(KindRule + ":" + a.RuleID)}
	}
	return es
}

func compareAlerts(a, b *Alert) int {
	return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.ID, b.ID), cmp.Compare(a.Scope, b.Scope), cmp.Compare(a.RuleID, b.RuleID),
		cmp.Compare(a.GroupKey, b.GroupKey))
}

// scoped is an entity within its scope.
type scoped struct {
	scope  string
	entity Entity
}

// incidentID hashes the scope, the earliest alert's id and the primary entity into a stable
// identifier.
func incidentID(scope, alertID string, e Entity) string {
	h := sha256.New()
	h.Write([]byte(scope))
	h.Write([]byte{0})
	h.Write([]byte(alertID))
	h.Write([]byte{0})
	h.Write([]byte(e))
	return "inc-" + hex.EncodeToString(h.Sum(nil)[:12])
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

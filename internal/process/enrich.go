package process

import (
	"encoding/json"
	"strings"

	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/normalize"
)

// Enrichment gives each integration's identity resolver (the inventory's in-memory index), or
// nil when the integration has none. It is asked once per event.
type Enrichment interface {
	Enricher(integrationID int64) normalize.Enricher
}

// EnrichmentFunc adapts a function to Enrichment.
type EnrichmentFunc func(integrationID int64) normalize.Enricher

// Enricher calls f.
func (f EnrichmentFunc) Enricher(integrationID int64) normalize.Enricher { return f(integrationID) }

// enricherOf is the Enricher of an integration under cfg (nil: none).
func (c *Config) enricherOf(integrationID int64) normalize.Enricher {
	if c.Enrichment == nil {
		return nil
	}
	return c.Enrichment.Enricher(integrationID)
}

// enrichedEvent is a raw Okta event with the inventory's answers about its actor and subject user
// readable by rules as actor.isAdmin, target.adSid, … (enrichmentField).
type enrichedEvent struct {
	*event.LogEvent
	actor, target *normalize.Identity
}

// Each implements event.Fields.
func (e enrichedEvent) Each(p event.Path, fn func(v any) bool) {
	if !enrichmentField(p, e.actor, e.target, fn) {
		e.LogEvent.Each(p, fn)
	}
}

// rawInput is the raw event as rules read it: with the enrichment its records carry, if any.
func rawInput(ev *event.LogEvent, recs []*normalize.Record) event.Fields {
	for _, r := range recs {
		if a, t := r.ActorIdentity(), r.TargetIdentity(); a != nil || t != nil {
			return enrichedEvent{LogEvent: ev, actor: a, target: t}
		}
	}
	return ev
}

// enrichmentField answers the enrichment fields (docs/rules.md): actor.<name> and target.<name>
// with name one of known, isAdmin, superAdmin, roles, adSid, adGuid, adDn, adLinked, groups,
// factorStrength, status. It reports whether p is one of them; an unknown user yields no value
// but known=false, so `actor.isAdmin: false` matches only users the inventory knows.
func enrichmentField(p event.Path, actor, target *normalize.Identity, fn func(v any) bool) bool {
	s := p.String()
	var id *normalize.Identity
	var name string
	switch {
	case len(s) > 6 && strings.EqualFold(s[:6], "actor."):
		id, name = actor, s[6:]
	case len(s) > 7 && strings.EqualFold(s[:7], "target."):
		id, name = target, s[7:]
	default:
		return false
	}
	name = strings.ToLower(name)
	if !enrichmentNames[name] {
		return false
	}
	if name == "known" {
		fn(id != nil)
		return true
	}
	if id == nil {
		return true
	}
	str := func(v string) {
		if v != "" {
			fn(v)
		}
	}
	list := func(vs []string) {
		for _, v := range vs {
			if !fn(v) {
				return
			}
		}
	}
	switch name {
	case "isadmin":
		fn(id.IsAdmin)
	case "superadmin":
		fn(isSuperAdmin(id.Roles))
	case "roles":
		list(id.Roles)
	case "adsid":
		str(id.ADSid)
	case "adguid":
		str(id.ADGuid)
	case "addn":
		str(id.ADDN)
	case "adlinked":
		fn(id.ADSid != "" && id.ADGuid != "" && id.ADDN != "")
	case "groups":
		list(id.Groups)
	case "factorstrength":
		str(id.FactorStrength)
	case "status":
		str(id.Status)
	}
	return true
}

var enrichmentNames = map[string]bool{"known": true, "isadmin": true, "superadmin": true, "roles": true, "adsid": true,
	"adguid": true, "addn": true, "adlinked": true, "groups": true, "factorstrength": true, "status": true}

func isSuperAdmin(roles []string) bool {
	for _, r := range roles {
		if r == "SUPER_ADMIN" {
			return true
		}
	}
	return false
}

// enrichedUsers is the evidence a Detection Finding carries about the users of the event that
// raised it, {"actor":{"user":…},"user":…} as the event's first record encodes them, when the
// inventory knows one of them; nil otherwise, so that alerts of an org without an inventory
// stay as they were.
func enrichedUsers(recs []*normalize.Record) map[string]any {
	for _, r := range recs {
		if r.ActorIdentity() == nil && r.TargetIdentity() == nil {
			continue
		}
		ev := map[string]any{}
		if a := r.OCSF.Actor; a != nil && a.User != nil {
			ev["actor"] = map[string]any{"user": json.RawMessage(normalize.AppendUserJSON(nil, a.User))}
		}
		if u := r.OCSF.User; u != nil {
			ev["user"] = json.RawMessage(normalize.AppendUserJSON(nil, u))
		}
		return ev
	}
	return nil
}

package incident

import (
	"regexp"
	"strings"
)

// Entity kinds, in the order that picks an alert's primary entity: the user the alert is
// about comes first; an alert with no user (a spray or stuffing run from one source across many
// users) is about its source address; then sessions and devices.
const (
	KindUser    = "user"
	KindIP      = "ip"
	KindSession = "session"
	KindDevice  = "device"
	KindOther   = "field"
	// KindCampaign names a many-account attack on one org (spraying, stuffing): the alerts of
	// one such campaign come from many addresses, devices and accounts, and each names only a
	// sample of them.
	KindCampaign = "campaign"
	KindRule     = "rule"
)

var kindRank = map[string]int{KindUser: 0, KindIP: 1, KindSession: 2, KindDevice: 3, KindOther: 4, KindCampaign: 5, KindRule: 6}

// campaignTechniques are the ATT&CK sub-techniques that are attacks on many accounts at once
// by definition: password spraying and credential stuffing. Their alerts in one org within the
// window belong to one campaign, whatever addresses or devices each alert is keyed by.
var campaignTechniques = map[string]bool{"T1110.003": true, "T1110.004": true}

// campaignEntity is the entity every alert of a many-account campaign shares.
const campaignEntity = Entity(KindCampaign + ":credential-spraying")

// campaignOf names the campaign an alert belongs to, if its rule's technique is a many-account
// attack.
func campaignOf(a *Alert) []Entity {
	for _, t := range a.Techniques {
		if campaignTechniques[strings.ToUpper(t)] {
			return []Entity{campaignEntity}
		}
	}
	return nil
}

// fieldKinds maps the Okta System Log fields rules group by to the entity they name.
var fieldKinds = map[string]string{
	"actor.alternateId":  KindUser,
	"actor.id":           KindUser,
	"actor.user.name":    KindUser,
	"target.id":          KindUser,
	"target.alternateId": KindUser,
	"user":               KindUser,
	"client.ipAddress":   KindIP,
	"src_endpoint.ip":    KindIP,
	"authenticationContext.externalSessionId": KindSession,
	"debugContext.debugData.dtHash":           KindDevice,
}

// Entity is one identity, address, session or device an alert is about, as "kind:value".
type Entity string

// Kind returns the entity's kind.
func (e Entity) Kind() string {
	k, _, _ := strings.Cut(string(e), ":")
	return k
}

var groupFieldRe = regexp.MustCompile(`(?:^|, )([A-Za-z_][A-Za-z0-9_.]*)=`)

// EntitiesFromGroup reads the entities of an alert's group key ("field=value, field=value",
// as the processor stores it). Values are compared case-insensitively, as Okta compares
// logins; empty values (a group-by field the event did not carry) name no entity.
func EntitiesFromGroup(groupKey string) []Entity {
	locs := groupFieldRe.FindAllStringSubmatchIndex(groupKey, -1)
	var out []Entity
	for i, l := range locs {
		field := groupKey[l[2]:l[3]]
		end := len(groupKey)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		value := strings.TrimSpace(groupKey[l[1]:end])
		if value == "" {
			continue
		}
		kind, ok := fieldKinds[field]
		if !ok {
			kind = KindOther
			value = field + "=" + value
		}
		out = append(out, Entity(kind+":"+strings.ToLower(value)))
	}
	return out
}

// primary picks the entity an alert is filed under: the first entity of the best-ranked kind.
func primary(es []Entity) Entity {
	best := Entity("")
	for _, e := range es {
		if best == "" || kindRank[e.Kind()] < kindRank[best.Kind()] {
			best = e
		}
	}
	return best
}

// About lists the entities the alert is about, as grouping sees them: its group key's, then its
// extra entities, or its rule when it names none.
func (a Alert) About() []Entity { return entitiesOf(&a) }

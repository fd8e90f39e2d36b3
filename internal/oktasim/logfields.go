package oktasim

import (
	"strings"

	"github.com/idwatch/idwatch/internal/event"
)

// logFilterFields are the LogEvent attributes the System Log filter accepts, spelled exactly (Okta
// attribute names are case-sensitive). published is deliberately absent: Okta refuses it and wants
// since/until instead.
var logFilterFields = fieldSet(
	"uuid", "eventType", "version", "severity", "legacyEventType", "displayMessage",
	"actor.id", "actor.type", "actor.alternateId", "actor.displayName",
	"client.userAgent.rawUserAgent", "client.userAgent.os", "client.userAgent.browser",
	"client.zone", "client.device", "client.id", "client.ipAddress",
	"client.geographicalContext.city", "client.geographicalContext.state", "client.geographicalContext.country",
	"client.geographicalContext.postalCode", "client.geographicalContext.geolocation.lat",
	"client.geographicalContext.geolocation.lon",
	"device.id", "device.name", "device.os_platform", "device.os_version", "device.managed", "device.registered",
	"device.device_integrator", "device.disk_encryption_type", "device.screen_lock_type", "device.jailbreak",
	"device.secure_hardware_present",
	"outcome.result", "outcome.reason",
	"target.id", "target.type", "target.alternateId", "target.displayName",
	"transaction.type", "transaction.id",
	"authenticationContext.authenticationProvider", "authenticationContext.credentialProvider",
	"authenticationContext.credentialType", "authenticationContext.issuer.id", "authenticationContext.issuer.type",
	"authenticationContext.interface", "authenticationContext.authenticationStep",
	"authenticationContext.externalSessionId", "authenticationContext.rootSessionId",
	"securityContext.asNumber", "securityContext.asOrg", "securityContext.isp", "securityContext.domain",
	"securityContext.isProxy",
	"request.ipChain.ip", "request.ipChain.version", "request.ipChain.source",
	"request.ipChain.geographicalContext.city", "request.ipChain.geographicalContext.state",
	"request.ipChain.geographicalContext.country", "request.ipChain.geographicalContext.postalCode",
)

// logFilterFreeForm are the free-form maps whose keys the filter may address.
var logFilterFreeForm = []string{"debugContext.debugData.", "transaction.detail.", "actor.detailEntry.",
	"target.detailEntry.", "securityContext.ipDetails.", "securityContext.risk."}

func fieldSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// checkLogFilter applies the System Log's restrictions to a parsed filter.
func checkLogFilter(f *Filter) *APIError {
	var apiErr *APIError
	_ = f.Walk(func(c Comparison) error {
		switch {
		case c.Attr == "published":
			apiErr = errInvalidSCIM("field is not valid: published; bound the time with since and until instead")
		case !logFilterFields[c.Attr] && !hasFreeFormPrefix(c.Attr):
			apiErr = errInvalidSCIM("field is not valid: " + c.Attr + " (attribute names are case-sensitive)")
		case c.Op == "co" && (c.Attr == "debugContext.debugData.url" || c.Attr == "debugContext.debugData.requestUri"):
			apiErr = errInvalidSearch("the co operator is not supported for " + c.Attr + "; use eq or sw")
		}
		if apiErr != nil {
			return apiErr
		}
		return nil
	})
	return apiErr
}

func hasFreeFormPrefix(attr string) bool {
	for _, p := range logFilterFreeForm {
		if strings.HasPrefix(attr, p) && len(attr) > len(p) {
			return true
		}
	}
	return false
}

// lazyEvent gives a filter access to one stored event, answering eventType and uuid from the index
// and decoding the JSON only when another field is needed.
type lazyEvent struct {
	store   *logStore
	seq     uint32
	meta    *eventMeta
	doc     event.Doc
	err     error
	decoded bool
}

func (l *lazyEvent) Each(p event.Path, fn func(v any) bool) {
	if segs := p.Segments(); len(segs) == 1 {
		switch segs[0] {
		case "eventtype":
			if l.meta.typ != 0 {
				fn(l.store.types[l.meta.typ])
				return
			}
		case "uuid":
			fn(formatUUID(l.meta.uuid))
			return
		}
	}
	if l.load() == nil {
		l.doc.Each(p, fn)
	}
}

func (l *lazyEvent) load() error {
	if !l.decoded {
		l.decoded = true
		raw, err := l.store.rawLocked(l.seq)
		if err == nil {
			l.doc, err = event.ParseDoc(raw)
		}
		l.err = err
	}
	return l.err
}

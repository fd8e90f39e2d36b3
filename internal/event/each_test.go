package event

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func eachAll(f Fields, path string) []any {
	var out []any
	f.Each(MustPath(path), func(v any) bool { out = append(out, v); return true })
	return out
}

// TestEachAgreesWithDocOnRawJSON checks LogEvent.Each against Doc.Each on the same raw event for
// leaf and object paths, in Okta's and SigmaHQ's spellings.
func TestEachAgreesWithDocOnRawJSON(t *testing.T) {
	raw := readFixture(t, "full.json")
	ev, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := ParseDoc(raw)
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{
		"uuid", "UUID", "published", "eventType", "eventtype", "EVENTTYPE", "version", "severity",
		"legacyEventType", "displayMessage", "displaymessage",
		"actor", "actor.id", "actor.type", "actor.alternateId", "actor.alternateid", "actor.displayName",
		"actor.detailEntry", "actor.detailEntry.methodTypeUsed", "actor.detailEntry.tags", "actor.nope",
		"client", "client.userAgent", "client.userAgent.rawUserAgent", "client.userAgent.os", "client.userAgent.browser",
		"client.zone", "client.device", "client.id", "client.ipAddress", "client.ipaddress",
		"client.geographicalContext", "client.geographicalContext.city", "client.geographicalContext.state",
		"client.geographicalContext.country", "client.geographicalContext.postalCode",
		"client.geographicalContext.geolocation", "client.geographicalContext.geolocation.lat",
		"client.geographicalContext.geolocation.lon", "client.geographicalContext.geolocation.lat.x",
		"device", "device.id", "device.name", "device.os_platform", "device.os_version", "device.managed",
		"device.registered", "device.device_integrator", "device.device_integrator.ids",
		"device.disk_encryption_type", "device.screen_lock_type", "device.jailbreak", "device.secure_hardware_present",
		"authenticationContext", "authenticationContext.authenticationProvider", "authenticationContext.credentialProvider",
		"authenticationContext.credentialType", "authenticationContext.issuer", "authenticationContext.issuer.id",
		"authenticationContext.issuer.type", "authenticationContext.interface", "authenticationContext.authenticationStep",
		"authenticationContext.rootSessionId", "authenticationContext.externalSessionId",
		"outcome", "outcome.result", "outcome.reason", "outcome.result.x",
		"securityContext", "securityContext.asNumber", "securityContext.asOrg", "securityContext.isp",
		"securityContext.domain", "securityContext.isProxy", "securityContext.ipDetails",
		"securityContext.ipDetails.ipServiceCategories", "securityContext.ipDetails.ipServiceCategories.type",
		"securityContext.risk", "securityContext.risk.level", "securityContext.risk.reasons",
		"securityContext.userBehaviors", "securityContext.userBehaviors.name", "securityContext.userBehaviors.result",
		"securityContext.botProtection.level",
		"debugContext", "debugContext.debugData", "debugContext.debugData.requestId", "debugContext.debugData.behaviors",
		"debugContext.debugData.risk", "debugContext.debugData.count", "debugContext.debugData.ratio",
		"debugContext.debugData.flags", "debugContext.debugData.threatSuspected", "debugContext.debugdata.url",
		"transaction", "transaction.type", "transaction.id", "transaction.detail", "transaction.detail.requestApiTokenId",
		"request", "request.ipChain", "request.ipChain.ip", "request.ipChain.version", "request.ipChain.source",
		"request.ipChain.geographicalContext.city", "request.ipChain.geographicalContext.geolocation.lon",
		"request.ipChain.ipDetails.isp",
		"target", "target.id", "target.type", "target.alternateId", "target.displayName", "target.displayname",
		"target.detailEntry", "target.detailEntry.methodTypeUsed", "target.changeDetails", "target.changeDetails.from",
		"target.changeDetails.to.vpnLocationOptions", "target.changeDetails.to.vpnSettingsZones.include",
		"tenantHint", "tenantHint.org", "tenanthint.ids", "newField", "NEWFIELD", "missing", "missing.deeper",
	}
	for _, p := range paths {
		got, want := eachAll(ev, p), eachAll(doc, p)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n LogEvent %#v\n Doc      %#v", p, got, want)
		}
	}
}

// TestEachAgreesWithDocOnEncoding checks every path present in an event's encoding, so a field
// added to the model without Each support fails here.
func TestEachAgreesWithDocOnEncoding(t *testing.T) {
	ev, err := Decode(readFixture(t, "full.json"))
	if err != nil {
		t.Fatal(err)
	}
	checkEachAgainstEncoding(t, ev)
}

func checkEachAgainstEncoding(t *testing.T, ev *LogEvent) {
	t.Helper()
	out, err := ev.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := ParseDoc(out)
	if err != nil {
		t.Fatalf("ParseDoc(%s): %v", out, err)
	}
	paths := map[string]bool{}
	// Members whose names differ only in case make Doc.Each pick one at random: skip them.
	ambiguous := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if prefix != "" {
			paths[prefix] = true
			paths[strings.ToUpper(prefix)] = true
		}
		switch t := v.(type) {
		case map[string]any:
			seen := map[string]int{}
			for k := range t {
				seen[strings.ToLower(k)]++
			}
			for k, n := range seen {
				if n > 1 {
					ambiguous[strings.ToLower(strings.TrimPrefix(prefix+"."+k, "."))] = true
				}
			}
			for k, e := range t {
				if k == "" || strings.Contains(k, ".") {
					continue // not addressable by a dotted path
				}
				if prefix != "" {
					k = prefix + "." + k
				}
				walk(k, e)
			}
		case []any:
			for _, e := range t {
				walk(prefix, e)
			}
		}
	}
	walk("", map[string]any(doc))
	sorted := make([]string, 0, len(paths))
	for p := range paths {
		sorted = append(sorted, p)
	}
	sort.Strings(sorted)
	for _, p := range sorted {
		path, err := ParsePath(p)
		if err != nil || isAmbiguous(ambiguous, strings.ToLower(p)) {
			continue
		}
		var got, want []any
		ev.Each(path, func(v any) bool { got = append(got, v); return true })
		doc.Each(path, func(v any) bool { want = append(want, v); return true })
		if !reflect.DeepEqual(got, want) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			t.Errorf("%s:\n LogEvent %s\n Doc      %s", p, g, w)
		}
	}
}

func TestEachEmptyAndStop(t *testing.T) {
	ev := &LogEvent{UUID: "u", EventType: "t", Actor: &Actor{ID: ""}, Target: []Target{{ID: "a"}, {ID: "b"}, {ID: "c"}}}
	for _, p := range []string{"actor.id", "client.ipAddress", "displayMessage", "published", "debugContext.debugData.x"} {
		if got := eachAll(ev, p); got != nil {
			t.Errorf("%s: got %#v, want nothing", p, got)
		}
	}
	n := 0
	ev.Each(MustPath("target.id"), func(any) bool { n++; return false })
	if n != 1 {
		t.Fatalf("Each kept going after fn returned false: %d calls", n)
	}
	var _ Fields = ev
}

// isAmbiguous reports whether path or one of its prefixes is in amb.
func isAmbiguous(amb map[string]bool, path string) bool {
	for p := path; ; {
		if amb[p] {
			return true
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			return false
		}
		p = p[:i]
	}
}

package normalize

import (
	"encoding/json"

	"github.com/idwatch/idwatch/internal/event"
)

// unmapped collects, under Okta's own field names, every field of ev that has no OCSF home or is
// only partly represented there, with debugData's behaviors, risk and logOnlySecurityData parsed
// into structured values.
func unmapped(ev *event.LogEvent) map[string]any {
	um := make(map[string]any, 8)
	putStr(um, "legacyEventType", ev.LegacyEventType)
	putStr(um, "severity", ev.Severity)
	if a := ev.Actor; a != nil && a.DetailEntry != nil {
		um["actor"] = map[string]any{"detailEntry": a.DetailEntry}
	}
	if c := ev.Client; c != nil {
		m := map[string]any{}
		if c.Zone == "null" { // a real zone name is src_endpoint.zone
			m["zone"] = c.Zone
		}
		putStr(m, "device", c.Device)
		putStr(m, "id", c.ID)
		if c.IPAddress != "" && !validIP(c.IPAddress) {
			m["ipAddress"] = c.IPAddress
		}
		if c.UserAgent != nil {
			putStr(m, "browser", c.UserAgent.Browser)
		}
		putMap(um, "client", m)
	}
	if d := ev.Device; d != nil {
		m := map[string]any{}
		putBool(m, "registered", d.Registered)
		putBool(m, "jailbreak", d.Jailbreak)
		putBool(m, "secure_hardware_present", d.SecureHardwarePresent)
		putStr(m, "disk_encryption_type", d.DiskEncryptionType)
		putStr(m, "screen_lock_type", d.ScreenLockType)
		if d.DeviceIntegrator != nil {
			m["device_integrator"] = d.DeviceIntegrator
		}
		putMap(um, "device", m)
	}
	if len(ev.Target) > 0 {
		ts := make([]any, len(ev.Target))
		for i := range ev.Target {
			ts[i] = targetMap(&ev.Target[i])
		}
		um["target"] = ts
	}
	if t := ev.Transaction; t != nil {
		m := map[string]any{}
		putStr(m, "type", t.Type)
		putStr(m, "id", t.ID)
		if len(t.Detail) > 0 {
			m["detail"] = t.Detail
		}
		putMap(um, "transaction", m)
	}
	if dc := ev.DebugContext; dc != nil && len(dc.DebugData) > 0 {
		m := make(map[string]any, len(dc.DebugData))
		for k, v := range dc.DebugData {
			if mappedDebugKeys[k] {
				continue
			}
			switch k {
			case "behaviors", "risk", "logOnlySecurityData":
				v = parseStructured(v)
			}
			m[k] = v
		}
		if len(m) > 0 {
			um["debugContext"] = map[string]any{"debugData": m}
		}
	}
	if ac := ev.AuthenticationContext; ac != nil {
		m := map[string]any{}
		putStr(m, "authenticationProvider", ac.AuthenticationProvider)
		putStr(m, "credentialProvider", ac.CredentialProvider)
		putStr(m, "credentialType", ac.CredentialType)
		putStr(m, "interface", ac.Interface)
		if ac.Issuer != nil {
			putStr(m, "issuerType", ac.Issuer.Type)
		}
		putMap(um, "authenticationContext", m)
	}
	if sc := ev.SecurityContext; sc != nil {
		m := map[string]any{}
		putBool(m, "isProxy", sc.IsProxy)
		if sc.IPDetails != nil {
			m["ipDetails"] = sc.IPDetails
		}
		if sc.Risk != nil {
			m["risk"] = sc.Risk
		}
		if sc.UserBehaviors != nil {
			m["userBehaviors"] = sc.UserBehaviors
		}
		if sc.BotProtection != nil {
			m["botProtection"] = sc.BotProtection
		}
		putMap(um, "securityContext", m)
	}
	if r := ev.Request; r != nil && len(r.IPChain) > 0 {
		chain := make([]any, len(r.IPChain))
		for i := range r.IPChain {
			chain[i] = ipChainMap(&r.IPChain[i])
		}
		um["request"] = map[string]any{"ipChain": chain}
	}
	for k, raw := range ev.Extra {
		if v, err := event.ParseValue(raw); err == nil {
			um[k] = v
		} else {
			um[k] = json.RawMessage(raw)
		}
	}
	return um
}

func putStr(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

func putBool(m map[string]any, k string, v *bool) {
	if v != nil {
		m[k] = *v
	}
}

func putMap(dst map[string]any, k string, m map[string]any) {
	if len(m) > 0 {
		dst[k] = m
	}
}

func targetMap(t *event.Target) map[string]any {
	m := make(map[string]any, 6)
	putStr(m, "id", t.ID)
	putStr(m, "type", t.Type)
	putStr(m, "alternateId", t.AlternateID)
	putStr(m, "displayName", t.DisplayName)
	if t.DetailEntry != nil {
		m["detailEntry"] = t.DetailEntry
	}
	if cd := t.ChangeDetails; cd != nil {
		c := map[string]any{}
		if cd.From != nil {
			c["from"] = cd.From
		}
		if cd.To != nil {
			c["to"] = cd.To
		}
		m["changeDetails"] = c
	}
	return m
}

func ipChainMap(h *event.IPChainEntry) map[string]any {
	m := make(map[string]any, 5)
	putStr(m, "ip", h.IP)
	putStr(m, "version", h.Version)
	putStr(m, "source", h.Source)
	if g := h.GeographicalContext; g != nil {
		gm := map[string]any{}
		putStr(gm, "city", g.City)
		putStr(gm, "state", g.State)
		putStr(gm, "country", g.Country)
		putStr(gm, "postalCode", g.PostalCode)
		if l := g.Geolocation; l != nil {
			gm["geolocation"] = map[string]any{"lat": l.Lat, "lon": l.Lon}
		}
		m["geographicalContext"] = gm
	}
	if h.IPDetails != nil {
		m["ipDetails"] = h.IPDetails
	}
	return m
}

package normalize

import (
	"encoding/json"
	"strings"
	"unsafe"

	"github.com/idwatch/idwatch/internal/event"
)

// writeUnmapped writes, under Okta's own field names, every field of ev that has no OCSF home or
// is only partly represented there, with debugData's behaviors, risk and logOnlySecurityData
// parsed into structured values. It writes straight from the typed event, so mapping allocates
// nothing for it; the member is left out when there is nothing to write.
func writeUnmapped(w *event.JSONWriter, o *OCSF) {
	ev := o.Source
	w.Object("unmapped", func() {
		w.Str("legacyEventType", ev.LegacyEventType)
		w.Str("severity", ev.Severity)
		if a := ev.Actor; a != nil && a.DetailEntry != nil {
			w.Object("actor", func() { w.Map("detailEntry", a.DetailEntry) })
		}
		if c := ev.Client; c != nil {
			w.Object("client", func() {
				if c.Zone == "null" { // a real zone name is src_endpoint.zone
					w.Str("zone", c.Zone)
				}
				w.Str("device", c.Device)
				w.Str("id", c.ID)
				if c.IPAddress != "" && !validIP(c.IPAddress) {
					w.Str("ipAddress", c.IPAddress)
				}
				if c.UserAgent != nil {
					w.Str("browser", c.UserAgent.Browser)
				}
				if g := c.GeographicalContext; g != nil && g.Country != "" && !countryMapped(o) {
					w.Object("geographicalContext", func() { w.Str("country", g.Country) })
				}
			})
		}
		if d := ev.Device; d != nil {
			w.Object("device", func() {
				w.Bool("registered", d.Registered)
				w.Bool("jailbreak", d.Jailbreak)
				w.Bool("secure_hardware_present", d.SecureHardwarePresent)
				w.Str("disk_encryption_type", d.DiskEncryptionType)
				w.Str("screen_lock_type", d.ScreenLockType)
				if d.DeviceIntegrator != nil {
					w.Any("device_integrator", d.DeviceIntegrator)
				}
			})
		}
		if len(ev.Target) > 0 {
			w.Array("target", len(ev.Target), func(i int) { ev.Target[i].WriteJSON(w) })
		}
		if t := ev.Transaction; t != nil {
			w.Object("transaction", func() {
				w.Str("type", t.Type)
				w.Str("id", t.ID)
				if len(t.Detail) > 0 {
					w.Map("detail", t.Detail)
				}
			})
		}
		if dc := ev.DebugContext; dc != nil && len(dc.DebugData) > 0 {
			w.Object("debugContext", func() {
				w.Object("debugData", func() { writeDebugData(w, dc.DebugData) })
			})
		}
		if ac := ev.AuthenticationContext; ac != nil {
			w.Object("authenticationContext", func() {
				w.Str("authenticationProvider", ac.AuthenticationProvider)
				w.Str("credentialProvider", ac.CredentialProvider)
				w.Str("credentialType", ac.CredentialType)
				w.Str("interface", ac.Interface)
				if ac.Issuer != nil {
					w.Str("issuerType", ac.Issuer.Type)
				}
			})
		}
		if sc := ev.SecurityContext; sc != nil {
			w.Object("securityContext", func() {
				if !sourceMapped(o) { // else src_endpoint holds them
					if sc.AsNumber != nil {
						w.Int("asNumber", *sc.AsNumber)
					}
					w.Str("asOrg", sc.AsOrg)
					w.Str("isp", sc.ISP)
					w.Str("domain", sc.Domain)
				}
				w.Bool("isProxy", sc.IsProxy)
				w.Map("ipDetails", sc.IPDetails)
				w.Map("risk", sc.Risk)
				if sc.UserBehaviors != nil {
					w.Any("userBehaviors", sc.UserBehaviors)
				}
				w.Map("botProtection", sc.BotProtection)
			})
		}
		if r := ev.Request; r != nil && len(r.IPChain) > 0 {
			w.Object("request", func() {
				w.Array("ipChain", len(r.IPChain), func(i int) { r.IPChain[i].WriteJSON(w) })
			})
		}
		var kb [16]string
		for _, k := range sortedKeys(ev.Extra, kb[:0]) {
			v, err := event.ParseValue(ev.Extra[k])
			if err != nil {
				v = string(ev.Extra[k])
			}
			w.Any(k, v)
		}
		writeFlaws(w, ev.Flaws)
	})
}

// countryMapped reports whether the record holds the event's country as location.country (of
// src_endpoint, or of the evidence a Detection Finding moves it to).
func countryMapped(o *OCSF) bool {
	e := o.SrcEndpoint
	if e == nil && len(o.Evidences) > 0 {
		e = o.Evidences[0].SrcEndpoint
	}
	return e != nil && e.Location != nil && e.Location.Country != ""
}

// writeDebugData writes debugData without the keys OCSF holds, in key order, parsing the
// structured strings.
func writeDebugData(w *event.JSONWriter, dd map[string]any) {
	var kb [16]string
	for _, k := range sortedKeys(dd, kb[:0]) {
		if mappedDebugKeys[k] {
			continue
		}
		v := dd[k]
		switch k {
		case "logOnlySecurityData":
			// A JSON object in a string: write it as the object it is, without rebuilding it.
			if s, ok := v.(string); ok && strings.HasPrefix(strings.TrimSpace(s), "{") && json.Valid(unsafe.Slice(unsafe.StringData(s), len(s))) {
				w.Key(k)
				w.B = event.AppendCompact(w.B, s)
				continue
			}
			writeStructured(w, k, v)
			continue
		case "behaviors", "risk":
			writeStructured(w, k, v)
			continue
		}
		w.Any(k, v)
	}
}

// sortedKeys appends m's keys to keys (a caller's buffer, usually on its stack) in order.
func sortedKeys[V any](m map[string]V, keys []string) []string {
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ { // insertion sort: debugData has a handful of keys
		for j := i; j > 0 && strings.Compare(keys[j-1], keys[j]) > 0; j-- {
			keys[j-1], keys[j] = keys[j], keys[j-1]
		}
	}
	return keys
}

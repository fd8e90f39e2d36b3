package normalize

import (
	"encoding/json"
	"slices"
	"strings"
	"unsafe"

	"github.com/idwatch/idwatch/internal/event"
)

// writeUnmapped writes, under Okta's own field names, every field of ev that has no OCSF home or
// is only partly represented there, with debugData's behaviors, risk and logOnlySecurityData
// parsed into structured values. It writes straight from the typed event, so mapping allocates
// nothing for it; the member is left out when there is nothing to write. Free-form data is
// written within MaxMembers and MaxDepth (see bounded).
func writeUnmapped(b *bounded, o *OCSF) {
	w := b.w
	ev := o.Source
	w.Object("unmapped", func() {
		w.Str("legacyEventType", ev.LegacyEventType)
		w.Str("severity", ev.Severity)
		if a := ev.Actor; a != nil && a.DetailEntry != nil {
			w.Object("actor", func() { b.mapMember("detailEntry", a.DetailEntry, 3) })
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
					b.member("device_integrator", d.DeviceIntegrator, 3)
				}
			})
		}
		if len(ev.Target) > 0 {
			writeElements(b, "target", len(ev.Target), func(i int) bool { return targetExceeds(&ev.Target[i]) },
				func(w *event.JSONWriter, i int) { ev.Target[i].WriteJSON(w) })
		}
		if t := ev.Transaction; t != nil {
			w.Object("transaction", func() {
				w.Str("type", t.Type)
				w.Str("id", t.ID)
				if len(t.Detail) > 0 {
					b.mapMember("detail", t.Detail, 3)
				}
			})
		}
		if dc := ev.DebugContext; dc != nil && len(dc.DebugData) > 0 {
			w.Object("debugContext", func() {
				w.Object("debugData", func() { writeDebugData(b, dc.DebugData) })
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
				b.mapMember("ipDetails", sc.IPDetails, 3)
				b.mapMember("risk", sc.Risk, 3)
				if sc.UserBehaviors != nil {
					b.member("userBehaviors", sc.UserBehaviors, 3)
				}
				b.mapMember("botProtection", sc.BotProtection, 3)
			})
		}
		if r := ev.Request; r != nil && len(r.IPChain) > 0 {
			w.Object("request", func() {
				writeElements(b, "ipChain", len(r.IPChain), func(i int) bool { return exceeds(r.IPChain[i].IPDetails, 5) },
					func(w *event.JSONWriter, i int) { r.IPChain[i].WriteJSON(w) })
			})
		}
		var mb [16]member[json.RawMessage]
		extra := sortedMembers(ev.Extra, mb[:0])
		for i, e := range extra {
			if i == MaxMembers {
				// The rest of the fields Okta may add, as the JSON text of an object.
				rest := append(make([]byte, 0, 1024), '{')
				for j, e := range extra[i:] {
					if j > 0 {
						rest = append(rest, ',')
					}
					rest = append(event.AppendString(rest, e.k), ':')
					rest = append(rest, e.v...)
				}
				w.Key(RestKey)
				w.B = event.AppendStringBytes(w.B, append(rest, '}'))
				b.truncated = true
				break
			}
			v, err := event.ParseValue(e.v)
			if err != nil {
				v = string(e.v)
			}
			b.member(e.k, v, 2)
		}
		writeFlaws(w, ev.Flaws)
	})
}

// targetExceeds reports whether a target's free-form maps (level 4 and 5 of unmapped) exceed
// the bounds.
func targetExceeds(t *event.Target) bool {
	if exceeds(t.DetailEntry, 4) {
		return true
	}
	c := t.ChangeDetails
	return c != nil && (exceeds(c.From, 5) || exceeds(c.To, 5))
}

// writeElements writes member k (level 2 of unmapped) as an array of n typed objects (level 3),
// each written by enc. An element whose free-form data is beyond the bounds (over says which) is
// written through its generic form within them, and elements past MaxMembers are kept as JSON
// text.
func writeElements(b *bounded, k string, n int, over func(i int) bool, enc func(w *event.JSONWriter, i int)) {
	w := b.w
	w.Key(k)
	w.B = append(w.B, '[')
	for i := range n {
		if i > 0 {
			w.B = append(w.B, ',')
		}
		if i == MaxMembers {
			rest := event.JSONWriter{}
			rest.B = append(rest.B, '[')
			for j := i; j < n; j++ {
				if j > i {
					rest.B = append(rest.B, ',')
				}
				enc(&rest, j)
			}
			rest.B = append(rest.B, ']')
			b.keepErr(rest.Err)
			w.Open()
			w.Key(RestKey)
			w.B = event.AppendStringBytes(w.B, rest.B)
			w.Close()
			b.truncated = true
			break
		}
		if !over(i) {
			enc(w, i)
			continue
		}
		one := event.JSONWriter{}
		enc(&one, i)
		v, err := event.ParseValue(one.B)
		if err != nil {
			b.keepErr(err)
			continue
		}
		b.value(v, 3)
	}
	w.B = append(w.B, ']')
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

// writeDebugData writes debugData (level 3 of unmapped) without the keys OCSF holds, in key
// order, parsing the structured strings; members past MaxMembers are kept unparsed, as JSON text.
func writeDebugData(b *bounded, dd map[string]any) {
	w := b.w
	var mb [16]member[any]
	ms := sortedMembers(dd, mb[:0])
	written := 0
	for i, m := range ms {
		k, v := m.k, m.v
		if mappedDebugKeys[k] {
			continue
		}
		if written == MaxMembers {
			b.restMembers(slices.DeleteFunc(ms[i:], func(m member[any]) bool { return mappedDebugKeys[m.k] }))
			return
		}
		written++
		switch k {
		case "logOnlySecurityData":
			// A JSON object in a string: write it as the object it is, without rebuilding it.
			if s, ok := v.(string); ok && strings.HasPrefix(strings.TrimSpace(s), "{") && json.Valid(unsafe.Slice(unsafe.StringData(s), len(s))) {
				if !rawExceeds(unsafe.Slice(unsafe.StringData(s), len(s)), 4) {
					w.Key(k)
					w.B = event.AppendCompact(w.B, s)
					continue
				}
			}
			writeStructured(b, k, v)
			continue
		case "behaviors", "risk":
			writeStructured(b, k, v)
			continue
		}
		b.member(k, v, 4)
	}
}

package event

import "strings"

// Each implements Fields over the typed event with the semantics of Doc.Each on the event's
// MarshalJSON encoding: segments match case-insensitively, arrays (target, request.ipChain, and
// arrays inside free-form maps) are expanded, free-form maps (detailEntry, debugData,
// changeDetails, transaction.detail, Extra …) are walked generically, leaves come as string,
// int64, float64 or bool, objects as map[string]any. Absent fields, empty strings and nil
// objects yield nothing.
func (ev *LogEvent) Each(p Path, fn func(v any) bool) {
	if len(p.segs) == 0 {
		return
	}
	// debugData is the free-form map rules read most; its keys are camelCase as rules write
	// them, so the segments as written find them without a case-folding scan.
	if c := ev.DebugContext; c != nil && len(p.segs) > 2 && len(p.orig) == len(p.segs) &&
		p.segs[0] == "debugcontext" && p.segs[1] == "debugdata" {
		eachDebugData(c.DebugData, p.segs[2:], p.orig[2:], fn)
		return
	}
	ev.each(p.segs, fn)
}

// eachObject yields an object-valued field as the generic map its JSON encoding decodes to, which
// is what Doc.Each yields for it.
func eachObject(rest []string, fn func(any) bool, enc func(w *JSONWriter)) bool {
	if len(rest) > 0 {
		return true
	}
	w := JSONWriter{}
	enc(&w)
	v, err := parseValue(string(w.B))
	if err != nil {
		return true
	}
	return fn(v)
}

func eachStr(s string, rest []string, fn func(any) bool) bool {
	if s == "" || len(rest) > 0 {
		return true
	}
	return fn(s)
}

func eachBool(b *bool, rest []string, fn func(any) bool) bool {
	if b == nil || len(rest) > 0 {
		return true
	}
	return fn(*b)
}

func eachMap(m map[string]any, rest []string, fn func(any) bool) bool {
	if m == nil {
		return true
	}
	return EachIn(m, rest, fn)
}

func (ev *LogEvent) each(segs []string, fn func(any) bool) bool {
	seg, rest := segs[0], segs[1:]
	var str string
	switch seg {
	case "uuid":
		str = ev.UUID
	case "published":
		str = FormatTime(ev.Published)
	case "eventtype":
		str = ev.EventType
	case "version":
		str = ev.Version
	case "severity":
		str = ev.Severity
	case "legacyeventtype":
		str = ev.LegacyEventType
	case "displaymessage":
		str = ev.DisplayMessage
	case "actor":
		if a := ev.Actor; a != nil {
			return a.each(rest, fn)
		}
	case "client":
		if c := ev.Client; c != nil {
			return c.each(rest, fn)
		}
	case "device":
		if v := ev.Device; v != nil {
			return v.each(rest, fn)
		}
	case "outcome":
		if o := ev.Outcome; o != nil {
			return o.each(rest, fn)
		}
	case "target":
		if ev.Target != nil {
			for i := range ev.Target {
				if !ev.Target[i].each(rest, fn) {
					return false
				}
			}
			return true
		}
	case "transaction":
		if t := ev.Transaction; t != nil {
			return t.each(rest, fn)
		}
	case "debugcontext":
		if c := ev.DebugContext; c != nil {
			if len(rest) == 0 {
				return eachObject(rest, fn, c.appendJSON)
			}
			if rest[0] == "debugdata" {
				if c.DebugData == nil {
					return true
				}
				return eachDebugData(c.DebugData, rest[1:], nil, fn)
			}
			return true
		}
	case "authenticationcontext":
		if a := ev.AuthenticationContext; a != nil {
			return a.each(rest, fn)
		}
	case "securitycontext":
		if c := ev.SecurityContext; c != nil {
			return c.each(rest, fn)
		}
	case "request":
		if r := ev.Request; r != nil {
			if len(rest) == 0 {
				return eachObject(rest, fn, r.appendJSON)
			}
			if rest[0] == "ipchain" {
				for i := range r.IPChain {
					if !r.IPChain[i].each(rest[1:], fn) {
						return false
					}
				}
			}
			return true
		}
	}
	if str != "" {
		return eachStr(str, rest, fn)
	}
	// Not a typed field, or a typed one that is absent: Doc.Each would find a member of another
	// case among the unknown ones (scanned as lookupFold does).
	raw, ok := ev.Extra[seg]
	if !ok && len(ev.Extra) <= MaxFoldScan {
		for k, r := range ev.Extra {
			if strings.EqualFold(k, seg) {
				raw, ok = r, true
				break
			}
		}
	}
	if !ok {
		return true
	}
	v, err := parseValue(string(raw))
	if err != nil {
		return true
	}
	return EachIn(v, rest, fn)
}

func (o *Outcome) each(rest []string, fn func(any) bool) bool {
	if len(rest) == 0 {
		return eachObject(rest, fn, o.appendJSON)
	}
	switch rest[0] {
	case "result":
		return eachStr(o.Result, rest[1:], fn)
	case "reason":
		return eachStr(o.Reason, rest[1:], fn)
	}
	return true
}

func (t *Transaction) each(rest []string, fn func(any) bool) bool {
	if len(rest) == 0 {
		return eachObject(rest, fn, t.appendJSON)
	}
	switch rest[0] {
	case "type":
		return eachStr(t.Type, rest[1:], fn)
	case "id":
		return eachStr(t.ID, rest[1:], fn)
	case "detail":
		return eachMap(t.Detail, rest[1:], fn)
	}
	return true
}

func (a *Actor) each(rest []string, fn func(any) bool) bool {
	if len(rest) == 0 {
		return eachObject(rest, fn, a.appendJSON)
	}
	switch rest[0] {
	case "id":
		return eachStr(a.ID, rest[1:], fn)
	case "type":
		return eachStr(a.Type, rest[1:], fn)
	case "alternateid":
		return eachStr(a.AlternateID, rest[1:], fn)
	case "displayname":
		return eachStr(a.DisplayName, rest[1:], fn)
	case "detailentry":
		return eachMap(a.DetailEntry, rest[1:], fn)
	}
	return true
}

func (t *Target) each(rest []string, fn func(any) bool) bool {
	if len(rest) == 0 {
		return eachObject(rest, fn, t.appendJSON)
	}
	switch rest[0] {
	case "id":
		return eachStr(t.ID, rest[1:], fn)
	case "type":
		return eachStr(t.Type, rest[1:], fn)
	case "alternateid":
		return eachStr(t.AlternateID, rest[1:], fn)
	case "displayname":
		return eachStr(t.DisplayName, rest[1:], fn)
	case "detailentry":
		return eachMap(t.DetailEntry, rest[1:], fn)
	case "changedetails":
		c := t.ChangeDetails
		if c == nil {
			return true
		}
		r := rest[1:]
		if len(r) == 0 {
			return eachObject(r, fn, c.appendJSON)
		}
		switch r[0] {
		case "from":
			return eachMap(c.From, r[1:], fn)
		case "to":
			return eachMap(c.To, r[1:], fn)
		}
	}
	return true
}

func (c *Client) each(rest []string, fn func(any) bool) bool {
	if len(rest) == 0 {
		return eachObject(rest, fn, c.appendJSON)
	}
	switch rest[0] {
	case "useragent":
		u := c.UserAgent
		if u == nil {
			return true
		}
		r := rest[1:]
		if len(r) == 0 {
			return eachObject(r, fn, u.appendJSON)
		}
		switch r[0] {
		case "rawuseragent":
			return eachStr(u.RawUserAgent, r[1:], fn)
		case "os":
			return eachStr(u.OS, r[1:], fn)
		case "browser":
			return eachStr(u.Browser, r[1:], fn)
		}
	case "zone":
		return eachStr(c.Zone, rest[1:], fn)
	case "device":
		return eachStr(c.Device, rest[1:], fn)
	case "id":
		return eachStr(c.ID, rest[1:], fn)
	case "ipaddress":
		return eachStr(c.IPAddress, rest[1:], fn)
	case "geographicalcontext":
		if g := c.GeographicalContext; g != nil {
			return g.each(rest[1:], fn)
		}
	}
	return true
}

func (g *GeographicalContext) each(rest []string, fn func(any) bool) bool {
	if len(rest) == 0 {
		return eachObject(rest, fn, g.appendJSON)
	}
	switch rest[0] {
	case "city":
		return eachStr(g.City, rest[1:], fn)
	case "state":
		return eachStr(g.State, rest[1:], fn)
	case "country":
		return eachStr(g.Country, rest[1:], fn)
	case "postalcode":
		return eachStr(g.PostalCode, rest[1:], fn)
	case "geolocation":
		l := g.Geolocation
		if l == nil {
			return true
		}
		r := rest[1:]
		switch {
		case len(r) == 0:
			return eachObject(r, fn, l.appendJSON)
		case len(r) > 1:
			return true
		case r[0] == "lat":
			return fn(l.Lat)
		case r[0] == "lon":
			return fn(l.Lon)
		}
	}
	return true
}

func (v *Device) each(rest []string, fn func(any) bool) bool {
	if len(rest) == 0 {
		return eachObject(rest, fn, v.appendJSON)
	}
	r := rest[1:]
	switch rest[0] {
	case "id":
		return eachStr(v.ID, r, fn)
	case "name":
		return eachStr(v.Name, r, fn)
	case "os_platform":
		return eachStr(v.OSPlatform, r, fn)
	case "os_version":
		return eachStr(v.OSVersion, r, fn)
	case "managed":
		return eachBool(v.Managed, r, fn)
	case "registered":
		return eachBool(v.Registered, r, fn)
	case "device_integrator":
		if v.DeviceIntegrator != nil {
			return EachIn(v.DeviceIntegrator, r, fn)
		}
	case "disk_encryption_type":
		return eachStr(v.DiskEncryptionType, r, fn)
	case "screen_lock_type":
		return eachStr(v.ScreenLockType, r, fn)
	case "jailbreak":
		return eachBool(v.Jailbreak, r, fn)
	case "secure_hardware_present":
		return eachBool(v.SecureHardwarePresent, r, fn)
	}
	return true
}

func (a *AuthenticationContext) each(rest []string, fn func(any) bool) bool {
	if len(rest) == 0 {
		return eachObject(rest, fn, a.appendJSON)
	}
	r := rest[1:]
	switch rest[0] {
	case "authenticationprovider":
		return eachStr(a.AuthenticationProvider, r, fn)
	case "credentialprovider":
		return eachStr(a.CredentialProvider, r, fn)
	case "credentialtype":
		return eachStr(a.CredentialType, r, fn)
	case "issuer":
		is := a.Issuer
		if is == nil {
			return true
		}
		if len(r) == 0 {
			return eachObject(r, fn, is.appendJSON)
		}
		switch r[0] {
		case "id":
			return eachStr(is.ID, r[1:], fn)
		case "type":
			return eachStr(is.Type, r[1:], fn)
		}
	case "interface":
		return eachStr(a.Interface, r, fn)
	case "authenticationstep":
		if len(r) == 0 {
			return fn(int64(a.AuthenticationStep))
		}
	case "externalsessionid":
		return eachStr(a.ExternalSessionID, r, fn)
	case "rootsessionid":
		return eachStr(a.RootSessionID, r, fn)
	}
	return true
}

func (c *SecurityContext) each(rest []string, fn func(any) bool) bool {
	if len(rest) == 0 {
		return eachObject(rest, fn, c.appendJSON)
	}
	r := rest[1:]
	switch rest[0] {
	case "asnumber":
		if c.AsNumber != nil && len(r) == 0 {
			return fn(*c.AsNumber)
		}
	case "asorg":
		return eachStr(c.AsOrg, r, fn)
	case "isp":
		return eachStr(c.ISP, r, fn)
	case "domain":
		return eachStr(c.Domain, r, fn)
	case "isproxy":
		return eachBool(c.IsProxy, r, fn)
	case "ipdetails":
		return eachMap(c.IPDetails, r, fn)
	case "risk":
		return eachMap(c.Risk, r, fn)
	case "userbehaviors":
		if c.UserBehaviors != nil {
			return EachIn(c.UserBehaviors, r, fn)
		}
	case "botprotection":
		return eachMap(c.BotProtection, r, fn)
	}
	return true
}

func (e *IPChainEntry) each(rest []string, fn func(any) bool) bool {
	if len(rest) == 0 {
		return eachObject(rest, fn, e.appendJSON)
	}
	r := rest[1:]
	switch rest[0] {
	case "ip":
		return eachStr(e.IP, r, fn)
	case "geographicalcontext":
		if g := e.GeographicalContext; g != nil {
			return g.each(r, fn)
		}
	case "version":
		return eachStr(e.Version, r, fn)
	case "source":
		return eachStr(e.Source, r, fn)
	case "ipdetails":
		return eachMap(e.IPDetails, r, fn)
	}
	return true
}

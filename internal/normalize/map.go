package normalize

import (
	"net/netip"
	"strings"

	"github.com/idwatch/idwatch/internal/event"
)

// Status is an OCSF status_id with its caption.
type Status struct {
	ID   int
	Name string
}

// OutcomeStatus maps every Okta outcome.result to OCSF status_id/status. The action happened
// (1 Success), was refused or did not complete (2 Failure), or is neither (99 Other, status
// naming Okta's value); status_code always keeps Okta's value verbatim.
var OutcomeStatus = map[string]Status{
	"SUCCESS":    {1, "Success"},
	"ALLOW":      {1, "Success"},
	"FAILURE":    {2, "Failure"},
	"DENY":       {2, "Failure"},
	"RATE_LIMIT": {2, "Failure"},
	"UNANSWERED": {2, "Failure"},
	"UNKNOWN":    {0, "Unknown"},
	"":           {0, "Unknown"},
	"SKIPPED":    {99, "Skipped"},
	"CHALLENGE":  {99, "Challenge"},
	"DEFERRED":   {99, "Deferred"},
	"SCHEDULED":  {99, "Scheduled"},
	"ABANDONED":  {99, "Abandoned"},
}

// oktaSeverity maps Okta's severity to OCSF severity_id; risk levels can raise it.
var oktaSeverity = map[string]int{"DEBUG": 1, "INFO": 1, "WARN": 3, "ERROR": 4}

var severityNames = map[int]string{0: "Unknown", 1: "Informational", 2: "Low", 3: "Medium", 4: "High"}

// debugData keys that have an OCSF home (http_request); the rest go to unmapped.
var mappedDebugKeys = map[string]bool{"requestId": true, "requestUri": true}

// mapEvent maps ev into blk, which holds the record and the objects it points to.
func (n *Normalizer) mapEvent(ev *event.LogEvent, meta Meta, blk *mapBlock) *OCSF {
	class, activity := n.cls.classify(ev.EventType)
	ci := classes[class]
	o := &blk.o
	*o = OCSF{
		ActivityID: activity, CategoryUID: ci.category, CategoryName: ci.catName,
		ClassUID: class, ClassName: ci.name, TypeUID: class*100 + activity, TypeName: n.typeNames[class*100+activity],
		Time: eventTime(ev, meta), Message: ev.DisplayMessage,
	}
	o.ActivityName = ci.activities[activity]
	if activity == ActivityOther {
		o.ActivityName = ev.EventType
	}
	o.Metadata = Metadata{UID: ev.UUID, EventCode: ev.EventType, ProductVersion: ev.Version,
		TenantUID: meta.TenantUID, OriginalTime: ev.Published}
	if !meta.LoggedTime.IsZero() {
		o.Metadata.LoggedTime = meta.LoggedTime.UnixMilli()
	}
	if !meta.ProcessedTime.IsZero() {
		o.Metadata.ProcessedTime = meta.ProcessedTime.UnixMilli()
	}
	if ev.Transaction != nil {
		o.Metadata.CorrelationUID = ev.Transaction.ID
	}

	result, reason := "", ""
	if ev.Outcome != nil {
		result, reason = ev.Outcome.Result, ev.Outcome.Reason
	}
	st, ok := OutcomeStatus[result]
	if !ok {
		st = Status{99, result}
	}
	o.StatusID, o.Status, o.StatusCode, o.StatusDetail = st.ID, st.Name, result, reason

	var dd map[string]any
	if ev.DebugContext != nil {
		dd = ev.DebugContext.DebugData
	}
	var risk any
	if ev.SecurityContext != nil {
		risk = ev.SecurityContext.Risk
	}
	sev := oktaSeverity[ev.Severity]
	if r := riskRank[riskLevel(dd["risk"], dd["logOnlySecurityData"], risk)]; r > sev {
		sev = r
	}
	o.SeverityID, o.Severity = sev, severityNames[sev]

	o.Actor = actorOf(ev, blk)
	o.SrcEndpoint = n.endpointOf(ev, blk)
	o.HTTPRequest = httpRequestOf(ev, dd, &blk.http)
	if d := deviceOf(ev.Device); d != nil {
		o.Device = d
		o.Metadata.Profiles = hostProfile
	}

	switch class {
	case ClassAuthentication:
		o.User = subjectUser(ev, true, &blk.user)
		if o.Actor != nil {
			o.Session = o.Actor.Session
		}
		var mfa bool
		if o.AuthFactors, mfa = factorsOf(ev, dd); mfa {
			blk.mfa = true
			o.IsMFA = &blk.mfa
		}
		o.AuthProtocolID, o.AuthProtocol = protocolOf(ev.EventType, dd)
		if app := firstTarget(ev, "AppInstance"); app != nil {
			o.Service = &Named{UID: app.ID, Name: app.DisplayName}
		}
		if activity == 7 {
			o.AccountSwitchTypeID, o.AccountSwitchType = 2, "Impersonate"
		}
	case ClassAccountChange:
		o.User = subjectUser(ev, true, &blk.user)
		if activity == 10 || activity == 11 || strings.HasPrefix(ev.EventType, "user.mfa.") {
			o.AuthFactors, _ = factorsOf(ev, dd)
		}
	case ClassAuthorizeSession:
		o.User = subjectUser(ev, true, &blk.user)
		if o.Actor != nil {
			o.Session = o.Actor.Session
		}
		o.Privileges = privilegesOf(dd, nil)
	case ClassUserAccess:
		o.User = subjectUser(ev, true, &blk.user)
		var fallback []string
		if strings.HasPrefix(ev.EventType, "application.user_membership.") {
			fallback = appMember
		}
		o.Privileges = privilegesOf(dd, fallback)
		o.Resources = resourcesOf(ev, "User")
	case ClassGroupManagement:
		o.User = subjectUser(ev, false, &blk.user)
		o.Group = &Named{}
		if g := firstTarget(ev, "UserGroup"); g != nil {
			o.Group = &Named{UID: g.ID, Name: g.DisplayName, Type: g.Type}
		}
		if activity == 1 || activity == 2 {
			o.Privileges = privilegesOf(dd, nil)
		}
	case ClassEntityManagement:
		o.Entity = entityOf(ev)
	case ClassDetectionFinding:
		o.StatusID, o.Status = 1, "New"
		title := ev.DisplayMessage
		if title == "" {
			title = ev.EventType
		}
		o.FindingInfo = &FindingInfo{UID: ev.UUID, Title: title, Desc: reason, Types: []string{ev.EventType}, CreatedTime: o.Time}
		o.ActionID, o.Action, o.DispositionID, o.Disposition = dispositionOf(result)
		if o.Actor != nil || o.SrcEndpoint != nil || o.HTTPRequest != nil {
			o.Evidences = []Evidence{{Actor: o.Actor, SrcEndpoint: o.SrcEndpoint, HTTPRequest: o.HTTPRequest}}
		}
		o.SrcEndpoint, o.HTTPRequest = nil, nil
		o.Resources = resourcesOf(ev, "")
	default: // API Activity
		if o.Actor == nil {
			o.Actor = &Actor{AppName: ProductVendor}
		}
		if o.SrcEndpoint == nil {
			// No client: Okta itself produced the event (a JOB transaction).
			o.SrcEndpoint = &Endpoint{Name: ProductVendor}
		}
		reqID, _ := dd["requestId"].(string)
		o.API = &API{Operation: ev.EventType, RequestUID: reqID, Service: ProductName}
		o.Resources = resourcesOf(ev, "")
	}
	if meta.Enricher != nil {
		if o.Actor != nil {
			enrichUser(meta.Enricher, o.Actor.User)
		}
		if o.User != nil && (o.Actor == nil || o.User != o.Actor.User) {
			enrichUser(meta.Enricher, o.User)
		}
	}
	o.Source = ev
	return o
}

var (
	hostProfile = []string{"host"}
	appMember   = []string{"Application Member"}
)

// mapBlock holds a record's usual objects so that one allocation serves them all.
type mapBlock struct {
	o         OCSF
	actor     Actor
	actorUser User
	user      User
	session   Session
	src       Endpoint
	loc       Location
	srcOS     OS
	http      HTTPRequest
	mfa       bool
}

// userOf maps an Okta actor or target to an OCSF user, filling u.
func userOf(u *User, id, typ, alternateID, displayName string) *User {
	*u = User{UID: id, FullName: displayName, Type: typ}
	if alternateID != "" && alternateID != "unknown" {
		u.Name = alternateID
		if looksLikeEmail(alternateID) {
			u.EmailAddr = alternateID
		}
	} else if displayName != "" {
		u.Name = displayName
	}
	switch typ {
	case "User":
		u.TypeID = 1
	case "SystemPrincipal":
		u.TypeID = 3
	case "PublicClientApp", "AppInstance", "Client":
		u.TypeID = 4
	case "":
		u.Type = "Unknown"
	default:
		u.TypeID = 99
	}
	if u.UID == "" && u.Name == "" {
		u.Name = "unknown"
	}
	return u
}

// looksLikeEmail matches OCSF's email_t shape closely enough to keep invalid values out.
func looksLikeEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || strings.IndexByte(s[at+1:], '@') >= 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', ',', ';', ':', '<', '>', '(', ')', '[', ']', '\\', '"':
			return false
		}
	}
	dot := strings.LastIndexByte(s[at+1:], '.')
	return dot > 0 && dot < len(s[at+1:])-1
}

func actorOf(ev *event.LogEvent, blk *mapBlock) *Actor {
	a := ev.Actor
	if a == nil {
		return nil
	}
	act := &blk.actor
	act.User = userOf(&blk.actorUser, a.ID, a.Type, a.AlternateID, a.DisplayName)
	if a.Type == "PublicClientApp" || a.Type == "AppInstance" {
		act.AppName, act.AppUID = a.DisplayName, a.ID
	}
	if ac := ev.AuthenticationContext; ac != nil {
		sid := ac.ExternalSessionID
		if sid == "unknown" {
			sid = ""
		}
		if sid != "" || ac.RootSessionID != "" {
			blk.session = Session{UID: sid, UIDAlt: ac.RootSessionID}
			act.Session = &blk.session
			if ac.Issuer != nil {
				act.Session.Issuer = ac.Issuer.ID
			}
		}
	}
	return act
}

// subjectUser is the user the action was about: the first User target, else (when fallback)
// the actor.
func subjectUser(ev *event.LogEvent, fallback bool, u *User) *User {
	if t := firstTarget(ev, "User"); t != nil {
		return userOf(u, t.ID, t.Type, t.AlternateID, t.DisplayName)
	}
	if !fallback {
		return nil
	}
	if a := ev.Actor; a != nil {
		return userOf(u, a.ID, a.Type, a.AlternateID, a.DisplayName)
	}
	*u = User{Name: "unknown", Type: "Unknown"}
	return u
}

func firstTarget(ev *event.LogEvent, typ string) *event.Target {
	for i := range ev.Target {
		if ev.Target[i].Type == typ {
			return &ev.Target[i]
		}
	}
	return nil
}

// resourcesOf lists the targets (except those of type skip) as OCSF resources.
func resourcesOf(ev *event.LogEvent, skip string) []Resource {
	var out []Resource
	for _, t := range ev.Target {
		if t.Type == skip {
			continue
		}
		out = append(out, Resource{UID: t.ID, Name: t.DisplayName, Type: t.Type})
	}
	return out
}

func validIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// endpointOf maps where the request came from. The address is client.ipAddress, or when Okta
// has none there (absent, or the literal "null" it writes for an unknown client) the first hop of
// request.ipChain, with that hop's location when the client has none. securityContext (AS
// number and org, ISP, domain) describes the source network and is kept whatever the client
// object holds. Without an address or domain OCSF cannot identify the endpoint: the record has
// none, and its fields stay in unmapped.
func (n *Normalizer) endpointOf(ev *event.LogEvent, blk *mapBlock) *Endpoint {
	c, sc, r := ev.Client, ev.SecurityContext, ev.Request
	if c == nil && sc == nil && (r == nil || len(r.IPChain) == 0) {
		return nil
	}
	e := &blk.src
	var geo *event.GeographicalContext
	if c != nil {
		if validIP(c.IPAddress) {
			e.IP = c.IPAddress
		}
		if c.Zone != "null" {
			e.Zone = c.Zone
		}
		geo = c.GeographicalContext
	}
	if r != nil && len(r.IPChain) > 0 && e.IP == "" && (c == nil || absentIP(c.IPAddress)) && validIP(r.IPChain[0].IP) {
		e.IP = r.IPChain[0].IP
		if geo == nil {
			geo = r.IPChain[0].GeographicalContext
		}
	}
	if g := geo; g != nil && (g.City != "" || g.Country != "" || g.PostalCode != "" || g.State != "") {
		l := &blk.loc
		*l = Location{City: g.City, Region: g.State, PostalCode: g.PostalCode}
		// A name no table row knows stays in unmapped rather than break the alpha-2 format.
		if row := n.countries.lookup(g.Country); g.Country != "" && row != nil {
			l.Country, l.Continent = row.Code, row.Continent
		}
		if gl := g.Geolocation; gl != nil {
			l.Lat, l.Long = &gl.Lat, &gl.Lon
		}
		if *l != (Location{}) {
			e.Location = l
		}
	}
	if sc != nil {
		e.ASNumber, e.ASName, e.ISP, e.Domain = sc.AsNumber, sc.AsOrg, sc.ISP, sc.Domain
	}
	if r != nil && len(r.IPChain) > 1 {
		for _, hop := range r.IPChain[1:] {
			if validIP(hop.IP) {
				e.IntermediateIPs = append(e.IntermediateIPs, hop.IP)
			}
		}
	}
	if c != nil {
		if ua := c.UserAgent; ua != nil && ua.OS != "" && ua.OS != "Unknown" {
			e.OS = osOf(&blk.srcOS, ua.OS, "")
		}
	}
	if e.IP == "" && e.Location == nil && e.Domain == "" {
		// Nothing OCSF can identify the source by; the client and network fields stay in unmapped.
		*e = Endpoint{}
		return nil
	}
	return e
}

// absentIP reports whether Okta's client.ipAddress says the address is unknown: empty, or the
// literal "null" Okta writes for it.
func absentIP(s string) bool {
	s = strings.TrimSpace(s)
	return s == "" || strings.EqualFold(s, "null")
}

// sourceMapped reports whether the record has a source endpoint (src_endpoint, or the evidence a
// Detection Finding moves it to), which holds the securityContext's network fields.
func sourceMapped(o *OCSF) bool {
	return o.SrcEndpoint != nil || (len(o.Evidences) > 0 && o.Evidences[0].SrcEndpoint != nil)
}

// osOf maps an OS name (Okta's user-agent parse or device platform) to OCSF os.
func osOf(o *OS, name, version string) *OS {
	*o = OS{Name: name, Version: version}
	l := strings.ToLower(name)
	switch {
	case strings.Contains(l, "windows"):
		o.TypeID, o.Type = 100, "Windows"
	case strings.Contains(l, "android"):
		o.TypeID, o.Type = 201, "Android"
	case strings.Contains(l, "ipad"):
		o.TypeID, o.Type = 302, "iPadOS"
	// Okta names an iPhone's OS "Mac OS X (iPhone)" in some user-agent parses: the device decides.
	case strings.Contains(l, "iphone") || strings.Contains(l, "ipod"),
		strings.Contains(l, "ios") && !strings.Contains(l, "chromeos"):
		o.TypeID, o.Type = 301, "iOS"
	case strings.Contains(l, "mac") || l == "osx":
		o.TypeID, o.Type = 300, "macOS"
	case strings.Contains(l, "linux") || strings.Contains(l, "ubuntu") || strings.Contains(l, "chromeos") || strings.Contains(l, "chrome os"):
		o.TypeID, o.Type = 200, "Linux"
	default:
		o.TypeID, o.Type = 99, "Other"
	}
	return o
}

func httpRequestOf(ev *event.LogEvent, dd map[string]any, dst *HTTPRequest) *HTTPRequest {
	h := HTTPRequest{}
	if c := ev.Client; c != nil && c.UserAgent != nil {
		h.UserAgent = c.UserAgent.RawUserAgent
	}
	h.UID, _ = dd["requestId"].(string)
	if uri, _ := dd["requestUri"].(string); uri != "" {
		h.URLPath, _, _ = strings.Cut(uri, "?")
	}
	if h == (HTTPRequest{}) {
		return nil
	}
	*dst = h
	return dst
}

func deviceOf(d *event.Device) *Device {
	if d == nil || (d.ID == "" && d.Name == "") {
		return nil
	}
	out := &Device{UID: d.ID, Name: d.Name, IsManaged: d.Managed, Type: "Unknown"}
	if d.OSPlatform != "" {
		out.OS = osOf(new(OS), d.OSPlatform, d.OSVersion)
		if out.OS.TypeID == 301 || out.OS.TypeID == 201 {
			out.TypeID, out.Type = 5, "Mobile"
		}
	}
	return out
}

// factorTypes maps Okta factor names (debugData.factor, authenticator names) to
// auth_factor.factor_type_id; the first matching fragment wins.
var factorTypes = []struct {
	fragment string
	id       int
}{
	{"PUSH", 5},
	{"SMS", 1},
	{"CALL", 3},
	{"VOICE", 3},
	{"EMAIL", 8},
	{"WEBAUTHN", 10},
	{"FIDO", 10},
	{"SECURITY KEY", 10},
	{"U2F", 9},
	{"YUBIKEY", 6},
	{"HARDWARE", 6},
	{"QUESTION", 2},
	{"PASSWORD", 11},
	{"TOTP", 7},
	{"GOOGLE", 7},
	{"OTP", 7},
	{"TOKEN", 6},
	{"OKTA VERIFY", 5},
	{"OKTA_VERIFY", 7},
	{"PHONE", 1},
}

// factorsOf reads the factor used from debugData.factor, else an AuthenticatorEnrollment target,
// and says whether the event is MFA (an MFA event type, or a factor other than a password).
func factorsOf(ev *event.LogEvent, dd map[string]any) ([]AuthFactor, bool) {
	name, _ := dd["factor"].(string)
	if name == "" {
		if t := firstTarget(ev, "AuthenticatorEnrollment"); t != nil {
			name = t.DisplayName
		}
	}
	var factors []AuthFactor
	mfa := ev.EventType == "user.authentication.auth_via_mfa"
	if name != "" {
		f := AuthFactor{FactorTypeID: 99, FactorType: name}
		upper := strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		for _, ft := range factorTypes {
			if strings.Contains(upper, ft.fragment) {
				f.FactorTypeID = ft.id
				break
			}
		}
		if ac := ev.AuthenticationContext; ac != nil {
			f.Provider = ac.CredentialProvider
		}
		factors = []AuthFactor{f}
		mfa = mfa || f.FactorTypeID != 11
	}
	return factors, mfa
}

// protocolOf derives auth_protocol_id from the event type or debugData.signOnMode.
func protocolOf(eventType string, dd map[string]any) (int, string) {
	switch {
	case eventType == "app.oauth2.as.token.grant.id_token":
		return 4, "OpenID"
	case strings.HasPrefix(eventType, "app.oauth2."):
		return 6, "OAUTH 2.0"
	case eventType == "user.authentication.auth_via_radius":
		return 10, "RADIUS"
	case strings.HasPrefix(eventType, "user.authentication.auth_via_ldap"), strings.HasPrefix(eventType, "user.authentication.auth_via_LDAP"):
		return 12, "LDAP"
	}
	mode, _ := dd["signOnMode"].(string)
	m := strings.ToUpper(mode)
	switch {
	case m == "":
		return 0, ""
	case strings.Contains(m, "SAML"):
		return 5, "SAML"
	case strings.Contains(m, "OPENID") || strings.Contains(m, "OIDC"):
		return 4, "OpenID"
	case strings.Contains(m, "OAUTH"):
		return 6, "OAUTH 2.0"
	}
	return 99, mode
}

// privilegesOf reads the comma-separated role labels of debugData.privilegeGranted or
// privilegeRevoked.
func privilegesOf(dd map[string]any, fallback []string) []string {
	for _, k := range []string{"privilegeGranted", "privilegeRevoked"} {
		if s, _ := dd[k].(string); strings.TrimSpace(s) != "" {
			var out []string
			for p := range strings.SplitSeq(s, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
			return out
		}
	}
	if fallback == nil {
		return []string{}
	}
	return fallback
}

// entityTypes maps Okta target types to managed_entity.type_id.
var entityTypes = map[string]int{
	"PolicyEntity": 5, "PolicyRule": 5, "User": 2, "UserGroup": 3, "NetworkZone": 7, "Zone": 7, "Device": 1,
}

func entityOf(ev *event.LogEvent) *Entity {
	var policy, subject *event.Target
	for i := range ev.Target {
		t := &ev.Target[i]
		switch {
		case t.Type == "PolicyEntity":
			policy = t
			if subject == nil {
				subject = t
			}
		case t.Type == "PolicyRule":
			subject = t
		case subject == nil:
			subject = t
		}
	}
	if subject == nil {
		return &Entity{Name: ev.EventType, Type: "Unknown"}
	}
	e := &Entity{UID: subject.ID, Name: subject.DisplayName, Type: subject.Type, TypeID: entityTypes[subject.Type]}
	switch {
	case strings.HasPrefix(ev.EventType, "zone.") || strings.HasPrefix(ev.EventType, "network_zone."):
		e.TypeID = 7
	case e.TypeID == 0:
		e.TypeID = 99
	}
	if policy != nil {
		e.Policy = &Named{UID: policy.ID, Name: policy.DisplayName}
		if pt, _ := policy.DetailEntry["policyType"].(string); pt != "" {
			e.Policy.Type = pt
		}
	}
	if cd := subject.ChangeDetails; cd != nil {
		e.Data = map[string]any{}
		if cd.From != nil {
			e.Data["from"] = cd.From
		}
		if cd.To != nil {
			e.Data["to"] = cd.To
		}
	}
	return e
}

// dispositionOf maps an Okta-native finding's outcome to OCSF action and disposition.
func dispositionOf(result string) (int, string, int, string) {
	switch result {
	case "ALLOW", "SUCCESS":
		return 1, "Allowed", 1, "Allowed"
	case "DENY", "FAILURE", "RATE_LIMIT":
		return 2, "Denied", 2, "Blocked"
	case "CHALLENGE":
		return 99, "Challenge", 23, "Challenge"
	}
	return 0, "", 15, "Detected"
}

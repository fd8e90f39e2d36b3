package scenario

import (
	"time"

	"github.com/idwatch/idwatch/internal/event"
)

// meta is what Okta writes for an event type regardless of the instance.
type meta struct{ legacy, display, severity string }

// catalog holds the envelope values per event type. Values follow okta-api.md §2; where Okta's
// catalog gives no legacy type, none is written.
var catalog = map[string]meta{
	"user.session.start":                                 {"core.user_auth.login_success", "User login to Okta", "INFO"},
	"user.session.end":                                   {"core.user_auth.logout_success", "User logout from Okta", "INFO"},
	"user.session.clear":                                 {"", "Clear user session", "INFO"},
	"user.session.access_admin_app":                      {"", "User accessing Okta admin app", "INFO"},
	"user.authentication.auth_via_mfa":                   {"core.user.factor.attempt_success", "Authentication of user via MFA", "INFO"},
	"user.authentication.sso":                            {"app.auth.sso", "User single sign on to app", "INFO"},
	"user.authentication.verify":                         {"", "Verify user identity", "INFO"},
	"user.authentication.authenticate":                   {"", "Authenticate user with AD agent", "INFO"},
	"policy.evaluate_sign_on":                            {"", "Evaluation of sign-on policy", "INFO"},
	"system.push.send_factor_verify_push":                {"core.user.factor.push_sent", "Push notification sent for verification", "INFO"},
	"user.mfa.okta_verify.deny_push":                     {"core.user.factor.attempt_fail", "User rejected Okta push verify", "WARN"},
	"user.account.lock":                                  {"core.user_auth.account_locked", "Max sign in attempts exceeded", "DEBUG"},
	"user.account.unlock":                                {"core.user.config.user_status.account_unlock", "Unlock user account", "INFO"},
	"user.account.privilege.grant":                       {"core.user.admin_privilege.granted", "Grant user privilege", "INFO"},
	"user.account.privilege.revoke":                      {"core.user.admin_privilege.revoked", "Revoke user privilege", "INFO"},
	"user.account.update_password":                       {"core.user.config.password_update.success", "User update password for Okta", "INFO"},
	"user.account.reset_password":                        {"core.user.config.password_reset", "Reset user password", "INFO"},
	"user.account.update_profile":                        {"core.user.config.profile_update.success", "Update user profile for Okta", "INFO"},
	"user.account.report_suspicious_activity_by_enduser": {"", "User report suspicious activity", "WARN"},
	"user.mfa.factor.activate":                           {"core.user.factor.activate", "Activate factor or authenticator", "INFO"},
	"user.mfa.factor.deactivate":                         {"core.user.factor.deactivate", "Reset factor or authenticator", "INFO"},
	"user.mfa.factor.reset_all":                          {"core.user.factor.reset_all", "Reset all factors for user", "INFO"},
	"user.credential.enroll":                             {"", "Enroll user credential", "INFO"},
	"user.lifecycle.create":                              {"core.user.config.user_creation.success", "Create Okta user", "INFO"},
	"user.lifecycle.activate":                            {"core.user.config.user_activated", "Activate Okta user", "INFO"},
	"user.lifecycle.deactivate":                          {"core.user.config.user_deactivated", "Deactivate Okta user", "INFO"},
	"user.lifecycle.suspend":                             {"core.user.config.user_status.suspended", "Suspend Okta user", "INFO"},
	"user.lifecycle.unsuspend":                           {"core.user.config.user_status.unsuspended", "Unsuspend Okta user", "INFO"},
	"user.lifecycle.reactivate":                          {"core.user.config.user_reactivated", "Reactivate Okta user", "INFO"},
	"user.lifecycle.delete.initiated":                    {"core.user.config.user_deletion.initiated", "Delete Okta user initiated", "INFO"},
	"group.user_membership.add":                          {"core.user_group_member.user_add", "Add user to group membership", "INFO"},
	"group.user_membership.remove":                       {"core.user_group_member.user_remove", "Remove user from group membership", "INFO"},
	"application.user_membership.add":                    {"app.generic.provision.assign_user_to_app", "Add user to application membership", "INFO"},
	"application.user_membership.remove":                 {"app.generic.unprovision.deactivate_user_from_app", "Remove user from application membership", "INFO"},
	"application.user_membership.change_password":        {"app.generic.config.app_password_update", "Change user password for application", "INFO"},
	"application.provision.user.sync":                    {"app.user_management.push_profile_success", "Sync user profile to application", "INFO"},
	"policy.lifecycle.create":                            {"", "Create policy", "INFO"},
	"policy.lifecycle.update":                            {"", "Update policy", "INFO"},
	"policy.lifecycle.activate":                          {"", "Activate policy", "INFO"},
	"policy.lifecycle.deactivate":                        {"", "Deactivate policy", "INFO"},
	"policy.rule.add":                                    {"", "Add policy rule", "INFO"},
	"policy.rule.update":                                 {"", "Update policy rule", "INFO"},
	"policy.rule.deactivate":                             {"", "Deactivate policy rule", "INFO"},
	"system.api_token.create":                            {"api.token.create", "Create API token", "INFO"},
	"system.api_token.revoke":                            {"api.token.revoke", "Revoke API token", "INFO"},
	"system.import.start":                                {"", "Import started", "INFO"},
	"system.import.complete":                             {"", "Import complete", "INFO"},
	"system.sms.send_phone_verification_message":         {"", "Send phone verification SMS message", "INFO"},
	"system.voice.send_phone_verification_call":          {"", "Send phone verification voice call", "INFO"},
	"app.oauth2.as.authorize.code":                       {"", "OAuth2 authorization code request", "INFO"},
	"app.oauth2.as.token.grant.access_token":             {"", "OAuth2 access token is granted", "INFO"},
	"app.oauth2.as.token.grant.id_token":                 {"", "OAuth2 id token is granted", "INFO"},
	"app.oauth2.as.token.grant.refresh_token":            {"", "OAuth2 refresh token is granted", "INFO"},
	"inline_hook.response.processed":                     {"", "Inline hook response processed", "INFO"},
	"security.threat.detected":                           {"", "Request from suspicious actor", "WARN"},
	"system.idp.lifecycle.create":                        {"", "Create Identity Provider", "INFO"},
	"system.idp.lifecycle.activate":                      {"", "Activate Identity Provider", "INFO"},
	"system.log_stream.lifecycle.deactivate":             {"", "Deactivate log stream", "INFO"},
	"system.log_stream.lifecycle.delete":                 {"", "Delete log stream", "INFO"},
	"user.risk.change":                                   {"", "User risk level changed", "WARN"},
}

// Outcomes are shared by many events; emitted events must be treated as read-only.
var (
	outSuccess   = &event.Outcome{Result: "SUCCESS"}
	outAllow     = &event.Outcome{Result: "ALLOW"}
	outChallenge = &event.Outcome{Result: "CHALLENGE"}
)

func outFailure(reason string) *event.Outcome {
	return &event.Outcome{Result: "FAILURE", Reason: reason}
}

// origin is where a request comes from. It is built once per session and shared by its events.
type origin struct {
	client      *event.Client
	sec         *event.SecurityContext
	req         *event.Request
	device      *event.Device
	dtHash      string
	fingerprint string
	lat, lon    float64
	city        *city
	net         *network
	boxed       uriValues // dtHash and fingerprint as interface values
}

// newOrigin builds the request context of a device at an address; dev may be nil (no Okta device).
func newOrigin(ip string, c *city, n *network, dev *Device, ua *event.UserAgent, clientDevice, zone string) *origin {
	geo := &event.GeographicalContext{City: c.Name, State: c.State, Country: c.Country, PostalCode: c.Postal,
		Geolocation: &event.Geolocation{Lat: c.Lat, Lon: c.Lon}}
	o := &origin{lat: c.Lat, lon: c.Lon, city: c, net: n}
	o.client = &event.Client{UserAgent: ua, Zone: zone, Device: clientDevice, IPAddress: ip, GeographicalContext: geo}
	asn := n.ASN
	proxy := n.Kind == netVPN || n.Kind == netTor || n.Service == "Proxy"
	o.sec = &event.SecurityContext{AsNumber: &asn, AsOrg: n.Org, ISP: n.ISP, Domain: n.Domain, IsProxy: &proxy}
	hop := event.IPChainEntry{IP: ip, GeographicalContext: geo, Version: "V4"}
	if n.Service != "" {
		cat := map[string]any{"type": n.Service, "operator": n.Operator, "isAnonymous": true}
		details := map[string]any{"asNumber": asn, "asOrg": n.Org, "isp": n.ISP, "domain": n.Domain, "ipServiceCategories": []any{cat}}
		o.sec.IPDetails = details
		hop.IPDetails = details
	}
	o.req = &event.Request{IPChain: []event.IPChainEntry{hop}}
	if dev != nil {
		t, f := true, false
		o.device = &event.Device{ID: dev.OktaDeviceID, Name: dev.Name, OSPlatform: dev.Platform, OSVersion: dev.OSVersion,
			Managed: &dev.Managed, Registered: &t, DiskEncryptionType: dev.DiskEncryption, ScreenLockType: dev.ScreenLock,
			Jailbreak: &f, SecureHardwarePresent: &t}
		o.dtHash, o.fingerprint = dev.DTHash, dev.Fingerprint
	}
	return o
}

// deviceUA is Okta's parse of a device's User-Agent.
func deviceUA(d *Device) *event.UserAgent {
	return &event.UserAgent{RawUserAgent: d.UserAgent, OS: d.OS, Browser: d.Browser}
}

func userActor(p *Person) *event.Actor {
	return &event.Actor{ID: p.ID, Type: "User", AlternateID: p.Login, DisplayName: p.DisplayName()}
}

func userTarget(p *Person) event.Target {
	return event.Target{ID: p.ID, Type: "User", AlternateID: p.Login, DisplayName: p.actor.DisplayName}
}

func appTarget(a *App) event.Target {
	return event.Target{ID: a.ID, Type: "AppInstance", AlternateID: a.Label, DisplayName: a.Label}
}

func factorTarget(f Factor) event.Target {
	return event.Target{ID: f.ID, Type: "AuthenticatorEnrollment", AlternateID: "unknown", DisplayName: f.Name, DetailEntry: f.detail}
}

func passwordTarget(p *Person) event.Target {
	return event.Target{ID: "lae" + p.ID[3:], Type: "AuthenticatorEnrollment", AlternateID: "unknown", DisplayName: "Password"}
}

// systemActor is Okta itself, the actor of jobs.
var systemActor = &event.Actor{ID: "0oa1system0000000000", Type: "SystemPrincipal", AlternateID: "system@okta.com", DisplayName: "Okta System"}

// newEvent returns an event of type typ with the envelope, a fresh request id and a SUCCESS outcome.
func newEvent(r *rng, t time.Time, typ string, actor *event.Actor, o *origin) *event.LogEvent {
	m := catalog[typ]
	sev := m.severity
	if sev == "" {
		sev = "INFO"
	}
	rid := r.requestID()
	// One allocation for the event and the sub-objects it never shares.
	b := &struct {
		ev event.LogEvent
		tx event.Transaction
		dc event.DebugContext
		ac event.AuthenticationContext
	}{}
	b.tx = event.Transaction{Type: "WEB", ID: rid}
	b.dc.DebugData = newDebugData(rid)
	ev := &b.ev
	*ev = event.LogEvent{
		UUID: r.uuid(), Published: t.UTC().Truncate(time.Millisecond), EventType: typ, Version: "0", Severity: sev,
		LegacyEventType: m.legacy, DisplayMessage: m.display, Actor: actor, Outcome: outSuccess,
		Transaction: &b.tx, DebugContext: &b.dc, AuthenticationContext: &b.ac,
	}
	if o != nil {
		ev.Client, ev.SecurityContext, ev.Request = o.client, o.sec, o.req
	}
	return ev
}

// newDebugData is sized for the keys events usually carry, so that filling it does not regrow it.
func newDebugData(rid string) map[string]any {
	m := make(map[string]any, 8)
	m["requestId"] = rid
	m["threatSuspected"] = "false"
	return m
}

// jobEvent returns an event of a background job: no HTTP client, transaction type JOB.
func jobEvent(r *rng, t time.Time, typ string, actor *event.Actor) *event.LogEvent {
	ev := newEvent(r, t, typ, actor, nil)
	ev.Transaction.Type = "JOB"
	delete(ev.DebugContext.DebugData, "threatSuspected")
	return ev
}

// setTransaction sets the transaction id and the matching debugData.requestId.
func setTransaction(ev *event.LogEvent, id string) {
	ev.Transaction.ID = id
	ev.DebugContext.DebugData["requestId"] = id
}

// uriValues is a request path and its url form ("path?"), boxed once so that filling debugData
// with them does not allocate.
type uriValues struct{ uri, url any }

func newURIValues(path string) uriValues { return uriValues{path, path + "?"} }

// commonURIs are the paths of the sign-in flow, which nearly every event carries.
var commonURIs = func() map[string]uriValues {
	m := map[string]uriValues{}
	for _, p := range []string{"/idp/idx/challenge/answer", "/idp/idx/identify", "/idp/idx/challenge", "/idp/idx/authenticators/poll",
		"/oauth2/v1/token", "/oauth2/v1/authorize", "/login/signout", "/idp/idx/credential/enroll", "/app/sso/redirect", "/admin/sso/request"} {
		m[p] = newURIValues(p)
	}
	return m
}()

// setURI records the request path of the event.
func setURI(ev *event.LogEvent, uri string) {
	u, ok := commonURIs[uri]
	if !ok {
		u = newURIValues(uri)
	}
	setURIValues(ev, u)
}

func setURIValues(ev *event.LogEvent, u uriValues) {
	ev.DebugContext.DebugData["requestUri"] = u.uri
	ev.DebugContext.DebugData["url"] = u.url
}

// inSession ties the event to a session.
func inSession(ev *event.LogEvent, sessionID string) {
	ev.AuthenticationContext.ExternalSessionID = sessionID
	ev.AuthenticationContext.RootSessionID = sessionID
}

// withDevice adds the OIE device and the device-token fields of o to an authentication event.
func withDevice(ev *event.LogEvent, o *origin) {
	ev.Device = o.device
	if o.dtHash != "" {
		if o.boxed.uri == nil {
			o.boxed = uriValues{o.dtHash, o.fingerprint} // boxed once per origin
		}
		ev.DebugContext.DebugData["dtHash"] = o.boxed.uri
		ev.DebugContext.DebugData["deviceFingerprint"] = o.boxed.url
	}
}

// Behavior strings of a sign-in with nothing new, the common case.
var (
	quietBehaviors  any = behaviors(false, false, false, false, false)
	quietLogOnly    any = logOnlySecurityData("LOW", false, false, false, false, false)
	travelBehaviors any = behaviors(true, false, true, false, false)
	travelLogOnly   any = logOnlySecurityData("LOW", true, false, true, false, false)
	abroadBehaviors any = behaviors(true, false, true, true, false)
	abroadLogOnly   any = logOnlySecurityData("LOW", true, false, true, true, false)
)

// mfaEvent is a user.authentication.auth_via_mfa for factor f with the given outcome.
func mfaEvent(r *rng, t time.Time, p *Person, o *origin, f Factor, sid string, out *event.Outcome) *event.LogEvent {
	ev := newEvent(r, t, "user.authentication.auth_via_mfa", p.actor, o)
	inSession(ev, sid)
	withDevice(ev, o)
	ev.Outcome = out
	if out.Result != "SUCCESS" {
		ev.Severity = "WARN"
		ev.LegacyEventType = "core.user.factor.attempt_fail"
	}
	ev.AuthenticationContext.AuthenticationProvider = "FACTOR_PROVIDER"
	ev.AuthenticationContext.CredentialProvider = "OKTA_CREDENTIAL_PROVIDER"
	ev.DebugContext.DebugData["factor"] = f.DebugName
	ev.DebugContext.DebugData["factorIntent"] = "AUTHENTICATION"
	setURI(ev, "/idp/idx/authenticators/poll")
	ev.Target = []event.Target{userTarget(p), factorTarget(f)}
	return ev
}

// behaviors formats Okta's behavior-detection map the way debugData carries it.
func behaviors(newGeo, newDevice, newIP, newCountry, velocity bool) string {
	v := func(b bool) string {
		if b {
			return "POSITIVE"
		}
		return "NEGATIVE"
	}
	return "{New Geo-Location=" + v(newGeo) + ", New Device=" + v(newDevice) + ", New IP=" + v(newIP) +
		", New State=" + v(newGeo) + ", New Country=" + v(newCountry) + ", Velocity=" + v(velocity) + ", New City=" + v(newGeo) + "}"
}

// logOnlySecurityData is the JSON string Okta writes beside behaviors.
func logOnlySecurityData(level string, newGeo, newDevice, newIP, newCountry, velocity bool) string {
	v := func(b bool) string {
		if b {
			return `"POSITIVE"`
		}
		return `"NEGATIVE"`
	}
	return `{"risk":{"level":"` + level + `"},"behaviors":{"New Geo-Location":` + v(newGeo) + `,"New Device":` + v(newDevice) +
		`,"New IP":` + v(newIP) + `,"New State":` + v(newGeo) + `,"New Country":` + v(newCountry) + `,"Velocity":` + v(velocity) +
		`,"New City":` + v(newGeo) + `}}`
}

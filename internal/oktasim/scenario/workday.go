package scenario

import (
	"hash/fnv"
	"slices"
	"time"

	"github.com/idwatch/idwatch/internal/event"
)

// dayPlan plans one UTC day: every person's local working day that falls on that date, admin work
// in the admins' sessions, and the org's background jobs.
type dayPlan struct {
	g       *Generator
	r       *rng
	day     time.Time // UTC midnight
	weekend bool
	admins  []liveSession // admins signed in to the Admin Console
	workers []liveSession // everyone signed in for a working session
	worked  map[*Person]bool
	touched map[*Person]bool // subjects of today's admin tasks and jobs
	hires   []*Person
}

// liveSession is a window in which a signed-in person can act.
type liveSession struct {
	p        *Person
	o        *origin
	sid      string
	from, to time.Time
}

func (g *Generator) planDay(day time.Time) {
	dp := &dayPlan{g: g, r: newRNG(g.cfg.Seed, streamID("day", day.Format(time.DateOnly))), day: day}
	dp.weekend = day.Weekday() == time.Saturday || day.Weekday() == time.Sunday
	dp.worked, dp.touched = map[*Person]bool{}, map[*Person]bool{}
	for _, p := range g.people {
		dp.personDay(p)
	}
	dp.adminWork()
	dp.jobs()
	g.people = append(g.people, dp.hires...)
}

// personDay plans one person's working day.
func (dp *dayPlan) personDay(p *Person) {
	r, cfg := dp.r, dp.g.cfg
	if p.Status != StatusActive && p.Status != StatusPasswordExpired {
		return
	}
	works := r.chance(0.94)
	if dp.weekend {
		share := cfg.WeekendShare
		if p.Hours.Weekends {
			share *= 3
		}
		works = r.chance(share)
	}
	if !works {
		return
	}
	localMidnight := dp.day.Add(-time.Duration(p.UTCOffset) * time.Minute)
	start := localMidnight.Add(time.Duration(p.Hours.StartMinute+r.between(-20, 20))*time.Minute + time.Duration(r.IntN(60000))*time.Millisecond)
	length := time.Duration(p.Hours.Minutes+r.between(-45, 45)) * time.Minute
	if dp.weekend {
		length = time.Duration(r.between(30, 180)) * time.Minute
	}
	end := start.Add(length)
	comp := &p.Devices[0]
	ip, c, n, zone := p.HomeIP, p.home, p.homeNet, "null"
	if p.OfficeIP != "" && !dp.weekend && r.chance(0.6) {
		ip, c, n, zone = p.OfficeIP, &cities[p.office], &networks[20], "Corporate Offices"
	}
	home := newOrigin(ip, c, n, comp, deviceUA(comp), comp.Kind, zone)

	here, flying := p.home, true
	switch {
	case p.trip != nil && !dp.day.Before(p.trip.until):
		dp.flight(p, p.trip.origin(comp), home, start, end, sessionOpts{})
		p.trip = nil
	case p.trip != nil:
		here, flying = p.trip.dest, false
		dp.session(p, p.trip.origin(comp), start, end, sessionOpts{away: true})
	case !dp.weekend && r.chance(cfg.TravelShare):
		dest := &cities[pick(r, homeCities)]
		for dest == p.home {
			dest = &cities[pick(r, homeCities)]
		}
		carrier := &networks[dest.Mobile]
		p.trip = &trip{dest: dest, net: carrier, ip: ipIn(r, carrier), until: dp.day.AddDate(0, 0, r.between(2, 5))}
		dp.flight(p, home, p.trip.origin(comp), start, end, sessionOpts{away: true, newGeo: true, newCountry: dest.Country != p.Country})
	default:
		flying = false
		dp.session(p, home, start, end, sessionOpts{})
	}
	if mob := p.mobile(); mob != nil && !flying && r.chance(0.35) {
		t := start.Add(time.Duration(r.Int64N(int64(length))))
		carrier := &networks[here.Mobile]
		mo := newOrigin(ipIn(r, carrier), here, carrier, mob, deviceUA(mob), mob.Kind, "null")
		dp.session(p, mo, t, t.Add(time.Duration(r.between(5, 40))*time.Minute), sessionOpts{short: true})
	}
}

// trip is a person away from home for a few days, signing in through a local mobile carrier.
type trip struct {
	dest  *city
	net   *network
	ip    string
	until time.Time // the UTC day the person flies home
}

func (t *trip) origin(d *Device) *origin {
	return newOrigin(t.ip, t.dest, t.net, d, deviceUA(d), d.Kind, "null")
}

// flight: a morning session at from, a flight, an afternoon session at to. The gap always exceeds
// the flight time, so the travel is possible.
func (dp *dayPlan) flight(p *Person, from, to *origin, start, end time.Time, opts sessionOpts) {
	r := dp.r
	km := distanceKm(from.lat, from.lon, to.lat, to.lon)
	flight := time.Duration(km/750*float64(time.Hour)) + 3*time.Hour
	morningEnd := start.Add(time.Duration(r.between(45, 120)) * time.Minute)
	dp.session(p, from, start, morningEnd, sessionOpts{away: !opts.away})
	arrive := morningEnd.Add(flight).Add(time.Duration(r.between(30, 120)) * time.Minute)
	if end.Before(arrive.Add(2 * time.Hour)) {
		end = arrive.Add(2 * time.Hour)
	}
	dp.session(p, to, arrive, end, opts)
}

type sessionOpts struct {
	short              bool // a brief mobile session
	away               bool // travelling: no admin work
	newGeo, newCountry bool // behavior flags Okta would raise
}

// session plans a sign-in and the app use that follows until end.
func (dp *dayPlan) session(p *Person, o *origin, start, end time.Time, opts sessionOpts) {
	r, g := dp.r, dp.g
	dp.worked[p] = true
	t := start
	step := func(lo, hi int) time.Time {
		t = t.Add(time.Duration(r.between(lo, hi)) * time.Millisecond)
		return t
	}
	if r.chance(g.cfg.FatFingerShare) {
		for range 1 + r.count(0.25) {
			dp.passwordFailure(p, o, t)
			step(6000, 25000)
		}
	}
	if p.ADSourced {
		ev := newEvent(r, step(300, 900), "user.authentication.authenticate", p.actor, o)
		ev.AuthenticationContext.AuthenticationProvider = "ACTIVE_DIRECTORY"
		ev.AuthenticationContext.CredentialType = "PASSWORD"
		ev.Target = []event.Target{{ID: g.org.adAgentID, Type: "AppInstance", AlternateID: g.org.adInstance, DisplayName: "Active Directory"}}
		setURI(ev, "/idp/idx/challenge/answer")
		g.push(ev, nil)
	}
	sid := r.sessionID()
	ev := newEvent(r, step(200, 800), "user.authentication.verify", p.actor, o)
	ev.AuthenticationContext.CredentialType = "PASSWORD"
	ev.Target = []event.Target{passwordTarget(p)}
	setURI(ev, "/idp/idx/challenge/answer")
	withDevice(ev, o)
	g.push(ev, nil)

	ev = dp.evaluate(p, o, step(100, 400), "", g.org.policies[0], outChallenge, opts)
	g.push(ev, nil)
	f := dp.chooseFactor(p, o)
	dp.mfa(p, o, f, t, sid)
	t = t.Add(time.Duration(r.between(4000, 20000)) * time.Millisecond)

	ev = newEvent(r, step(50, 300), "user.session.start", p.actor, o)
	inSession(ev, sid)
	withDevice(ev, o)
	setURI(ev, "/idp/idx/authenticators/poll")
	ev.Target = []event.Target{factorTarget(f), appTarget(g.org.dashboard)}
	g.push(ev, &mutation{kind: mutLogin, id: p.ID})

	if p.Status == StatusPasswordExpired {
		p.Status = StatusActive
		ev = newEvent(r, step(20000, 60000), "user.account.update_password", p.actor, o)
		inSession(ev, sid)
		ev.Target = []event.Target{userTarget(p)}
		ev.DebugContext.DebugData["changeType"] = "PASSWORD_EXPIRED"
		setURI(ev, "/idp/idx/challenge/answer")
		g.push(ev, &mutation{kind: mutStatus, id: p.ID, status: StatusActive, password: true})
	}

	if !opts.short && end.After(t.Add(10*time.Minute)) {
		dp.workers = append(dp.workers, liveSession{p: p, o: o, sid: sid, from: t.Add(5 * time.Minute), to: end})
	}
	if p.IsAdmin() && !opts.short && !opts.away {
		at := t.Add(time.Duration(r.between(60, 900)) * time.Second)
		ev = newEvent(r, at, "user.session.access_admin_app", p.actor, o)
		inSession(ev, sid)
		withDevice(ev, o)
		ev.Target = []event.Target{appTarget(g.org.adminConsole)}
		setURI(ev, "/admin/sso/request")
		g.push(ev, nil)
		dp.admins = append(dp.admins, liveSession{p: p, o: o, sid: sid, from: at.Add(time.Minute), to: end})
	}

	n := r.between(4, 12)
	if opts.short {
		n = r.between(1, 2)
	}
	if len(p.Apps) == 0 {
		n = 0
	}
	span := max(int64(end.Sub(t)), int64(time.Minute))
	times := make([]time.Time, n)
	for i := range times {
		times[i] = t.Add(time.Duration(r.Int64N(span)))
	}
	slices.SortFunc(times, time.Time.Compare)
	for _, at := range times {
		a := g.org.appByID(pick(r, p.Apps))
		if a != nil {
			dp.sso(p, o, a, at, sid, opts)
		}
	}
	if r.chance(0.35) {
		ev = newEvent(r, end, "user.session.end", p.actor, o)
		inSession(ev, sid)
		setURI(ev, "/login/signout")
		g.push(ev, nil)
	}
}

// passwordFailure is one mistyped password: a failed sign-in with no session.
func (dp *dayPlan) passwordFailure(p *Person, o *origin, t time.Time) {
	r, g := dp.r, dp.g
	if p.ADSourced {
		ev := newEvent(r, t, "user.authentication.authenticate", p.actor, o)
		ev.Outcome = outFailure("INVALID_CREDENTIALS")
		ev.Severity = "WARN"
		ev.AuthenticationContext.AuthenticationProvider = "ACTIVE_DIRECTORY"
		ev.AuthenticationContext.CredentialType = "PASSWORD"
		setURI(ev, "/idp/idx/challenge/answer")
		g.push(ev, nil)
		t = t.Add(time.Duration(100+r.IntN(300)) * time.Millisecond)
	}
	ev := newEvent(r, t, "user.session.start", p.actor, o)
	ev.Outcome = outFailure("INVALID_CREDENTIALS")
	ev.Severity = "WARN"
	ev.LegacyEventType = "core.user_auth.login_failed"
	ev.Target = []event.Target{passwordTarget(p)}
	setURI(ev, "/idp/idx/challenge/answer")
	withDevice(ev, o)
	g.push(ev, nil)
}

// evaluate is a policy.evaluate_sign_on for the global session policy (app == "") or an app.
func (dp *dayPlan) evaluate(p *Person, o *origin, t time.Time, sid string, pol *Policy, out *event.Outcome, opts sessionOpts) *event.LogEvent {
	ev := newEvent(dp.r, t, "policy.evaluate_sign_on", p.actor, o)
	inSession(ev, sid)
	withDevice(ev, o)
	ev.Outcome = out
	dd := ev.DebugContext.DebugData
	switch {
	case opts.newCountry:
		dd["behaviors"], dd["logOnlySecurityData"] = abroadBehaviors, abroadLogOnly
	case opts.newGeo:
		dd["behaviors"], dd["logOnlySecurityData"] = travelBehaviors, travelLogOnly
	default:
		dd["behaviors"], dd["logOnlySecurityData"] = quietBehaviors, quietLogOnly
	}
	dd["risk"] = "{level=LOW}"
	uri := "/app/sso/redirect"
	if pol.Type == "OKTA_SIGN_ON" {
		uri = "/idp/idx/identify"
	}
	setURI(ev, uri)
	if pol.evalTargets == nil {
		pol.evalTargets = []event.Target{policyTarget(pol), {ID: pol.Rules[0].ID, Type: "PolicyRule", AlternateID: "unknown", DisplayName: pol.Rules[0].Name}}
	}
	ev.Target = pol.evalTargets
	return ev
}

// chooseFactor picks the factor a person uses for this sign-in.
func (dp *dayPlan) chooseFactor(p *Person, o *origin) Factor {
	r := dp.r
	if f, ok := p.factor("webauthn"); ok && (p.IsAdmin() || r.chance(0.3)) && o.client.Device == "Computer" {
		return f
	}
	if f, ok := p.factor("push"); ok {
		if r.chance(0.1) {
			if t, ok := p.factor("token:software:totp"); ok {
				return t
			}
		}
		return f
	}
	for _, t := range []string{"webauthn", "token:software:totp", "sms", "call"} {
		if f, ok := p.factor(t); ok {
			return f
		}
	}
	if len(p.Factors) == 0 { // never left so by the workforce; kept safe for Apply'd stories
		p.Factors = append(p.Factors, newFactor(dp.r, factorSMS, dp.day))
	}
	return p.Factors[0]
}

// mfa plans the second factor: the push or message sent, then the verification.
func (dp *dayPlan) mfa(p *Person, o *origin, f Factor, t time.Time, sid string) {
	r, g := dp.r, dp.g
	send := func(typ string) {
		ev := newEvent(r, t, typ, p.actor, o)
		inSession(ev, sid)
		ev.Target = []event.Target{factorTarget(f)}
		switch typ {
		case "system.push.send_factor_verify_push":
			ev.DebugContext.DebugData["pushOnlyResponseType"] = "ACCEPT_OR_REJECT"
			setURI(ev, "/idp/idx/challenge")
		default:
			ev.DebugContext.DebugData["phoneNumber"] = maskPhone(p.MobilePhone)
			setURI(ev, "/idp/idx/challenge")
		}
		g.push(ev, nil)
	}
	switch f.FactorType {
	case "push":
		send("system.push.send_factor_verify_push")
		if r.chance(0.03) { // missed the first push and asked for another
			t = t.Add(time.Duration(r.between(30, 60)) * time.Second)
			send("system.push.send_factor_verify_push")
		}
		t = t.Add(time.Duration(r.between(4000, 25000)) * time.Millisecond)
	case "sms":
		send("system.sms.send_phone_verification_message")
		t = t.Add(time.Duration(r.between(20, 70)) * time.Second)
	case "call":
		send("system.voice.send_phone_verification_call")
		t = t.Add(time.Duration(r.between(30, 90)) * time.Second)
	default:
		t = t.Add(time.Duration(r.between(3000, 15000)) * time.Millisecond)
	}
	g.push(mfaEvent(r, t, p, o, f, sid, outSuccess), nil)
}

func maskPhone(s string) string {
	if len(s) < 4 {
		return s
	}
	return "+1 XXX-XXX-" + s[len(s)-4:]
}

// sso plans one app access: the app's access policy, then SAML/SWA SSO or the OIDC flow.
func (dp *dayPlan) sso(p *Person, o *origin, a *App, t time.Time, sid string, opts sessionOpts) {
	r, g := dp.r, dp.g
	g.push(dp.evaluate(p, o, t, sid, g.org.policies[1], outAllow, opts), nil)
	t = t.Add(time.Duration(r.between(80, 600)) * time.Millisecond)
	if a.SignOnMode == SignOnOIDC {
		dp.oidc(p, o, a, t, sid)
		t = t.Add(time.Second)
	}
	ev := newEvent(r, t, "user.authentication.sso", p.actor, o)
	inSession(ev, sid)
	withDevice(ev, o)
	dd := ev.DebugContext.DebugData
	dd["initiationType"] = pick(r, []string{"IDP_INITIATED", "SP_INITIATED"})
	dd["signOnMode"] = map[string]string{SignOnSAML: "SAML 2.0", SignOnOIDC: "OpenID Connect", SignOnAutoLogin: "Secure Web Authentication"}[a.SignOnMode]
	setURIValues(ev, a.sso)
	ev.Target = []event.Target{appTarget(a), {ID: appUserID(p, a), Type: "AppUser", AlternateID: p.Login, DisplayName: p.DisplayName()}}
	g.push(ev, nil)
}

// oidc plans the authorization-code flow of an OIDC app: code, then id and access tokens.
func (dp *dayPlan) oidc(p *Person, o *origin, a *App, t time.Time, sid string) {
	r, g := dp.r, dp.g
	ev := newEvent(r, t, "app.oauth2.as.authorize.code", p.actor, o)
	inSession(ev, sid)
	ev.Client = clientWithID(o, a.ID)
	setURI(ev, "/oauth2/v1/authorize")
	ev.DebugContext.DebugData["grantType"] = "authorization_code"
	ev.DebugContext.DebugData["requestedScopes"] = "openid profile email offline_access"
	ev.Target = []event.Target{appTarget(a), {ID: "cod" + r.base62(17), Type: "authorization_code", AlternateID: "Org Authorization Server", DisplayName: "Authorization Code"}}
	g.push(ev, nil)
	t = t.Add(time.Duration(r.between(150, 700)) * time.Millisecond)
	rid := r.requestID()
	types := []string{"app.oauth2.as.token.grant.id_token", "app.oauth2.as.token.grant.access_token"}
	if r.chance(0.3) {
		types = append(types, "app.oauth2.as.token.grant.refresh_token")
	}
	for _, typ := range types {
		ev := tokenGrant(r, t, typ, a, o, p, "authorization_code", rid)
		inSession(ev, sid)
		g.push(ev, nil)
	}
	if a.Label == "Engineering Wiki" {
		g.push(dp.hookEvent(t.Add(-40*time.Millisecond), a, rid), nil)
	}
}

// tokenGrant is an app.oauth2.as.token.grant.* event; the actor is the client app.
func tokenGrant(r *rng, t time.Time, typ string, a *App, o *origin, subject *Person, grant, rid string) *event.LogEvent {
	ev := newEvent(r, t, typ, &event.Actor{ID: a.ID, Type: "PublicClientApp", AlternateID: a.ID, DisplayName: a.Label}, o)
	setTransaction(ev, rid)
	if o != nil {
		ev.Client = clientWithID(o, a.ID)
	}
	setURI(ev, "/oauth2/v1/token")
	dd := ev.DebugContext.DebugData
	dd["grantType"] = grant
	kind, prefix, name := "access_token", "AT.", "Access Token"
	switch typ {
	case "app.oauth2.as.token.grant.id_token":
		kind, prefix, name = "id_token", "ID.", "ID Token"
	case "app.oauth2.as.token.grant.refresh_token":
		kind, prefix, name = "refresh_token", "", "Refresh Token"
	}
	sub := a.ID
	if subject != nil {
		sub = subject.ID
		dd["grantedScopes"] = "openid, profile, email"
	} else {
		dd["grantedScopes"] = joinScopes(a.Scopes)
	}
	ev.Target = []event.Target{{ID: prefix + r.fromAlphabet(base64URL, 43), Type: kind, AlternateID: "Org Authorization Server", DisplayName: name,
		DetailEntry: map[string]any{"expires": t.Add(time.Hour).UTC().Format(time.RFC3339), "subject": sub, "hash": r.fromAlphabet(base64URL, 22)}}}
	return ev
}

func joinScopes(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ", "
		}
		out += v
	}
	return out
}

// hookEvent is the token inline hook's processed response for a token request.
func (dp *dayPlan) hookEvent(t time.Time, a *App, rid string) *event.LogEvent {
	ev := jobEvent(dp.r, t, "inline_hook.response.processed", systemActor)
	ev.Transaction.Type = "WEB"
	setTransaction(ev, rid)
	ev.DebugContext.DebugData["inlineHookType"] = "com.okta.oauth2.tokens.transform"
	ev.DebugContext.DebugData["responseStatus"] = "200"
	ev.Target = []event.Target{{ID: dp.g.org.hookID, Type: "InlineHook", AlternateID: dp.g.org.hookName, DisplayName: dp.g.org.hookName}, appTarget(a)}
	return ev
}

// clientWithID copies o's client with an OAuth client id set.
func clientWithID(o *origin, id string) *event.Client {
	c := *o.client
	c.ID = id
	return &c
}

// appUserID is a stable AppUser id for a person's assignment to an app.
func appUserID(p *Person, a *App) string {
	h := fnv.New64a()
	h.Write([]byte(p.ID))
	h.Write([]byte(a.ID))
	v := h.Sum64()
	b := make([]byte, 17)
	for i := range b {
		b[i] = base62Alphabet[v%62]
		v = v/62 ^ uint64(i)*0x9e3779b97f4a7c15
	}
	return "0ua" + string(b)
}

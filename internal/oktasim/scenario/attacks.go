package scenario

import (
	"slices"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/event"
)

// Spray and stuffing wordlists: common seasonal passwords are not logged by Okta, only their effect.
const (
	sprayUsers          = 26
	multiSourceIPs      = 8
	multiSourceUsers    = 32
	stuffingAccounts    = 40
	bruteForceThreshold = 10 // Okta's default lockout after 10 failed attempts
	fatiguePushes       = 9
)

func buildPushFatigue(classic bool) func(s *storyCtx) error {
	return func(s *storyCtx) error {
		p, err := s.person(withPush)
		if err != nil {
			return err
		}
		f, _ := p.factor("push")
		o := s.attacker(2, netVPN)
		sid := s.r.sessionID()
		s.passwordOK(p, o)
		for i := range fatiguePushes {
			s.after(2*time.Second, 6*time.Second)
			s.push(p, o, f, sid)
			s.after(15*time.Second, 40*time.Second)
			if i == fatiguePushes-1 {
				break // the user gives in
			}
			if !classic {
				s.mfaResult(p, o, f, sid, outFailure("INVALID_CREDENTIALS"))
				continue
			}
			ev := newEvent(s.r, s.t, "user.mfa.okta_verify.deny_push", p.actor, o)
			inSession(ev, sid)
			ev.Outcome = outFailure("User rejected Okta push verify")
			ev.DebugContext.DebugData["factor"] = f.DebugName
			setURI(ev, "/api/v1/authn/factors/"+f.ID+"/verify")
			ev.Target = []event.Target{userTarget(p)}
			s.add(suspicious(ev, o))
		}
		s.mfaResult(p, o, f, sid, outSuccess)
		s.after(200*time.Millisecond, time.Second)
		suspicious(s.sessionStart(p, o, f, sid), o)
		s.loot(p, o, sid, 2)
		return nil
	}
}

// loot is the attacker opening apps in a stolen session.
func (s *storyCtx) loot(p *Person, o *origin, sid string, n int) {
	for i := 0; i < n && i < len(p.Apps); i++ {
		a := s.g.org.appByID(p.Apps[i])
		if a == nil {
			continue
		}
		s.after(20*time.Second, 2*time.Minute)
		ev := newEvent(s.r, s.t, "policy.evaluate_sign_on", p.actor, o)
		inSession(ev, sid)
		ev.Outcome = outAllow
		ev.Target = []event.Target{policyTarget(s.g.org.policies[1])}
		setURI(ev, "/app/sso/redirect")
		s.add(suspicious(ev, o))
		s.after(200*time.Millisecond, time.Second)
		ev = newEvent(s.r, s.t, "user.authentication.sso", p.actor, o)
		inSession(ev, sid)
		setURIValues(ev, a.sso)
		ev.Target = []event.Target{appTarget(a), appUserTarget(p, a)}
		s.add(suspicious(ev, o))
	}
}

// guessedActor is the actor Okta records for a username that matches no user.
func guessedActor(login string) *event.Actor {
	return &event.Actor{ID: "unknown", Type: "User", AlternateID: login, DisplayName: "unknown"}
}

func buildSpray(multi bool) func(s *storyCtx) error {
	return func(s *storyCtx) error {
		users, nIPs := sprayUsers, 1
		if multi {
			users, nIPs = multiSourceUsers, multiSourceIPs
		}
		victims := s.targets(users)
		if len(victims) < 10 {
			return errTooSmall
		}
		var origins []*origin
		for range nIPs {
			if multi {
				origins = append(origins, s.attacker(0, netHosting, netVPN, netTor))
			} else {
				origins = append(origins, s.attacker(0, netHosting))
			}
		}
		// Two passes, one password each: every user sees one or two attempts.
		for pass := range 2 {
			for i, p := range victims {
				if pass == 1 && multi && i%3 == 0 {
					continue
				}
				o := origins[s.r.IntN(len(origins))]
				s.after(3*time.Second, 9*time.Second)
				s.failedSignIn(p.actor, o, "INVALID_CREDENTIALS", !multi && s.t.Sub(s.start) > time.Minute)
			}
			s.after(30*time.Second, 90*time.Second)
		}
		return nil
	}
}

func buildStuffing(s *storyCtx) error {
	known := s.targets(stuffingAccounts * 3 / 5)
	if len(known) < 10 {
		return errTooSmall
	}
	o := s.attacker(1, netVPN, netHosting)
	domain := s.g.cfg.OrgDomain
	for i := range stuffingAccounts {
		s.after(2*time.Second, 12*time.Second)
		if i%5 == 4 || i >= len(known) {
			login := strings.ToLower(pick(s.r, firstNames)) + "." + strings.ToLower(pick(s.r, lastNames)) + "@" + domain
			s.failedSignIn(guessedActor(login), o, "UNKNOWN_USER", false)
			continue
		}
		p := known[i]
		if i == 7 || i == 23 { // valid pair: the password works, MFA stops the attacker
			s.actors = append(s.actors, p.ID)
			s.passwordOK(p, o)
			if f, ok := p.factor("push"); ok {
				sid := s.r.sessionID()
				s.after(time.Second, 2*time.Second)
				s.push(p, o, f, sid)
				s.after(60*time.Second, 90*time.Second)
				s.mfaResult(p, o, f, sid, &event.Outcome{Result: "UNANSWERED", Reason: "Push not answered"})
			}
			continue
		}
		s.failedSignIn(p.actor, o, "INVALID_CREDENTIALS", false)
	}
	return nil
}

func buildBruteForce(s *storyCtx) error {
	p, err := s.person(anyone)
	if err != nil {
		return err
	}
	o := s.attacker(0, netHosting)
	for range bruteForceThreshold {
		s.after(3*time.Second, 12*time.Second)
		s.failedSignIn(p.actor, o, "INVALID_CREDENTIALS", false)
	}
	s.after(100*time.Millisecond, 500*time.Millisecond)
	ev := newEvent(s.r, s.t, "user.account.lock", p.actor, o)
	ev.Outcome = outFailure("LOCKED_OUT")
	setURI(ev, "/idp/idx/identify")
	s.add(suspicious(ev, o))
	s.effect(ev, mutation{kind: mutStatus, id: p.ID, status: StatusLockedOut})
	for range 12 {
		s.after(3*time.Second, 10*time.Second)
		s.failedSignIn(p.actor, o, "LOCKED_OUT", false)
	}
	return nil
}

func buildCookieReplay(s *storyCtx) error {
	p, err := s.person(withPush)
	if err != nil {
		return err
	}
	// The user's genuine sign-in, through the phishing proxy's page, from their own computer.
	sid := s.genuineSignIn(p, s.normal(p))
	// The stolen cookie replayed: same session, different ASN, User-Agent and device token.
	s.after(10*time.Minute, 40*time.Minute)
	o := s.attacker(0, netHosting)
	s.loot(p, o, sid, 3)
	return nil
}

func buildImpossibleTravel(s *storyCtx) error {
	p, err := s.person(withPush)
	if err != nil {
		return err
	}
	s.genuineSignIn(p, s.normal(p))
	// 20 to 50 minutes later, a sign-in from the far side of the world: the attacker holds the
	// password and a SIM-swapped phone number.
	s.after(20*time.Minute, 50*time.Minute)
	far := s.farCity(p)
	n := &networks[far.ISPs[0]]
	d := attackerUAs[2]
	o := newOrigin(ipIn(s.r, n), far, n, nil, &d, "Computer", "null")
	o.dtHash, o.fingerprint = s.r.hex(64), s.r.hex(32)
	s.ips = append(s.ips, o.client.IPAddress)
	sms := Factor{ID: s.r.oktaID("mbl"), FactorType: "sms", Provider: "OKTA", Name: "Phone", DebugName: "SMS_FACTOR", Method: "Receive a code via SMS"}
	if have, ok := p.factor("sms"); ok {
		sms = have
	}
	sid2 := s.r.sessionID()
	s.passwordOK(p, o)
	s.after(time.Second, 3*time.Second)
	send := newEvent(s.r, s.t, "system.sms.send_phone_verification_message", p.actor, o)
	inSession(send, sid2)
	setURI(send, "/idp/idx/challenge")
	s.add(send)
	s.after(30*time.Second, 60*time.Second)
	s.mfaResult(p, o, sms, sid2, outSuccess)
	s.after(200*time.Millisecond, time.Second)
	suspicious(s.sessionStart(p, o, sms, sid2), o)
	return nil
}

// farCity returns the attack city farthest from the person's home.
func (s *storyCtx) farCity(p *Person) *city {
	best, dist := &cities[attackCities[0]], 0.0
	for _, i := range attackCities {
		if d := distanceKm(p.Lat, p.Lon, cities[i].Lat, cities[i].Lon); d > dist {
			best, dist = &cities[i], d
		}
	}
	return best
}

func buildPrivilegeGrant(s *storyCtx) error {
	admin, o, sid, err := s.compromisedAdmin(RoleSuperAdmin)
	if err != nil {
		return err
	}
	p, err := s.person(func(p *Person) bool { return !p.IsAdmin() })
	if err != nil {
		return err
	}
	s.after(time.Minute, 5*time.Minute)
	ev := s.adminAction(admin, o, sid, "user.account.privilege.grant", "/api/v1/users/"+p.ID+"/roles", userTarget(p))
	ev.DebugContext.DebugData["privilegeGranted"] = RoleLabel(RoleSuperAdmin)
	s.effect(ev, mutation{kind: mutRoles, id: p.ID, list: append(slices.Clone(p.AdminRoles), RoleSuperAdmin)})
	return nil
}

func buildTokenNewLocation(s *storyCtx) error {
	admin, o, sid, err := s.compromisedAdmin(RoleSuperAdmin, RoleOrgAdmin)
	if err != nil {
		return err
	}
	s.after(time.Minute, 4*time.Minute)
	tok := apiToken{id: s.r.oktaID("00T"), name: "okta-sync"}
	ev := s.adminAction(admin, o, sid, "system.api_token.create", "/api/internal/tokens", tokenTarget(tok))
	ev.DebugContext.DebugData["networkConnection"] = "ANYWHERE"
	return nil
}

func buildHelpdeskTakeover(s *storyCtx) error {
	desk, err := s.person(hasRole(RoleHelpDeskAdmin, RoleSuperAdmin, RoleOrgAdmin))
	if err != nil {
		return err
	}
	p, err := s.person(withPush)
	if err != nil {
		return err
	}
	// The help desk acts from its usual place: the caller talked them into it.
	d := s.normal(desk)
	dsid := s.r.sessionID()
	ev := newEvent(s.r, s.t, "user.mfa.factor.reset_all", desk.actor, d)
	inSession(ev, dsid)
	setURI(ev, "/api/v1/users/"+p.ID+"/lifecycle/reset_factors")
	ev.Target = []event.Target{userTarget(p)}
	s.add(ev)
	s.after(3*time.Minute, 12*time.Minute)
	ev = newEvent(s.r, s.t, "user.account.reset_password", desk.actor, d)
	inSession(ev, dsid)
	setURI(ev, "/api/v1/users/"+p.ID+"/lifecycle/reset_password")
	ev.Target = []event.Target{userTarget(p)}
	s.add(ev)
	// The attacker sets the password and enrols their own phone.
	s.after(2*time.Minute, 8*time.Minute)
	o := s.attacker(2, netVPN)
	sid := s.r.sessionID()
	ev = newEvent(s.r, s.t, "user.account.update_password", p.actor, o)
	inSession(ev, sid)
	setURI(ev, "/idp/idx/challenge/answer")
	ev.Target = []event.Target{userTarget(p)}
	s.add(suspicious(ev, o))
	s.effect(ev, mutation{kind: mutStatus, id: p.ID, status: StatusActive, password: true})
	s.after(30*time.Second, 2*time.Minute)
	f := newFactor(s.r, factorPush, s.t)
	ev = newEvent(s.r, s.t, "user.mfa.factor.activate", p.actor, o)
	inSession(ev, sid)
	ev.DebugContext.DebugData["factor"] = f.DebugName
	setURI(ev, "/idp/idx/credential/enroll")
	ev.Target = []event.Target{userTarget(p), factorTarget(f)}
	s.add(suspicious(ev, o))
	s.effect(ev, mutation{kind: mutFactors, id: p.ID, facts: []Factor{f}})
	s.after(time.Second, 5*time.Second)
	suspicious(s.sessionStart(p, o, f, sid), o)
	return nil
}

func buildMFADowngrade(s *storyCtx) error {
	admin, o, sid, err := s.compromisedAdmin(RoleSuperAdmin, RoleOrgAdmin)
	if err != nil {
		return err
	}
	pol := s.g.org.policies[1]
	rule := pol.Rules[0]
	s.after(time.Minute, 6*time.Minute)
	tg := event.Target{ID: rule.ID, Type: "PolicyRule", AlternateID: "unknown", DisplayName: rule.Name,
		ChangeDetails: &event.ChangeDetails{
			From: map[string]any{"factorMode": "2FA", "constraints": `[{"knowledge":{"types":["password"]},"possession":{"deviceBound":"REQUIRED"}}]`},
			To:   map[string]any{"factorMode": "1FA", "constraints": `[{"knowledge":{"types":["password"]}}]`}}}
	s.adminAction(admin, o, sid, "policy.rule.update", "/api/v1/policies/"+pol.ID+"/rules/"+rule.ID, policyTarget(pol), tg)
	return nil
}

func buildNewIdP(s *storyCtx) error {
	admin, o, sid, err := s.compromisedAdmin(RoleSuperAdmin)
	if err != nil {
		return err
	}
	idp := event.Target{ID: s.r.oktaID("0oa"), Type: "IdentityProvider", AlternateID: "SAML2", DisplayName: "Corp SSO Backup",
		DetailEntry: map[string]any{"protocolType": "SAML2", "issuerMode": "ORG_URL", "provisioningAction": "AUTO"}}
	s.after(time.Minute, 5*time.Minute)
	s.adminAction(admin, o, sid, "system.idp.lifecycle.create", "/api/v1/idps", idp)
	s.after(10*time.Second, time.Minute)
	s.adminAction(admin, o, sid, "system.idp.lifecycle.activate", "/api/v1/idps/"+idp.ID+"/lifecycle/activate", idp)
	return nil
}

func buildUserReport(s *storyCtx) error {
	p, err := s.person(withPush)
	if err != nil {
		return err
	}
	f, _ := p.factor("push")
	o := s.attacker(2, netVPN, netHosting)
	sid := s.r.sessionID()
	s.passwordOK(p, o)
	s.after(time.Second, 3*time.Second)
	s.push(p, o, f, sid)
	s.after(10*time.Second, 30*time.Second)
	s.mfaResult(p, o, f, sid, outFailure("INVALID_CREDENTIALS"))
	// From their phone, the user reports the push they did not ask for.
	s.after(30*time.Second, 2*time.Minute)
	ph := s.phone(p)
	ev := newEvent(s.r, s.t, "user.account.report_suspicious_activity_by_enduser", p.actor, ph)
	setURI(ev, "/api/v1/users/me/report-suspicious-activity")
	ev.Target = []event.Target{userTarget(p)}
	dd := ev.DebugContext.DebugData
	dd["suspiciousActivityEventType"] = "system.push.send_factor_verify_push"
	dd["suspiciousActivityBrowser"] = o.client.UserAgent.Browser
	dd["suspiciousActivityOs"] = o.client.UserAgent.OS
	dd["suspiciousActivityIp"] = o.client.IPAddress
	dd["suspiciousActivityTimestamp"] = s.events[len(s.events)-2].Published.Format(time.RFC3339)
	s.add(ev)
	return nil
}

func buildThreatInsight(s *storyCtx) error {
	o := s.attacker(3, netTor)
	domain := s.g.cfg.OrgDomain
	for i := range 14 {
		s.after(time.Second, 5*time.Second)
		login := strings.ToLower(pick(s.r, firstNames)) + strings.ToLower(pick(s.r, lastNames)) + "@" + domain
		s.failedSignIn(guessedActor(login), o, "UNKNOWN_USER", i > 3)
	}
	s.after(time.Second, 3*time.Second)
	ev := newEvent(s.r, s.t, "security.threat.detected", guessedActor("unknown"), o)
	ev.Outcome = &event.Outcome{Result: "DENY", Reason: "Login failures with high unknown users count"}
	dd := ev.DebugContext.DebugData
	dd["threatSuspected"] = "true"
	dd["threatDetections"] = `{"Login failures with high unknown users count":"HIGH"}`
	dd["threatEnforcement"] = "Block"
	setURI(ev, "/idp/idx/identify")
	s.add(ev)
	for range 3 {
		s.after(time.Second, 4*time.Second)
		ev := s.failedSignIn(guessedActor("admin@"+domain), o, "", true)
		ev.Outcome = &event.Outcome{Result: "DENY", Reason: "Blocked by ThreatInsight"}
	}
	return nil
}

func buildLogStreamTampering(s *storyCtx) error {
	admin, o, sid, err := s.compromisedAdmin(RoleSuperAdmin)
	if err != nil {
		return err
	}
	ls := event.Target{ID: s.r.oktaID("0oa"), Type: "LogStream", AlternateID: "unknown", DisplayName: "SIEM log stream",
		DetailEntry: map[string]any{"logStreamType": "splunk_cloud_logstreaming"}}
	s.after(time.Minute, 4*time.Minute)
	s.adminAction(admin, o, sid, "system.log_stream.lifecycle.deactivate", "/api/v1/logStreams/"+ls.ID+"/lifecycle/deactivate", ls)
	s.after(20*time.Second, 2*time.Minute)
	s.adminAction(admin, o, sid, "system.log_stream.lifecycle.delete", "/api/v1/logStreams/"+ls.ID, ls)
	return nil
}

package scenario

import (
	"slices"
	"strconv"
	"time"

	"github.com/idwatch/idwatch/internal/event"
)

// Daily rates per person of the org's occasional activities. Every activity happens at least once on
// a day with anyone (or any admin) at work, so a day of traffic covers the whole event catalogue.
const (
	ratePasswordChange = 0.006
	rateProfileUpdate  = 0.004
	rateSMSEnroll      = 0.003
	rateVoiceEnroll    = 0.001
	rateWebAuthnEnroll = 0.003
	rateNewPhone       = 0.002
	rateReport         = 0.0005
	rateSWAPassword    = 0.002
	rateCertEnroll     = 0.002
	rateHire           = 0.004
	rateLeave          = 0.003
	rateDelete         = 0.001
	rateSuspend        = 0.002
	rateReactivate     = 0.001
	rateActivate       = 0.002
	rateHelpdeskReset  = 0.002
	rateMFAReset       = 0.001
	rateGroupChange    = 0.01
	rateAppChange      = 0.005
	rateSessionClear   = 0.002
)

// at returns a random time within the session.
func (s liveSession) at(r *rng) time.Time {
	return s.from.Add(time.Duration(r.Int64N(max(1, int64(s.to.Sub(s.from))))))
}

// when picks one of sessions and a time in it, preferring times within the planned UTC day so
// that the day's guaranteed activities land in that day. ok is false if the time is not after
// Start: activities that change the population never start before the simulation does.
func (dp *dayPlan) when(sessions []liveSession) (s liveSession, t time.Time, ok bool) {
	for range 16 {
		s = pick(dp.r, sessions)
		t = s.at(dp.r)
		if !t.Before(dp.day) && t.Before(dp.day.Add(24*time.Hour)) {
			break
		}
	}
	return s, t, t.After(dp.g.cfg.Start)
}

// userEvent is an event in a signed-in person's session.
func (dp *dayPlan) userEvent(s liveSession, t time.Time, typ, uri string, targets ...event.Target) *event.LogEvent {
	ev := newEvent(dp.r, t, typ, s.p.actor, s.o)
	inSession(ev, s.sid)
	setURI(ev, uri)
	ev.Target = targets
	return ev
}

// times returns how often an activity with a per-person daily rate happens today (at least once).
func (dp *dayPlan) times(rate float64) int {
	return max(1, dp.r.count(rate*float64(len(dp.g.people))))
}

// selfService plans what people do to their own accounts.
func (dp *dayPlan) selfService() {
	r, g := dp.r, dp.g
	if len(dp.workers) == 0 {
		return
	}
	each := func(rate float64, fn func(s liveSession, t time.Time)) {
		for range dp.times(rate) {
			if s, t, ok := dp.when(dp.workers); ok {
				fn(s, t)
			}
		}
	}
	// eachWho is each for the people that qualify.
	eachWho := func(rate float64, ok func(p *Person) bool, fn func(s liveSession, t time.Time)) {
		var who []liveSession
		for _, s := range dp.workers {
			if ok(s.p) {
				who = append(who, s)
			}
		}
		if len(who) == 0 {
			return
		}
		for range dp.times(rate) {
			if s, t, ok := dp.when(who); ok {
				fn(s, t)
			}
		}
	}
	each(ratePasswordChange, func(s liveSession, t time.Time) {
		ev := dp.userEvent(s, t, "user.account.update_password", "/idp/myaccount/password", userTarget(s.p))
		g.push(ev, &mutation{kind: mutStatus, id: s.p.ID, status: s.p.Status, password: true})
	})
	each(rateProfileUpdate, func(s liveSession, t time.Time) {
		tg := userTarget(s.p)
		tg.ChangeDetails = &event.ChangeDetails{From: map[string]any{"mobilePhone": maskPhone(s.p.MobilePhone)}, To: map[string]any{"mobilePhone": "+1 XXX-XXX-" + strconv.Itoa(1000+r.IntN(9000))}}
		g.push(dp.userEvent(s, t, "user.account.update_profile", "/idp/myaccount/profile", tg), nil)
	})
	enroll := func(s liveSession, t time.Time, tmpl Factor, sendType string) {
		if sendType != "" {
			ev := dp.userEvent(s, t, sendType, "/idp/idx/challenge")
			ev.DebugContext.DebugData["phoneNumber"] = maskPhone(s.p.MobilePhone)
			g.push(ev, nil)
			t = t.Add(time.Duration(r.between(20, 80)) * time.Second)
		}
		f := newFactor(r, tmpl, t)
		s.p.Factors = append(s.p.Factors, f)
		ev := dp.userEvent(s, t, "user.mfa.factor.activate", "/idp/idx/credential/enroll", userTarget(s.p), factorTarget(f))
		ev.DebugContext.DebugData["factor"] = f.DebugName
		g.push(ev, &mutation{kind: mutFactors, id: s.p.ID, facts: slices.Clone(s.p.Factors)})
	}
	// Okta Verify on a managed computer enrols a device-management certificate for the user.
	eachWho(rateCertEnroll, func(p *Person) bool { return p.Devices[0].Managed }, func(s liveSession, t time.Time) {
		cert := event.Target{ID: "crt" + r.base62(17), Type: "Certificate", AlternateID: "unknown", DisplayName: "Device management certificate",
			DetailEntry: map[string]any{"deviceName": s.p.Devices[0].Name}}
		g.push(dp.userEvent(s, t, "user.credential.enroll", "/idp/device-trust/certificate/enroll", userTarget(s.p), cert), nil)
	})
	each(rateSMSEnroll, func(s liveSession, t time.Time) {
		enroll(s, t, factorSMS, "system.sms.send_phone_verification_message")
	})
	each(rateVoiceEnroll, func(s liveSession, t time.Time) {
		enroll(s, t, factorCall, "system.voice.send_phone_verification_call")
	})
	each(rateWebAuthnEnroll, func(s liveSession, t time.Time) { enroll(s, t, factorWebAuthn, "") })
	hasPush := func(p *Person) bool { _, ok := p.factor("push"); return ok }
	eachWho(rateNewPhone, hasPush, func(s liveSession, t time.Time) {
		old, ok := s.p.factor("push")
		if !ok { // already replaced today
			return
		}
		ev := dp.userEvent(s, t, "user.mfa.factor.deactivate", "/idp/myaccount/authenticators", userTarget(s.p), factorTarget(old))
		ev.DebugContext.DebugData["factor"] = old.DebugName
		s.p.Factors = slices.DeleteFunc(s.p.Factors, func(f Factor) bool { return f.ID == old.ID })
		g.push(ev, nil)
		enroll(s, t.Add(time.Duration(r.between(60, 600))*time.Second), factorPush, "")
	})
	eachWho(rateSWAPassword, func(p *Person) bool { return dp.swaApp(p) != nil }, func(s liveSession, t time.Time) {
		a := dp.swaApp(s.p)
		g.push(dp.userEvent(s, t, "application.user_membership.change_password", "/api/v1/apps/"+a.ID+"/users/"+s.p.ID,
			appUserTarget(s.p, a), appTarget(a), userTarget(s.p)), nil)
	})
	each(rateReport, func(s liveSession, t time.Time) {
		// A false alarm: the person reports the new-device notification of their own new laptop.
		ev := dp.userEvent(s, t, "user.account.report_suspicious_activity_by_enduser", "/api/v1/users/me/report-suspicious-activity", userTarget(s.p))
		ev.DebugContext.DebugData["suspiciousActivityEventType"] = "system.email.new_device_notification.sent_message"
		ev.DebugContext.DebugData["suspiciousActivityEventId"] = r.uuid()
		ev.DebugContext.DebugData["suspiciousActivityBrowser"] = s.o.client.UserAgent.Browser
		ev.DebugContext.DebugData["suspiciousActivityOs"] = s.o.client.UserAgent.OS
		ev.DebugContext.DebugData["suspiciousActivityIp"] = s.o.client.IPAddress
		g.push(ev, nil)
	})
}

// swaApp returns one of the person's password-vaulting (SWA) apps, or nil.
func (dp *dayPlan) swaApp(p *Person) *App {
	for _, id := range p.Apps {
		if a := dp.g.org.appByID(id); a != nil && a.SignOnMode == SignOnAutoLogin {
			return a
		}
	}
	return nil
}

// adminFor returns a signed-in admin holding one of roles (any signed-in admin if none does) and a
// time in their session.
func (dp *dayPlan) adminFor(roles ...string) (liveSession, time.Time, bool) {
	var match []liveSession
	for _, s := range dp.admins {
		for _, role := range s.p.AdminRoles {
			if slices.Contains(roles, role) {
				match = append(match, s)
				break
			}
		}
	}
	if len(match) == 0 {
		match = dp.admins
	}
	if len(match) == 0 {
		return liveSession{}, time.Time{}, false
	}
	return dp.when(match)
}

// person picks a random planned person matching ok, or nil. Each person is the subject of at most
// one admin task or job a day, so tasks planned at random times never contradict each other.
func (dp *dayPlan) person(ok func(p *Person) bool) *Person {
	people := dp.g.people
	if len(people) == 0 {
		return nil
	}
	fits := func(p *Person) bool { return !dp.touched[p] && ok(p) }
	var found *Person
	for range 64 {
		if p := people[dp.r.IntN(len(people))]; fits(p) {
			found = p
			break
		}
	}
	if found == nil {
		var match []*Person
		for _, p := range people {
			if fits(p) {
				match = append(match, p)
			}
		}
		if len(match) == 0 {
			return nil
		}
		found = pick(dp.r, match)
	}
	dp.touched[found] = true
	return found
}

// idle is a person who did not sign in today: only such people are suspended, deactivated or
// have their factors reset, so no session outlives the change.
func (dp *dayPlan) idle(ok func(p *Person) bool) func(p *Person) bool {
	return func(p *Person) bool { return !dp.worked[p] && ok(p) }
}

func statusIs(status string) func(p *Person) bool {
	return func(p *Person) bool { return p.Status == status && !p.IsAdmin() }
}

// adminWork plans the admins' day: lifecycle, help desk, access and configuration changes.
func (dp *dayPlan) adminWork() {
	dp.selfService()
	if len(dp.admins) == 0 {
		return
	}
	helpdesk := []string{RoleHelpDeskAdmin, RoleSuperAdmin, RoleOrgAdmin}
	task := func(rate float64, roles []string, fn func(s liveSession, t time.Time)) {
		for range dp.times(rate) {
			if s, t, ok := dp.adminFor(roles...); ok {
				fn(s, t)
			}
		}
	}
	task(rateHire, []string{RoleOrgAdmin, RoleSuperAdmin, RoleGroupAdmin}, dp.hire)
	task(rateLeave, []string{RoleOrgAdmin, RoleSuperAdmin}, dp.leave)
	dp.statusTask(rateDelete, StatusDeprovisioned, "user.lifecycle.delete.initiated", "")
	dp.statusTask(rateSuspend, StatusActive, "user.lifecycle.suspend", StatusSuspended)
	dp.statusTask(rateSuspend, StatusSuspended, "user.lifecycle.unsuspend", StatusActive)
	dp.statusTask(rateReactivate, StatusDeprovisioned, "user.lifecycle.reactivate", StatusProvisioned)
	dp.statusTask(rateActivate, StatusProvisioned, "user.lifecycle.activate", StatusActive)
	dp.statusTask(rateActivate, StatusStaged, "user.lifecycle.activate", StatusActive)
	dp.statusTask(rateActivate, StatusLockedOut, "user.account.unlock", StatusActive)
	task(rateHelpdeskReset, helpdesk, func(s liveSession, t time.Time) {
		if p := dp.person(statusIs(StatusActive)); p != nil {
			ev := dp.userEvent(s, t, "user.account.reset_password", "/api/v1/users/"+p.ID+"/lifecycle/reset_password", userTarget(p))
			dp.g.push(ev, &mutation{kind: mutStatus, id: p.ID, status: p.Status, password: true})
		}
	})
	task(rateMFAReset, helpdesk, dp.mfaReset)
	task(rateSessionClear, helpdesk, func(s liveSession, t time.Time) {
		if p := dp.person(statusIs(StatusActive)); p != nil {
			dp.g.push(dp.userEvent(s, t, "user.session.clear", "/api/v1/users/"+p.ID+"/sessions", userTarget(p)), nil)
		}
	})
	task(rateGroupChange, []string{RoleGroupAdmin, RoleOrgAdmin, RoleSuperAdmin}, dp.groupChange)
	task(rateAppChange, []string{RoleAppAdmin, RoleOrgAdmin, RoleSuperAdmin}, dp.appChange)
	task(rateProfileUpdate, []string{RoleOrgAdmin, RoleSuperAdmin, RoleGroupAdmin}, func(s liveSession, t time.Time) {
		if p := dp.person(statusIs(StatusActive)); p != nil {
			tg := userTarget(p)
			tg.ChangeDetails = &event.ChangeDetails{From: map[string]any{"title": p.Title}, To: map[string]any{"title": "Senior " + p.Title}}
			dp.g.push(dp.userEvent(s, t, "user.account.update_profile", "/api/v1/users/"+p.ID, tg), nil)
		}
	})
	if s, t, ok := dp.adminFor(RoleSuperAdmin); ok {
		dp.justInTimeAccess(s, t)
	}
	if s, t, ok := dp.adminFor(RoleSuperAdmin, RoleOrgAdmin); ok {
		dp.policyTicket(s, t)
	}
	if s, t, ok := dp.adminFor(RoleSuperAdmin, RoleOrgAdmin); ok {
		dp.tokenRotation(s, t)
	}
}

// statusTask moves people from one status to another with the given lifecycle event.
func (dp *dayPlan) statusTask(rate float64, from, typ, to string) {
	for range dp.times(rate) {
		s, t, ok := dp.adminFor(RoleOrgAdmin, RoleSuperAdmin, RoleHelpDeskAdmin)
		p := dp.person(dp.idle(statusIs(from)))
		if !ok || p == nil {
			continue
		}
		ev := dp.userEvent(s, t, typ, "/api/v1/users/"+p.ID+"/lifecycle/"+typ[len("user.lifecycle."):], userTarget(p))
		if to == "" {
			dp.g.removePerson(p)
			dp.g.push(ev, &mutation{kind: mutDelete, id: p.ID})
			continue
		}
		p.Status = to
		dp.g.push(ev, &mutation{kind: mutStatus, id: p.ID, status: to})
	}
}

func (g *Generator) removePerson(p *Person) {
	g.people = slices.DeleteFunc(g.people, func(q *Person) bool { return q == p })
	delete(g.byID, p.ID)
}

// hire creates, activates and equips a new person.
func (dp *dayPlan) hire(s liveSession, t time.Time) {
	r, g := dp.r, dp.g
	p := g.pop.newPerson(r, t, StatusProvisioned)
	p.Activated, p.PasswordChanged, p.LastLogin = time.Time{}, time.Time{}, time.Time{}
	dp.hires = append(dp.hires, p) // joins the planned population once the day is planned
	g.byID[p.ID] = p
	hired := p.clone()
	// AD-sourced hires arrive through the directory import; the others are created by the admin.
	lifecycle := func(t time.Time, typ, uri string) *event.LogEvent {
		if !p.ADSourced {
			return dp.userEvent(s, t, typ, uri, userTarget(p))
		}
		ev := jobEvent(r, t, typ, systemActor)
		ev.Target = []event.Target{userTarget(p), {ID: g.org.adAgentID, Type: "AppInstance", AlternateID: g.org.adInstance, DisplayName: "Active Directory"}}
		return ev
	}
	g.push(lifecycle(t, "user.lifecycle.create", "/api/v1/users"), &mutation{kind: mutHire, person: &hired})
	t = t.Add(time.Duration(r.between(20, 300)) * time.Second)
	p.Status, p.Activated = StatusActive, t
	g.push(lifecycle(t, "user.lifecycle.activate", "/api/v1/users/"+p.ID+"/lifecycle/activate"), &mutation{kind: mutStatus, id: p.ID, status: StatusActive})
	for _, gid := range p.Groups[1:] {
		t = t.Add(time.Duration(r.between(2, 30)) * time.Second)
		g.push(dp.userEvent(s, t, "group.user_membership.add", "/api/v1/groups/"+gid+"/users/"+p.ID, userTarget(p), groupTarget(g, gid)), nil)
	}
	for _, aid := range p.Apps {
		a := g.org.appByID(aid)
		t = t.Add(time.Duration(r.between(2, 30)) * time.Second)
		g.push(dp.userEvent(s, t, "application.user_membership.add", "/api/v1/apps/"+a.ID+"/users", appUserTarget(p, a), appTarget(a), userTarget(p)), nil)
		if a.Provisioning {
			g.push(provisionSync(r, t.Add(time.Duration(r.between(5, 90))*time.Second), p, a), nil)
		}
	}
}

// leave deactivates a person: sessions cleared, apps unassigned by Okta, account deactivated.
func (dp *dayPlan) leave(s liveSession, t time.Time) {
	r, g := dp.r, dp.g
	p := dp.person(dp.idle(statusIs(StatusActive)))
	if p == nil {
		return
	}
	p.Status = StatusDeprovisioned
	g.push(dp.userEvent(s, t, "user.lifecycle.deactivate", "/api/v1/users/"+p.ID+"/lifecycle/deactivate", userTarget(p)), &mutation{kind: mutStatus, id: p.ID, status: StatusDeprovisioned})
	t = t.Add(time.Duration(r.between(200, 900)) * time.Millisecond)
	g.push(dp.userEvent(s, t, "user.session.clear", "/api/v1/users/"+p.ID+"/sessions", userTarget(p)), nil)
	for _, aid := range p.Apps {
		a := g.org.appByID(aid)
		t = t.Add(time.Duration(r.between(100, 600)) * time.Millisecond)
		ev := jobEvent(r, t, "application.user_membership.remove", systemActor)
		ev.Target = []event.Target{appUserTarget(p, a), appTarget(a), userTarget(p)}
		g.push(ev, nil)
	}
	p.Apps = nil
	g.push(dp.userEvent(s, t, "group.user_membership.remove", "/api/v1/groups/"+p.Groups[len(p.Groups)-1]+"/users/"+p.ID, userTarget(p), groupTarget(g, p.Groups[len(p.Groups)-1])),
		&mutation{kind: mutApps, id: p.ID})
}

// mfaReset: the help desk resets a person's factors (lost phone); the person re-enrolls later.
func (dp *dayPlan) mfaReset(s liveSession, t time.Time) {
	r, g := dp.r, dp.g
	p := dp.person(dp.idle(func(p *Person) bool { _, ok := p.factor("push"); return ok && p.Status == StatusActive && !p.IsAdmin() }))
	if p == nil {
		return
	}
	g.push(dp.userEvent(s, t, "user.mfa.factor.reset_all", "/api/v1/users/"+p.ID+"/lifecycle/reset_factors", userTarget(p)), &mutation{kind: mutFactors, id: p.ID})
	f := newFactor(r, factorPush, t)
	p.Factors = []Factor{f}
	u := liveSession{p: p, o: s.o, sid: r.sessionID()}
	if mob := p.mobile(); mob != nil {
		u.o = newOrigin(p.HomeIP, p.home, p.homeNet, mob, deviceUA(mob), mob.Kind, "null")
	}
	t = t.Add(time.Duration(r.between(20, 180)) * time.Minute)
	ev := dp.userEvent(u, t, "user.mfa.factor.activate", "/idp/idx/credential/enroll", userTarget(p), factorTarget(f))
	ev.DebugContext.DebugData["factor"] = f.DebugName
	g.push(ev, &mutation{kind: mutFactors, id: p.ID, facts: slices.Clone(p.Factors)})
}

func (dp *dayPlan) groupChange(s liveSession, t time.Time) {
	g := dp.g
	p := dp.person(statusIs(StatusActive))
	if p == nil {
		return
	}
	gr := pick(dp.r, g.org.groups[len(departments)+2:])
	typ := "group.user_membership.add"
	if !toggle(&p.Groups, gr.ID) {
		typ = "group.user_membership.remove"
	}
	g.push(dp.userEvent(s, t, typ, "/api/v1/groups/"+gr.ID+"/users/"+p.ID, userTarget(p), groupTarget(g, gr.ID)),
		&mutation{kind: mutGroups, id: p.ID, list: slices.Clone(p.Groups)})
}

// toggle adds id to the list if it is missing (reporting true) and removes it otherwise.
func toggle(list *[]string, id string) bool {
	if i := slices.Index(*list, id); i >= 0 {
		*list = slices.Delete(*list, i, i+1)
		return false
	}
	*list = append(*list, id)
	return true
}

func (dp *dayPlan) appChange(s liveSession, t time.Time) {
	g := dp.g
	p := dp.person(statusIs(StatusActive))
	if p == nil {
		return
	}
	a := pick(dp.r, g.org.apps)
	typ := "application.user_membership.add"
	if !toggle(&p.Apps, a.ID) {
		typ = "application.user_membership.remove"
	}
	g.push(dp.userEvent(s, t, typ, "/api/v1/apps/"+a.ID+"/users/"+p.ID, appUserTarget(p, a), appTarget(a), userTarget(p)),
		&mutation{kind: mutApps, id: p.ID, list: slices.Clone(p.Apps)})
}

// justInTimeAccess grants an IT or Security person a low-privilege admin role for a few hours.
func (dp *dayPlan) justInTimeAccess(s liveSession, t time.Time) {
	r, g := dp.r, dp.g
	p := dp.person(func(p *Person) bool {
		return p.Status == StatusActive && !p.IsAdmin() && (p.Department == "IT" || p.Department == "Security")
	})
	if p == nil {
		p = dp.person(statusIs(StatusActive))
	}
	if p == nil {
		return
	}
	role := pick(r, []string{RoleReadOnlyAdmin, RoleHelpDeskAdmin})
	ev := dp.userEvent(s, t, "user.account.privilege.grant", "/api/v1/users/"+p.ID+"/roles", userTarget(p))
	ev.DebugContext.DebugData["privilegeGranted"] = RoleLabel(role)
	g.push(ev, &mutation{kind: mutRoles, id: p.ID, list: []string{role}})
	t = t.Add(time.Duration(r.between(90, 240)) * time.Minute)
	ev = dp.userEvent(s, t, "user.account.privilege.revoke", "/api/v1/users/"+p.ID+"/roles/"+r.oktaID("irb"), userTarget(p))
	ev.DebugContext.DebugData["privilegeRevoked"] = RoleLabel(role)
	g.push(ev, &mutation{kind: mutRoles, id: p.ID})
}

// policyTicket is a routine change: a new policy with a rule, a tightened rule, a retired policy.
// MFA requirements never weaken.
func (dp *dayPlan) policyTicket(s liveSession, t time.Time) {
	r, g := dp.r, dp.g
	o := g.org
	o.policySeq++
	np := &Policy{ID: r.oktaID("00p"), Name: "Contractor Access " + strconv.Itoa(o.policySeq), Type: "ACCESS_POLICY", Status: "ACTIVE",
		Rules: []PolicyRule{{ID: r.oktaID("0pr"), Name: "Contractors: MFA every sign-in", Factor: "2FA"}}}
	step := func() time.Time { t = t.Add(time.Duration(r.between(10, 120)) * time.Second); return t }
	push := func(at time.Time, typ string, pol *Policy, rule *PolicyRule, cd *event.ChangeDetails) {
		tg := []event.Target{policyTarget(pol)}
		uri := "/api/v1/policies/" + pol.ID
		if rule != nil {
			tg = append(tg, event.Target{ID: rule.ID, Type: "PolicyRule", AlternateID: "unknown", DisplayName: rule.Name, ChangeDetails: cd})
			uri += "/rules/" + rule.ID
		} else {
			tg[0].ChangeDetails = cd
		}
		g.push(dp.userEvent(s, at, typ, uri, tg...), nil)
	}
	push(t, "policy.lifecycle.create", np, nil, nil)
	push(step(), "policy.rule.add", np, &np.Rules[0], &event.ChangeDetails{To: map[string]any{"factorMode": "2FA", "reauthenticateIn": "PT0S"}})
	push(step(), "policy.lifecycle.activate", np, nil, nil)
	wf := o.policies[1]
	from, to := "PT12H", "PT8H"
	if o.policySeq%2 == 0 {
		from, to = to, from
	}
	push(step(), "policy.rule.update", wf, &wf.Rules[0], &event.ChangeDetails{
		From: map[string]any{"factorMode": "2FA", "reauthenticateIn": from}, To: map[string]any{"factorMode": "2FA", "reauthenticateIn": to}})
	push(step(), "policy.lifecycle.update", o.policies[0], nil, &event.ChangeDetails{
		From: map[string]any{"description": "Global session policy"}, To: map[string]any{"description": "Global session policy (reviewed " + t.Format(time.DateOnly) + ")"}})
	for _, old := range o.policies[o.initialPolicies-1:] {
		if old.Status == "ACTIVE" {
			old.Status = "INACTIVE"
			push(step(), "policy.rule.deactivate", old, &old.Rules[0], nil)
			push(step(), "policy.lifecycle.deactivate", old, nil, nil)
			break
		}
	}
	o.policies = append(o.policies, np)
}

// tokenRotation creates a new API token and revokes the oldest.
func (dp *dayPlan) tokenRotation(s liveSession, t time.Time) {
	r, g := dp.r, dp.g
	g.org.tokenSeq++
	tok := apiToken{id: r.oktaID("00T"), name: "automation-" + strconv.Itoa(g.org.tokenSeq)}
	ev := dp.userEvent(s, t, "system.api_token.create", "/api/internal/tokens", tokenTarget(tok))
	ev.DebugContext.DebugData["networkConnection"] = "ZONE"
	g.push(ev, nil)
	if len(g.tokens) > 0 {
		old := g.tokens[0]
		g.tokens = g.tokens[1:]
		g.push(dp.userEvent(s, t.Add(time.Duration(r.between(60, 600))*time.Second), "system.api_token.revoke", "/api/internal/tokens/"+old.id, tokenTarget(old)), nil)
	}
	g.tokens = append(g.tokens, tok)
}

func tokenTarget(t apiToken) event.Target {
	return event.Target{ID: t.id, Type: "Token", AlternateID: "unknown", DisplayName: t.name}
}

func policyTarget(p *Policy) event.Target {
	return event.Target{ID: p.ID, Type: "PolicyEntity", AlternateID: "unknown", DisplayName: p.Name, DetailEntry: map[string]any{"policyType": p.Type}}
}

func groupTarget(g *Generator, id string) event.Target {
	for _, gr := range g.org.groups {
		if gr.ID == id {
			return event.Target{ID: gr.ID, Type: "UserGroup", AlternateID: "unknown", DisplayName: gr.Name}
		}
	}
	return event.Target{ID: id, Type: "UserGroup", AlternateID: "unknown", DisplayName: "unknown"}
}

func appUserTarget(p *Person, a *App) event.Target {
	return event.Target{ID: appUserID(p, a), Type: "AppUser", AlternateID: p.Login, DisplayName: p.DisplayName()}
}

// provisionSync is the provisioning job pushing a user's profile to an app.
func provisionSync(r *rng, t time.Time, p *Person, a *App) *event.LogEvent {
	ev := jobEvent(r, t, "application.provision.user.sync", systemActor)
	ev.Target = []event.Target{appUserTarget(p, a), appTarget(a), userTarget(p)}
	return ev
}

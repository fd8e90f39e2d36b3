package scenario

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/event"
)

// StorylineInfo describes an attack storyline and the detections it should trigger.
type StorylineInfo struct {
	Name        string
	Description string
	Detections  []string // stable detection labels, e.g. "okta_mfa_push_fatigue"
}

// Story is one generated instance of a storyline: its events, in published order, starting at the
// requested time. The events are not part of Advance's output; the caller injects them.
type Story struct {
	ID          string // unique per instance
	Name        string
	Detections  []string
	Events      []*event.LogEvent
	Actors      []string // ids of the org's users the story involves (victims, compromised admins)
	AttackerIPs []string // source addresses the attacker used

	effects []effect
}

// effect is a change a story's event makes to the org's state.
type effect struct {
	ev  *event.LogEvent
	mut mutation
}

// Apply makes the org's state follow an injected story: a locked-out victim is LOCKED_OUT (and
// stops signing in until the help desk unlocks them), a granted admin role is held, a reset
// password and a replaced factor stay replaced. Call it once per injected story.
func (g *Generator) Apply(st Story) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, e := range st.effects {
		m := e.mut
		m.at = e.ev.Published
		g.apply(&m)
		p := g.byID[m.id]
		if p == nil {
			continue
		}
		switch m.kind {
		case mutStatus:
			p.Status = m.status
			if m.status != StatusActive {
				// Traffic already planned for the person after the change no longer happens.
				g.pending = slices.DeleteFunc(g.pending, func(pe pending) bool {
					return pe.ev.Actor.ID == m.id && pe.ev.Published.After(m.at)
				})
			}
		case mutRoles:
			p.AdminRoles = slices.Clone(m.list)
		case mutFactors:
			p.Factors = slices.Clone(m.facts)
		}
	}
}

// errTooSmall is returned when the org has too few users for a storyline.
var errTooSmall = errors.New("the org has too few active users; use a larger Users count")

type storyline struct {
	info  StorylineInfo
	build func(s *storyCtx) error
}

// storylines is the catalogue, in a stable order.
func storylines() []storyline {
	return []storyline{
		{StorylineInfo{"mfa_push_fatigue", "An attacker with a stolen password sends Okta Verify push after push from a VPN until the tired user approves one; OIE records each rejection as a failed auth_via_mfa.",
			[]string{"okta_mfa_push_fatigue", "okta_mfa_push_deny_multiple", "okta_session_via_proxy"}}, buildPushFatigue(false)},
		{StorylineInfo{"mfa_push_fatigue_classic", "Push fatigue against a Classic-engine sign-in: rejections are user.mfa.okta_verify.deny_push, the last push is approved.",
			[]string{"okta_mfa_push_fatigue", "okta_mfa_push_deny_multiple", "okta_session_via_proxy"}}, buildPushFatigue(true)},
		{StorylineInfo{"password_spray", "One hosting-provider address tries two common passwords against many users within minutes.",
			[]string{"okta_password_spray", "okta_threat_suspected"}}, buildSpray(false)},
		{StorylineInfo{"password_spray_multi_source", "A botnet of hosting and VPN addresses sprays common passwords, each address touching few users.",
			[]string{"okta_password_spray_multi_source"}}, buildSpray(true)},
		{StorylineInfo{"credential_stuffing", "Breached username/password pairs replayed from one proxy address: one attempt per account, a few passwords valid but MFA blocks them.",
			[]string{"okta_credential_stuffing"}}, buildStuffing},
		{StorylineInfo{"brute_force_lockout", "Rapid password guessing against one account until Okta locks it, then continued attempts against the locked account.",
			[]string{"okta_brute_force", "okta_account_locked"}}, buildBruteForce},
		{StorylineInfo{"session_cookie_replay", "A user's session cookie, stolen by an AiTM proxy, is replayed from another ASN, User-Agent and device token in the same externalSessionId.",
			[]string{"okta_session_cookie_replay"}}, buildCookieReplay},
		{StorylineInfo{"impossible_travel", "Two successful sign-ins of one user from cities thousands of kilometres apart within an hour.",
			[]string{"okta_impossible_travel", "okta_new_country"}}, buildImpossibleTravel},
		{StorylineInfo{"admin_privilege_grant", "A super admin's account signs in through an anonymizing VPN from a new device with high risk, then grants Super administrator to another account.",
			[]string{"okta_session_via_proxy", "okta_high_risk_sign_in", "okta_admin_privilege_grant", "okta_high_risk_session_admin_activity"}}, buildPrivilegeGrant},
		{StorylineInfo{"api_token_new_location", "An admin session from a country and ASN the admin never used creates an unrestricted API token.",
			[]string{"okta_api_token_created", "okta_api_token_new_location", "okta_api_token_unrestricted"}}, buildTokenNewLocation},
		{StorylineInfo{"mfa_reset_then_password_reset", "A socially engineered help desk resets a user's factors and then the password; the attacker enrols a new factor from elsewhere.",
			[]string{"okta_mfa_reset_all", "okta_password_and_mfa_reset"}}, buildHelpdeskTakeover},
		{StorylineInfo{"mfa_downgrade", "A compromised admin edits the workforce authentication policy rule so that a password alone suffices.",
			[]string{"okta_policy_rule_modified", "okta_auth_policy_mfa_downgrade"}}, buildMFADowngrade},
		{StorylineInfo{"new_identity_provider", "A compromised super admin adds and activates a SAML identity provider, a backdoor for signing in as anyone.",
			[]string{"okta_idp_created"}}, buildNewIdP},
		{StorylineInfo{"user_reports_suspicious_activity", "A user denies an unexpected push and reports the activity as suspicious.",
			[]string{"okta_user_reported_suspicious_activity"}}, buildUserReport},
		{StorylineInfo{"threatinsight_detection", "Okta ThreatInsight flags a Tor address failing sign-ins for many unknown users and blocks it.",
			[]string{"okta_threatinsight_detection", "okta_threat_suspected"}}, buildThreatInsight},
		{StorylineInfo{"log_stream_tampering", "A compromised super admin deactivates and deletes the org's log stream to blind the SIEM.",
			[]string{"okta_log_stream_tampering"}}, buildLogStreamTampering},
	}
}

// Storylines lists the attack storylines Storyline can generate.
func Storylines() []StorylineInfo {
	var out []StorylineInfo
	for _, s := range storylines() {
		info := s.info
		info.Detections = slices.Clone(info.Detections)
		out = append(out, info)
	}
	return out
}

// Storyline generates the named storyline starting at at (truncated to milliseconds), against the
// population as of the last Advance. Every call yields a new instance with its own ids; the same
// sequence of calls on generators with the same Config yields the same stories.
func (g *Generator) Storyline(name string, at time.Time) (Story, error) {
	i := slices.IndexFunc(storylines(), func(s storyline) bool { return s.info.Name == name })
	if i < 0 {
		var names []string
		for _, s := range storylines() {
			names = append(names, s.info.Name)
		}
		return Story{}, fmt.Errorf("scenario: unknown storyline %q; choose one of %s", name, strings.Join(names, ", "))
	}
	if at.IsZero() {
		return Story{}, fmt.Errorf("scenario: storyline %q needs a start time", name)
	}
	sl := storylines()[i]
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stories++
	stream := streamID("story", name, at.UTC().Format(time.RFC3339Nano), strconv.Itoa(g.stories))
	s := &storyCtx{g: g, r: newRNG(g.cfg.Seed, stream), t: at, start: at}
	if err := sl.build(s); err != nil {
		return Story{}, fmt.Errorf("scenario: storyline %q: %w", name, err)
	}
	if len(s.events) == 0 {
		return Story{}, fmt.Errorf("scenario: storyline %q produced no events", name)
	}
	slices.SortStableFunc(s.events, func(a, b *event.LogEvent) int { return a.Published.Compare(b.Published) })
	// Storylines open with think time; shift them so the first event is exactly at at.
	shift := at.UTC().Truncate(time.Millisecond).Sub(s.events[0].Published)
	for _, ev := range s.events {
		ev.Published = ev.Published.Add(shift)
	}
	return Story{ID: s.r.uuid(), Name: name, Detections: slices.Clone(sl.info.Detections), Events: s.events, Actors: s.actors, AttackerIPs: s.ips,
		effects: s.effects}, nil
}

// storyCtx accumulates a story's events; t is the story's clock.
type storyCtx struct {
	g       *Generator
	r       *rng
	t       time.Time
	start   time.Time
	events  []*event.LogEvent
	actors  []string
	ips     []string
	effects []effect
}

// effect records that ev changes the org's state as m says.
func (s *storyCtx) effect(ev *event.LogEvent, m mutation) {
	s.effects = append(s.effects, effect{ev: ev, mut: m})
}

func (s *storyCtx) add(ev *event.LogEvent) *event.LogEvent {
	if ev.Published.Before(s.start) {
		ev.Published = s.start.UTC().Truncate(time.Millisecond)
	}
	s.events = append(s.events, ev)
	return ev
}

// after advances the story clock by a random duration in [lo, hi].
func (s *storyCtx) after(lo, hi time.Duration) time.Time {
	s.t = s.t.Add(lo + time.Duration(s.r.Int64N(int64(hi-lo)+1)))
	return s.t
}

// person picks an active person of the current population matching ok and records them as involved.
func (s *storyCtx) person(ok func(p *Person) bool) (*Person, error) {
	var match []*Person
	for _, p := range s.g.public {
		if p.Status == StatusActive && ok(p) && !slices.Contains(s.actors, p.ID) {
			match = append(match, p)
		}
	}
	if len(match) == 0 {
		return nil, errTooSmall
	}
	p := pick(s.r, match)
	s.actors = append(s.actors, p.ID)
	return p, nil
}

func anyone(*Person) bool { return true }

func withPush(p *Person) bool {
	_, ok := p.factor("push")
	return ok && !p.IsAdmin()
}

func hasRole(roles ...string) func(p *Person) bool {
	return func(p *Person) bool {
		for _, r := range p.AdminRoles {
			if slices.Contains(roles, r) {
				return true
			}
		}
		return false
	}
}

// targets returns n distinct active people (fewer if the org is smaller), not recorded as actors.
func (s *storyCtx) targets(n int) []*Person {
	var act []*Person
	for _, p := range s.g.public {
		if p.Status == StatusActive {
			act = append(act, p)
		}
	}
	s.r.Shuffle(len(act), func(i, j int) { act[i], act[j] = act[j], act[i] })
	return act[:min(n, len(act))]
}

// attackerUA are the clients attack tooling presents.
var attackerUAs = []event.UserAgent{
	{RawUserAgent: "python-requests/2.31.0", OS: "Unknown", Browser: "UNKNOWN"},
	{RawUserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/125.0.0.0 Safari/537.36", OS: "Linux", Browser: "CHROME"},
	{RawUserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", OS: "Linux", Browser: "CHROME"},
	{RawUserAgent: "curl/8.5.0", OS: "Unknown", Browser: "UNKNOWN"},
}

// attacker builds an origin on a hostile network of the given kinds; ua indexes attackerUAs.
// The attacker's browser gets its own device token, never registered with Okta.
func (s *storyCtx) attacker(ua int, kinds ...netKind) *origin {
	var nets []int
	for _, i := range hostileNetworks {
		if slices.Contains(kinds, networks[i].Kind) {
			nets = append(nets, i)
		}
	}
	ni := pick(s.r, nets)
	n := &networks[ni]
	c := &cities[pick(s.r, hostileCities[ni])]
	u := attackerUAs[ua]
	dev := "Unknown"
	if u.Browser != "UNKNOWN" {
		dev = "Computer"
	}
	o := newOrigin(ipIn(s.r, n), c, n, nil, &u, dev, "null")
	o.dtHash, o.fingerprint = s.r.hex(64), s.r.hex(32)
	o.sec.Risk = map[string]any{"level": "HIGH", "reasons": []any{"Anomalous Device", "Anomalous Location"}}
	s.ips = append(s.ips, o.client.IPAddress)
	return o
}

// normal is the person's usual origin: their work computer at home.
func (s *storyCtx) normal(p *Person) *origin {
	d := &p.Devices[0]
	return newOrigin(p.HomeIP, p.home, p.homeNet, d, deviceUA(d), d.Kind, "null")
}

// phone is the person's mobile device at home (their computer if they have no phone).
func (s *storyCtx) phone(p *Person) *origin {
	d := p.mobile()
	if d == nil {
		d = &p.Devices[0]
	}
	return newOrigin(p.HomeIP, p.home, p.homeNet, d, deviceUA(d), d.Kind, "null")
}

// riskyBehaviors are the behaviors and risk Okta writes for a sign-in from a new device and place.
const (
	riskyBehaviors = "{New Geo-Location=POSITIVE, New Device=POSITIVE, New IP=POSITIVE, New State=POSITIVE, New Country=POSITIVE, Velocity=POSITIVE, New City=POSITIVE}"
	riskyRisk      = "{reasons=Anomalous Device, Anomalous Location, Impossible Travel, level=HIGH}"
)

// suspicious marks an event the way Okta marks requests from a new device and location.
func suspicious(ev *event.LogEvent, o *origin) *event.LogEvent {
	dd := ev.DebugContext.DebugData
	dd["behaviors"] = riskyBehaviors
	dd["risk"] = riskyRisk
	dd["logOnlySecurityData"] = logOnlySecurityData("HIGH", true, true, true, true, true)
	if o.dtHash != "" {
		dd["dtHash"] = o.dtHash
		dd["deviceFingerprint"] = o.fingerprint
	}
	return ev
}

// failedSignIn is a rejected password for actor (a person or a guessed username).
func (s *storyCtx) failedSignIn(actor *event.Actor, o *origin, reason string, threat bool) *event.LogEvent {
	ev := newEvent(s.r, s.t, "user.session.start", actor, o)
	ev.Outcome = outFailure(reason)
	ev.Severity = "WARN"
	ev.LegacyEventType = "core.user_auth.login_failed"
	setURI(ev, "/idp/idx/identify")
	suspicious(ev, o)
	if threat {
		ev.DebugContext.DebugData["threatSuspected"] = "true"
	}
	return s.add(ev)
}

// passwordOK is an accepted password followed by the sign-on policy's MFA challenge.
func (s *storyCtx) passwordOK(p *Person, o *origin) {
	ev := newEvent(s.r, s.t, "user.authentication.verify", p.actor, o)
	ev.AuthenticationContext.CredentialType = "PASSWORD"
	ev.Target = []event.Target{passwordTarget(p)}
	setURI(ev, "/idp/idx/challenge/answer")
	s.add(suspicious(ev, o))
	ev = newEvent(s.r, s.after(100*time.Millisecond, 400*time.Millisecond), "policy.evaluate_sign_on", p.actor, o)
	ev.Outcome = outChallenge
	pol := s.g.org.policies[0]
	ev.Target = []event.Target{policyTarget(pol), {ID: pol.Rules[0].ID, Type: "PolicyRule", AlternateID: "unknown", DisplayName: pol.Rules[0].Name}}
	setURI(ev, "/idp/idx/identify")
	s.add(suspicious(ev, o))
}

// mfaResult is an auth_via_mfa with the given outcome for factor f, from the attacker's origin.
func (s *storyCtx) mfaResult(p *Person, o *origin, f Factor, sid string, out *event.Outcome) *event.LogEvent {
	return s.add(suspicious(mfaEvent(s.r, s.t, p, o, f, sid, out), o))
}

// genuineSignIn is the person's own, unremarkable sign-in with Okta Verify push; it returns the
// session id.
func (s *storyCtx) genuineSignIn(p *Person, home *origin) string {
	f, _ := p.factor("push")
	sid := s.r.sessionID()
	ev := newEvent(s.r, s.t, "user.authentication.verify", p.actor, home)
	ev.Target = []event.Target{passwordTarget(p)}
	withDevice(ev, home)
	setURI(ev, "/idp/idx/challenge/answer")
	s.add(ev)
	s.after(time.Second, 3*time.Second)
	s.push(p, home, f, sid)
	s.after(5*time.Second, 15*time.Second)
	s.add(mfaEvent(s.r, s.t, p, home, f, sid, outSuccess))
	s.after(100*time.Millisecond, 600*time.Millisecond)
	s.sessionStart(p, home, f, sid)
	return sid
}

// push is a push sent to the person's Okta Verify for a sign-in from o.
func (s *storyCtx) push(p *Person, o *origin, f Factor, sid string) {
	ev := newEvent(s.r, s.t, "system.push.send_factor_verify_push", p.actor, o)
	inSession(ev, sid)
	ev.DebugContext.DebugData["pushOnlyResponseType"] = "ACCEPT_OR_REJECT"
	setURI(ev, "/idp/idx/challenge")
	ev.Target = []event.Target{factorTarget(f)}
	s.add(ev)
}

// sessionStart is a successful sign-in completing in session sid.
func (s *storyCtx) sessionStart(p *Person, o *origin, f Factor, sid string) *event.LogEvent {
	ev := newEvent(s.r, s.t, "user.session.start", p.actor, o)
	inSession(ev, sid)
	withDevice(ev, o)
	setURI(ev, "/idp/idx/authenticators/poll")
	ev.Target = []event.Target{factorTarget(f), appTarget(s.g.org.dashboard)}
	return s.add(ev)
}

// attackerSignIn is a complete, successful sign-in from the attacker's origin (password known,
// push approved) and returns the new session id.
func (s *storyCtx) attackerSignIn(p *Person, o *origin) string {
	sid := s.r.sessionID()
	f, ok := p.factor("push")
	switch {
	case !ok && len(p.Factors) > 0:
		f = p.Factors[0]
	case !ok: // the attacker enrols a factor of their own
		f = newFactor(s.r, factorPush, s.t)
	}
	s.passwordOK(p, o)
	s.after(time.Second, 3*time.Second)
	s.push(p, o, f, sid)
	s.after(8*time.Second, 30*time.Second)
	s.mfaResult(p, o, f, sid, outSuccess)
	s.after(100*time.Millisecond, time.Second)
	suspicious(s.sessionStart(p, o, f, sid), o)
	return sid
}

// adminAction is an admin API call in session sid.
func (s *storyCtx) adminAction(p *Person, o *origin, sid, typ, uri string, targets ...event.Target) *event.LogEvent {
	ev := newEvent(s.r, s.t, typ, p.actor, o)
	inSession(ev, sid)
	setURI(ev, uri)
	ev.Target = targets
	return s.add(suspicious(ev, o))
}

// compromisedAdmin signs in as an admin holding one of roles from a VPN and opens the Admin Console.
func (s *storyCtx) compromisedAdmin(roles ...string) (*Person, *origin, string, error) {
	p, err := s.person(hasRole(roles...))
	if err != nil {
		return nil, nil, "", err
	}
	o := s.attacker(2, netVPN, netTor)
	sid := s.attackerSignIn(p, o)
	s.after(30*time.Second, 3*time.Minute)
	s.adminAction(p, o, sid, "user.session.access_admin_app", "/admin/sso/request", appTarget(s.g.org.adminConsole))
	return p, o, sid, nil
}

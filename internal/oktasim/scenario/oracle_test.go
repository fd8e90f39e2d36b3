package scenario

import (
	"slices"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/event"
)

// The oracle is a plain reference implementation of each detection label, written from
// detections.md §2, so that tests can say "this storyline trips that detection" and "benign
// traffic trips none of the behavioural ones".

// auditLabels fire on single routine admin events, which benign traffic contains too.
var auditLabels = []string{"okta_api_token_created", "okta_mfa_reset_all", "okta_policy_rule_modified", "okta_user_reported_suspicious_activity"}

func dd(ev *event.LogEvent, key string) string {
	if ev.DebugContext == nil {
		return ""
	}
	s, _ := ev.DebugContext.DebugData[key].(string)
	return s
}

func ip(ev *event.LogEvent) string {
	if ev.Client == nil {
		return ""
	}
	return ev.Client.IPAddress
}

func isFailedSignIn(ev *event.LogEvent) bool {
	return ev.EventType == "user.session.start" && ev.Outcome != nil && ev.Outcome.Result == "FAILURE"
}

func isSignIn(ev *event.LogEvent) bool {
	return ev.EventType == "user.session.start" && ev.Outcome != nil && ev.Outcome.Result == "SUCCESS"
}

func isPushDeny(ev *event.LogEvent) bool {
	return ev.EventType == "user.mfa.okta_verify.deny_push" ||
		ev.EventType == "user.authentication.auth_via_mfa" && ev.Outcome.Result == "FAILURE" && dd(ev, "factor") == "OKTA_VERIFY_PUSH"
}

// windows calls fn with every maximal run of the group's events within d of its first event.
func windows(evs []*event.LogEvent, key func(*event.LogEvent) string, d time.Duration, fn func(w []*event.LogEvent) bool) bool {
	groups := map[string][]*event.LogEvent{}
	for _, ev := range evs {
		if k := key(ev); k != "" {
			groups[k] = append(groups[k], ev)
		}
	}
	for _, g := range groups {
		j := 0
		for i := range g {
			for j < len(g) && g[j].Published.Sub(g[i].Published) <= d {
				j++
			}
			if fn(g[i:j]) {
				return true
			}
		}
	}
	return false
}

func distinct(w []*event.LogEvent, f func(*event.LogEvent) string) int {
	seen := map[string]bool{}
	for _, ev := range w {
		seen[f(ev)] = true
	}
	return len(seen)
}

func maxPer(w []*event.LogEvent, f func(*event.LogEvent) string) int {
	n := map[string]int{}
	m := 0
	for _, ev := range w {
		n[f(ev)]++
		m = max(m, n[f(ev)])
	}
	return m
}

func actorKey(ev *event.LogEvent) string { return ev.Actor.AlternateID }

func filter(evs []*event.LogEvent, ok func(*event.LogEvent) bool) []*event.LogEvent {
	var out []*event.LogEvent
	for _, ev := range evs {
		if ok(ev) {
			out = append(out, ev)
		}
	}
	return out
}

func some(evs []*event.LogEvent, ok func(*event.LogEvent) bool) bool {
	return slices.ContainsFunc(evs, ok)
}

// detect returns the labels the events trip, given the org's people for baselines.
func detect(evs []*event.LogEvent, people []Person) map[string]bool {
	evs = slices.Clone(evs)
	slices.SortStableFunc(evs, func(a, b *event.LogEvent) int { return a.Published.Compare(b.Published) })
	out := map[string]bool{}
	set := func(label string, hit bool) {
		if hit {
			out[label] = true
		}
	}
	failed := filter(evs, isFailedSignIn)
	signIns := filter(evs, isSignIn)
	userOf := func(ev *event.LogEvent) string { return ev.Actor.ID }

	// C. Push fatigue: ≥5 pushes and ≥4 denies for one user in 10 minutes, then a success.
	pushOrMFA := filter(evs, func(ev *event.LogEvent) bool {
		return ev.EventType == "system.push.send_factor_verify_push" || isPushDeny(ev) ||
			ev.EventType == "user.authentication.auth_via_mfa" && ev.Outcome.Result == "SUCCESS"
	})
	set("okta_mfa_push_fatigue", windows(pushOrMFA, userOf, 15*time.Minute, func(w []*event.LogEvent) bool {
		pushes := len(filter(w, func(ev *event.LogEvent) bool { return ev.EventType == "system.push.send_factor_verify_push" }))
		denies := len(filter(w, isPushDeny))
		return pushes >= 5 && denies >= 4 && w[len(w)-1].Outcome.Result == "SUCCESS"
	}))
	set("okta_mfa_push_deny_multiple", windows(filter(evs, isPushDeny), userOf, 10*time.Minute, func(w []*event.LogEvent) bool { return len(w) >= 2 }))
	set("okta_session_via_proxy", some(signIns, func(ev *event.LogEvent) bool {
		return ev.SecurityContext != nil && ev.SecurityContext.IsProxy != nil && *ev.SecurityContext.IsProxy
	}))

	// D. Password attacks.
	badPassword := filter(failed, func(ev *event.LogEvent) bool { return ev.Outcome.Reason == "INVALID_CREDENTIALS" })
	set("okta_password_spray", windows(badPassword, ip, 15*time.Minute, func(w []*event.LogEvent) bool {
		users := distinct(w, actorKey)
		return users >= 10 && len(w) >= 15 && maxPer(w, actorKey) <= 8 && float64(len(w)) >= 1.5*float64(users)
	}))
	set("okta_password_spray_multi_source", windows(badPassword, func(*event.LogEvent) string { return "org" }, 15*time.Minute, func(w []*event.LogEvent) bool {
		return distinct(w, ip) >= 5 && distinct(w, actorKey) >= 8 && len(w) >= 25 && maxPer(w, actorKey) <= 5
	}))
	attempts := filter(evs, func(ev *event.LogEvent) bool {
		return isFailedSignIn(ev) || ev.EventType == "user.authentication.verify"
	})
	set("okta_credential_stuffing", windows(attempts, ip, 30*time.Minute, func(w []*event.LogEvent) bool {
		fails := len(filter(w, isFailedSignIn))
		return distinct(w, actorKey) >= 15 && len(w) >= 25 && maxPer(w, actorKey) <= 2 && fails*5 >= len(w)*4
	}))
	set("okta_brute_force", windows(failed, actorKey, 10*time.Minute, func(w []*event.LogEvent) bool { return len(w) >= 15 }))
	set("okta_account_locked", some(evs, func(ev *event.LogEvent) bool { return ev.EventType == "user.account.lock" }))

	// E. Session replay: one session id used from several IPs with another ASN, UA or device token.
	sessionEvents := filter(evs, func(ev *event.LogEvent) bool {
		return ev.AuthenticationContext != nil && ev.AuthenticationContext.ExternalSessionID != "" && ev.Client != nil && ev.Client.UserAgent != nil
	})
	set("okta_session_cookie_replay", windows(sessionEvents, func(ev *event.LogEvent) string { return ev.AuthenticationContext.ExternalSessionID }, 24*time.Hour, func(w []*event.LogEvent) bool {
		asn := func(ev *event.LogEvent) string { return ev.SecurityContext.AsOrg }
		ua := func(ev *event.LogEvent) string { return ev.Client.UserAgent.RawUserAgent }
		dt := func(ev *event.LogEvent) string { return dd(ev, "dtHash") }
		return distinct(w, ip) >= 2 && (distinct(w, asn) >= 2 || distinct(w, ua) >= 2 || distinct(w, dt) >= 2)
	}))

	// F. Geography and risk.
	travel, newCountry := false, false
	byUser := map[string][]*event.LogEvent{}
	for _, ev := range signIns {
		byUser[ev.Actor.ID] = append(byUser[ev.Actor.ID], ev)
	}
	for _, list := range byUser {
		for i := 1; i < len(list); i++ {
			a, b := list[i-1].Client.GeographicalContext, list[i].Client.GeographicalContext
			km := distanceKm(a.Geolocation.Lat, a.Geolocation.Lon, b.Geolocation.Lat, b.Geolocation.Lon)
			h := list[i].Published.Sub(list[i-1].Published).Hours()
			if km >= 500 && km/max(h, 1.0/3600) > 1000 {
				travel = true
			}
			if a.Country != b.Country && h <= 3 {
				newCountry = true
			}
		}
	}
	set("okta_impossible_travel", travel)
	set("okta_new_country", newCountry)
	highRisk := func(ev *event.LogEvent) bool { return strings.Contains(dd(ev, "risk"), "level=HIGH") }
	set("okta_high_risk_sign_in", some(signIns, highRisk))
	riskySessions := map[string]bool{}
	for _, ev := range signIns {
		if highRisk(ev) {
			riskySessions[ev.AuthenticationContext.ExternalSessionID] = true
		}
	}
	set("okta_high_risk_session_admin_activity", some(evs, func(ev *event.LogEvent) bool {
		return riskySessions[ev.AuthenticationContext.ExternalSessionID] && (ev.EventType == "user.session.access_admin_app" ||
			strings.HasPrefix(ev.EventType, "user.account.privilege") || strings.HasPrefix(ev.EventType, "policy.") ||
			strings.HasPrefix(ev.EventType, "system."))
	}))

	// A/B. Administrative changes.
	set("okta_admin_privilege_grant", some(evs, func(ev *event.LogEvent) bool {
		g := dd(ev, "privilegeGranted")
		return ev.EventType == "user.account.privilege.grant" && (strings.Contains(g, "Super") || strings.Contains(g, "Organization"))
	}))
	tokens := filter(evs, func(ev *event.LogEvent) bool { return ev.EventType == "system.api_token.create" })
	set("okta_api_token_created", len(tokens) > 0)
	set("okta_api_token_unrestricted", some(tokens, func(ev *event.LogEvent) bool { return dd(ev, "networkConnection") == "ANYWHERE" }))
	set("okta_api_token_new_location", some(tokens, func(ev *event.LogEvent) bool {
		p, ok := findPerson(people, ev.Actor.ID)
		return ok && ev.SecurityContext.AsNumber != nil && *ev.SecurityContext.AsNumber != p.ASN && ip(ev) != p.OfficeIP
	}))
	set("okta_mfa_reset_all", some(evs, func(ev *event.LogEvent) bool { return ev.EventType == "user.mfa.factor.reset_all" }))
	resets := filter(evs, func(ev *event.LogEvent) bool {
		return ev.EventType == "user.account.reset_password" || ev.EventType == "user.mfa.factor.reset_all" || ev.EventType == "user.mfa.factor.deactivate"
	})
	set("okta_password_and_mfa_reset", windows(resets, func(ev *event.LogEvent) string { return ev.Target[0].ID }, 30*time.Minute, func(w []*event.LogEvent) bool {
		return some(w, func(ev *event.LogEvent) bool { return ev.EventType == "user.account.reset_password" }) &&
			some(w, func(ev *event.LogEvent) bool { return ev.EventType != "user.account.reset_password" })
	}))
	ruleUpdates := filter(evs, func(ev *event.LogEvent) bool { return ev.EventType == "policy.rule.update" })
	set("okta_policy_rule_modified", len(ruleUpdates) > 0)
	set("okta_auth_policy_mfa_downgrade", some(ruleUpdates, func(ev *event.LogEvent) bool {
		for _, t := range ev.Target {
			if t.ChangeDetails != nil && t.ChangeDetails.From["factorMode"] == "2FA" && t.ChangeDetails.To["factorMode"] == "1FA" {
				return true
			}
		}
		return false
	}))
	set("okta_idp_created", some(evs, func(ev *event.LogEvent) bool { return ev.EventType == "system.idp.lifecycle.create" }))
	set("okta_user_reported_suspicious_activity", some(evs, func(ev *event.LogEvent) bool {
		return ev.EventType == "user.account.report_suspicious_activity_by_enduser"
	}))
	set("okta_threatinsight_detection", some(evs, func(ev *event.LogEvent) bool { return ev.EventType == "security.threat.detected" }))
	set("okta_threat_suspected", some(evs, func(ev *event.LogEvent) bool { return dd(ev, "threatSuspected") == "true" }))
	set("okta_log_stream_tampering", some(evs, func(ev *event.LogEvent) bool { return strings.HasPrefix(ev.EventType, "system.log_stream.lifecycle.") }))
	return out
}

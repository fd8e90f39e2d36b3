package hooks

import "slices"

// eligible is the set of event types Okta can deliver through event hooks (tagged
// event-hook-eligible in Okta's event-type catalog) that oktasim emits or connectors rely on.
var eligible = map[string]bool{
	"user.session.start":                             true,
	"user.session.end":                               true,
	"user.session.clear":                             true,
	"user.session.context.change":                    true,
	"user.authentication.auth_via_mfa":               true,
	"user.authentication.sso":                        true,
	"user.account.lock":                              true,
	"user.account.unlock":                            true,
	"user.account.reset_password":                    true,
	"user.account.update_password":                   true,
	"user.account.privilege.grant":                   true,
	"user.account.privilege.revoke":                  true,
	"user.lifecycle.suspend":                         true,
	"user.lifecycle.unsuspend":                       true,
	"user.lifecycle.deactivate":                      true,
	"user.mfa.factor.deactivate":                     true,
	"user.mfa.factor.reset_all":                      true,
	"user.risk.change":                               true,
	"system.api_token.create":                        true,
	"system.api_token.revoke":                        true,
	"system.api_token.request_outside_allowed_range": true,
	"policy.lifecycle.update":                        true,
	"application.user_membership.add":                true,
	"group.user_membership.add":                      true,
	"system.org.rate_limit.warning":                  true,
	"system.org.rate_limit.violation":                true,
}

// ineligible lists types Okta's catalog does not tag as hook-eligible although connectors
// care about them; they are kept explicit so a subscription to one is refused with a clear
// message (poll the System Log for these).
var ineligible = map[string]bool{
	"system.push.send_factor_verify_push":  true,
	"user.mfa.okta_verify.deny_push":       true,
	"user.mfa.okta_verify":                 true,
	"security.threat.detected":             true,
	"policy.evaluate_sign_on":              true,
	"user.authentication.verify":           true,
	"user.account.lock.limit":              true,
	"core.concurrency.org.limit.violation": true,
	"system.org.rate_limit.burst":          true,
	"event_hook.delivery":                  true,
}

// Eligible reports whether Okta delivers eventType through event hooks.
func Eligible(eventType string) bool { return eligible[eventType] && !ineligible[eventType] }

// EligibleTypes lists the event types this registry delivers, sorted.
func (g *Registry) EligibleTypes() []string {
	out := make([]string, 0, len(g.eligible))
	for t := range g.eligible {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

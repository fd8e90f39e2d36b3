package hooks

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// eligibleTypes are the event types of Okta's event-type catalog tagged event-hook-eligible that
// idwatch's detections can use (okta-api.md §6.4); other types arrive by polling only.
var eligibleTypes = []string{
	"application.user_membership.add",
	"group.user_membership.add",
	"policy.lifecycle.update",
	"system.api_token.create",
	"system.api_token.request_outside_allowed_range",
	"system.api_token.revoke",
	"system.org.rate_limit.violation",
	"system.org.rate_limit.warning",
	"user.account.lock",
	"user.account.privilege.grant",
	"user.account.privilege.revoke",
	"user.account.reset_password",
	"user.account.unlock",
	"user.account.update_password",
	"user.authentication.auth_via_mfa",
	"user.authentication.sso",
	"user.lifecycle.deactivate",
	"user.lifecycle.suspend",
	"user.lifecycle.unsuspend",
	"user.mfa.factor.deactivate",
	"user.mfa.factor.reset_all",
	"user.risk.change",
	"user.session.clear",
	"user.session.context.change",
	"user.session.end",
	"user.session.start",
}

// Eligible reports whether Okta can deliver eventType through an event hook.
func Eligible(eventType string) bool {
	_, ok := slices.BinarySearch(eligibleTypes, eventType)
	return ok
}

// Subscription returns the hook-eligible types among wanted (the event types the detections
// need), sorted and without repeats, at most Okta's 300 per hook.
func Subscription(wanted []string) []string {
	var out []string
	for _, t := range wanted {
		if Eligible(t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	return out[:min(len(out), 300)]
}

// NewSecret returns a fresh random shared secret for a hook's header.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CheckURL validates the public address Okta delivers to for integration name: https (http only
// on a loopback host, for tests and local receivers), no credentials or query, and a path ending
// in /hooks/okta/{name}, where the receiver serves (a reverse proxy may add a prefix).
func CheckURL(raw, name string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || !u.IsAbs() {
		return fmt.Errorf("hook URL %q is not an absolute URL such as https://idwatch.example.com%s%s", raw, PathPrefix, name)
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	loopback := host == "localhost" || ip != nil && ip.IsLoopback()
	switch {
	case u.Scheme == "http" && !loopback, u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("hook URL %q must use https: Okta delivers only over HTTPS", raw)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("hook URL %q must not carry credentials, a query or a fragment; the shared secret goes in a header", raw)
	case !strings.HasSuffix(u.Path, PathPrefix+name):
		return fmt.Errorf("hook URL %q must end in %s%s, where the receiver serves this integration", raw, PathPrefix, name)
	}
	return nil
}

package sigma

import (
	"slices"
	"strings"
	"testing"
)

const responseRuleHead = `title: t
logsource: {product: okta}
detection: {sel: {eventType: x}, condition: sel}
`

func TestResponseField(t *testing.T) {
	rules, err := ParseFile("r.yml", []byte(responseRuleHead+"response: {mode: auto, actions: [clear-sessions, suspend], oauth_tokens: true}\n"), NewPaths())
	if err != nil {
		t.Fatal(err)
	}
	r := rules[0].Response
	if r == nil || r.Mode != "auto" || !slices.Equal(r.Actions, []string{"clear_sessions", "suspend"}) || !r.OAuthTokens {
		t.Fatalf("response %+v", r)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"response: suspend", "must be a map"},
		{"response: {mode: always, actions: [suspend]}", "use off, propose or auto"},
		{"response: {actions: [unsuspend]}", "not an action a rule may take"},
		{"response: {mode: auto, actions: [deactivate]}", "may only propose it"},
		{"response: {mode: propose}", "names no actions"},
		{"response: {actions: [suspend], user: 'a..b'}", "response.user"},
		{"response: {actions: [suspend], when: now}", `unknown key "when"`},
	} {
		_, err := ParseFile("r.yml", []byte(responseRuleHead+tc.yaml+"\n"), NewPaths())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

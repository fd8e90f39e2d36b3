package sigma

import (
	"slices"
	"strconv"
	"strings"

	"github.com/idwatch/idwatch/internal/event"
)

// Response is a rule's `response:` custom field: the Okta actions idwatch takes on the user an
// alert is about, and in which mode (internal/respond carries them out behind its guard rails).
type Response struct {
	// Mode is off, propose (an analyst approves each action) or auto; "" leaves it to the
	// configuration's respond.default_rule_mode (off unless set).
	Mode string `json:"mode,omitempty"`
	// Actions run in order: suspend, clear_sessions, reset_factors, expire_password, deactivate.
	Actions []string `json:"actions"`
	// User is the field naming the user to act on (default actor.alternateId): read from the
	// alert's group-by values, else from its first evidence event.
	User string `json:"user,omitempty"`
	// OAuthTokens makes clear_sessions also revoke the user's OAuth tokens.
	OAuthTokens bool `json:"oauth_tokens,omitempty"`
}

// ResponseActions are the actions a rule may name. Unsuspend undoes a response and is for
// people only; deactivate cannot be undone and may only be proposed.
var ResponseActions = []string{"suspend", "clear_sessions", "reset_factors", "expire_password", "deactivate"}

func parseResponse(file string, n *node) (*Response, ErrorList) {
	if n.kind != kindMap {
		return nil, ErrorList{errorf(file, n, "response must be a map with mode and actions")}
	}
	out := &Response{}
	var errs ErrorList
	for i, k := range n.keys {
		v := n.vals[i]
		switch k {
		case "mode":
			out.Mode = strings.ToLower(v.text)
			if v.kind != kindScalar || !slices.Contains([]string{"off", "propose", "auto"}, out.Mode) {
				errs = append(errs, errorf(file, v, "response.mode: use off, propose or auto"))
			}
		case "actions", "action":
			acts, e := stringList(file, v, "response.actions")
			errs = append(errs, e...)
			for _, a := range acts {
				a = strings.ReplaceAll(strings.ToLower(a), "-", "_")
				if !slices.Contains(ResponseActions, a) {
					errs = append(errs, errorf(file, v, "response.actions: %q is not an action a rule may take (%s)", a, strings.Join(ResponseActions, ", ")))
					continue
				}
				if !slices.Contains(out.Actions, a) {
					out.Actions = append(out.Actions, a)
				}
			}
		case "user":
			if _, err := event.ParsePath(v.text); v.kind != kindScalar || err != nil {
				errs = append(errs, errorf(file, v, "response.user: give the field naming the user, e.g. actor.alternateId"))
			}
			out.User = v.text
		case "oauth_tokens":
			b, err := strconv.ParseBool(v.text)
			if v.kind != kindScalar || err != nil {
				errs = append(errs, errorf(file, v, "response.oauth_tokens: true or false"))
			}
			out.OAuthTokens = b
		default:
			errs = append(errs, errorf(file, v, "response: unknown key %q (mode, actions, user, oauth_tokens)", k))
		}
	}
	if len(out.Actions) == 0 && len(errs) == 0 {
		errs = append(errs, errorf(file, n, "response names no actions"))
	}
	if out.Mode == "auto" && slices.Contains(out.Actions, "deactivate") {
		errs = append(errs, errorf(file, n, "response: deactivate cannot be undone, so a rule may only propose it (mode: propose)"))
	}
	return out, errs
}

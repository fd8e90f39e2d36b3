package respond

import (
	"net/url"
	"slices"
	"strconv"
)

// Action names a response action.
type Action string

// The actions.
const (
	Suspend        Action = "suspend"
	Unsuspend      Action = "unsuspend"
	Deactivate     Action = "deactivate"
	ClearSessions  Action = "clear_sessions"
	ResetFactors   Action = "reset_factors"
	ExpirePassword Action = "expire_password"
)

// actionSpec is what an action calls, what it leaves behind and what Okta checks for it.
type actionSpec struct {
	// endpoint is the path after /api/v1/users/{id}; method the HTTP method.
	method, endpoint string
	// want is the user status the action leads to ("" when the status does not change).
	want string
	// eventType is the System Log event Okta writes for it.
	eventType string
	// permission is the admin role permission Okta checks (its label in the custom role editor
	// and its API name).
	permission, permissionID string
	// locksOut is true when the action can take away an admin's access to the org.
	locksOut bool
	// fromRules is false for actions a rule may not take.
	fromRules bool
	// from lists the statuses Okta accepts it in (nil: any but DEPROVISIONED).
	from []string
}

const (
	permLifecycle = "Edit user's lifecycle states"
	permAuthn     = "Edit user's authenticator operations"
	permSessions  = "Clear user sessions"
)

var actions = map[Action]actionSpec{
	Suspend: {method: "POST", endpoint: "/lifecycle/suspend", want: "SUSPENDED", eventType: "user.lifecycle.suspend",
		permission: permLifecycle, permissionID: "okta.users.lifecycle.manage", locksOut: true, fromRules: true, from: []string{"ACTIVE"}},
	Unsuspend: {method: "POST", endpoint: "/lifecycle/unsuspend", want: "ACTIVE", eventType: "user.lifecycle.unsuspend",
		permission: permLifecycle, permissionID: "okta.users.lifecycle.manage", from: []string{"SUSPENDED"}},
	Deactivate: {method: "POST", endpoint: "/lifecycle/deactivate", want: "DEPROVISIONED", eventType: "user.lifecycle.deactivate",
		permission: permLifecycle, permissionID: "okta.users.lifecycle.manage", locksOut: true, fromRules: true},
	ClearSessions: {method: "DELETE", endpoint: "/sessions", eventType: "user.session.clear",
		permission: permSessions, permissionID: "okta.users.lifecycle.clearSessions", fromRules: true},
	ResetFactors: {method: "POST", endpoint: "/lifecycle/reset_factors", eventType: "user.mfa.factor.reset_all",
		permission: permAuthn, permissionID: "okta.users.credentials.manage", locksOut: true, fromRules: true},
	ExpirePassword: {method: "POST", endpoint: "/lifecycle/expire_password", want: "PASSWORD_EXPIRED", eventType: "user.account.expire_password",
		permission: permAuthn, permissionID: "okta.users.credentials.manage", fromRules: true,
		from: []string{"ACTIVE", "PASSWORD_EXPIRED", "RECOVERY", "LOCKED_OUT"}},
}

// ActionNames lists the actions in a stable order.
func ActionNames() []string {
	return []string{string(Suspend), string(Unsuspend), string(Deactivate), string(ClearSessions), string(ResetFactors), string(ExpirePassword)}
}

// ParseAction accepts an action name, with - or _ (clear-sessions, clear_sessions).
func ParseAction(s string) (Action, bool) {
	b := []byte(s)
	for i, c := range b {
		if c == '-' {
			b[i] = '_'
		}
	}
	a := Action(b)
	_, ok := actions[a]
	return a, ok
}

// Options are an action's options.
type Options struct {
	// OAuthTokens (clear_sessions) also revokes the user's OAuth tokens.
	OAuthTokens bool
	// ForgetDevices (clear_sessions) also forgets remembered devices and factors.
	ForgetDevices bool
	// SendEmail (deactivate) has Okta email the user.
	SendEmail bool
}

// Call is one Okta request as a dry run shows it and the audit trail records it.
type Call struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Query  string `json:"query,omitempty"`
	// Why says what the call is for.
	Why string `json:"why"`
}

// String prints the call as an HTTP request line.
func (c Call) String() string {
	s := c.Method + " " + c.Path
	if c.Query != "" {
		s += "?" + c.Query
	}
	return s
}

// writeCall is the request that performs a on the user with id.
func writeCall(a Action, id string, o Options) Call {
	spec := actions[a]
	c := Call{Method: spec.method, Path: "/api/v1/users/" + url.PathEscape(id) + spec.endpoint, Why: string(a)}
	switch a {
	case ClearSessions:
		c.Query = url.Values{"oauthTokens": {strconv.FormatBool(o.OAuthTokens)}, "forgetDevices": {strconv.FormatBool(o.ForgetDevices)}}.Encode()
	case Deactivate:
		c.Query = url.Values{"sendEmail": {strconv.FormatBool(o.SendEmail)}}.Encode()
	}
	return c
}

// optionMap is the options as stored with the action.
func (o Options) optionMap(a Action) map[string]string {
	switch a {
	case ClearSessions:
		return map[string]string{"oauth_tokens": strconv.FormatBool(o.OAuthTokens), "forget_devices": strconv.FormatBool(o.ForgetDevices)}
	case Deactivate:
		return map[string]string{"send_email": strconv.FormatBool(o.SendEmail)}
	}
	return nil
}

func optionsFrom(m map[string]string) Options {
	b := func(k string) bool { v, _ := strconv.ParseBool(m[k]); return v }
	return Options{OAuthTokens: b("oauth_tokens"), ForgetDevices: b("forget_devices"), SendEmail: b("send_email")}
}

// alreadyDone reports whether the user's status already is what a would lead to.
func alreadyDone(a Action, status string) bool {
	want := actions[a].want
	return want != "" && status == want
}

// allowedFrom reports whether Okta accepts a in the user's status.
func allowedFrom(a Action, status string) bool {
	spec := actions[a]
	if spec.from == nil {
		return status != "DEPROVISIONED"
	}
	return slices.Contains(spec.from, status)
}

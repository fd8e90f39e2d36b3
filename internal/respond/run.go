package respond

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/store"
)

// system names idwatch itself in the audit trail.
const system = "idwatch"

// A clear of sessions is read back from the System Log: up to logReadBackTries reads,
// logReadBackWait apart.
const (
	logReadBackTries = 4
	logReadBackWait  = 5 * time.Second
)

// recorder collects the Okta exchanges of one step for the audit trail.
type recorder struct {
	mu sync.Mutex
	xs []okta.Exchange
}

func (rc *recorder) add(x okta.Exchange) {
	rc.mu.Lock()
	rc.xs = append(rc.xs, x)
	rc.mu.Unlock()
}

func (rc *recorder) take() []okta.Exchange {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	xs := rc.xs
	rc.xs = nil
	return xs
}

// flush appends the collected exchanges to the action's trail.
func (r *Responder) flush(ctx context.Context, rc *recorder, a store.ResponseAction, status, kind string) error {
	for _, x := range rc.take() {
		if err := r.st.AppendResponseRecord(ctx, store.ResponseRecord{ActionID: a.ID, By: system, Kind: kind, Status: status,
			Method: x.Method, Path: x.Path, Query: x.Query, OktaStatus: x.Status, OktaCode: x.Code, OktaRequestID: x.RequestID}); err != nil {
			return err
		}
	}
	return nil
}

// finish moves the action out of executing with its result.
func (r *Responder) finish(ctx context.Context, a store.ResponseAction, status, kind, userID, result string) (store.ResponseAction, error) {
	return r.st.TransitionResponseAction(ctx, a.ID, []string{store.ResponseExecuting}, userID, result,
		store.ResponseRecord{By: system, Kind: kind, Status: status, Text: result})
}

// run claims an approved action and carries it out.
func (r *Responder) run(ctx context.Context, a store.ResponseAction, by string) (Outcome, error) {
	a, err := r.st.TransitionResponseAction(ctx, a.ID, []string{store.ResponseApproved}, "", "executing",
		store.ResponseRecord{By: by, Kind: "claimed", Status: store.ResponseExecuting})
	if err != nil {
		return Outcome{}, err
	}
	act := Action(a.Action)
	out := Outcome{}
	rc := &recorder{}
	octx := okta.WithObserver(okta.WithLane(ctx, okta.LaneResponse), rc.add)
	c, _, err := r.client(ctx, a.IntegrationID)
	if err != nil {
		out.Action, err = r.finish(ctx, a, store.ResponseFailed, "failed", "", err.Error())
		return out, err
	}
	user, refusal, err := r.guard(octx, c, act, a.User)
	if ferr := r.flush(ctx, rc, a, store.ResponseExecuting, "check"); ferr != nil {
		return out, ferr
	}
	switch {
	case err != nil:
		out.Action, err = r.finish(ctx, a, store.ResponseFailed, "failed", "", "guard rails could not be checked, nothing was changed: "+explain(act, err))
		return out, err
	case refusal != "":
		out.Refusal = refusal
		out.Action, err = r.finish(ctx, a, store.ResponseRefused, "refused", user.ID, refusal)
		return out, err
	case alreadyDone(act, user.Status):
		out.Action, err = r.finish(ctx, a, store.ResponseExecuted, "verified", user.ID,
			fmt.Sprintf("user %s is already %s; nothing was sent", user.ID, user.Status))
		return out, err
	case !allowedFrom(act, user.Status):
		out.Refusal = fmt.Sprintf("Okta does not allow %s for a user in status %s", act, user.Status)
		out.Action, err = r.finish(ctx, a, store.ResponseRefused, "refused", user.ID, out.Refusal)
		return out, err
	}
	opts := optionsFrom(a.Options)
	call := writeCall(act, user.ID, opts)
	out.Calls = []Call{call}
	start := r.clock.Now()
	werr := r.send(octx, c, act, user.ID, opts)
	if ferr := r.flush(ctx, rc, a, store.ResponseExecuting, "call"); ferr != nil {
		return out, ferr
	}
	if werr != nil {
		out.Action, err = r.finish(ctx, a, store.ResponseFailed, "failed", user.ID, explain(act, werr))
		return out, err
	}
	ok, how, verr := r.verify(octx, c, act, user.ID, start)
	if ferr := r.flush(ctx, rc, a, store.ResponseExecuting, "read-back"); ferr != nil {
		return out, ferr
	}
	switch {
	case verr != nil:
		out.Action, err = r.finish(ctx, a, store.ResponseFailed, "failed", user.ID, "Okta accepted "+call.String()+" but the read-back failed: "+explain(act, verr))
	case !ok:
		out.Action, err = r.finish(ctx, a, store.ResponseFailed, "failed", user.ID, "Okta accepted "+call.String()+" but the read-back shows no change: "+how)
	default:
		out.Action, err = r.finish(ctx, a, store.ResponseExecuted, "verified", user.ID, "verified: "+how)
	}
	return out, err
}

// send makes the action's write call.
func (r *Responder) send(ctx context.Context, c *okta.Client, a Action, id string, o Options) error {
	switch a {
	case Suspend:
		return c.SuspendUser(ctx, id)
	case Unsuspend:
		return c.UnsuspendUser(ctx, id)
	case Deactivate:
		return c.DeactivateUser(ctx, id, o.SendEmail)
	case ResetFactors:
		return c.ResetFactors(ctx, id)
	case ExpirePassword:
		_, err := c.ExpirePassword(ctx, id)
		return err
	case ClearSessions:
		return c.ClearUserSessions(ctx, id, okta.SessionsOptions{OAuthTokens: o.OAuthTokens, ForgetDevices: o.ForgetDevices})
	}
	return fmt.Errorf("unknown action %q", a)
}

// readBack is the call that verifies a.
func readBack(a Action, id string, since time.Time) Call {
	switch a {
	case ResetFactors:
		return Call{Method: "GET", Path: "/api/v1/users/" + url.PathEscape(id) + "/factors", Why: "read-back: no factor left enrolled"}
	case ClearSessions:
		q := url.Values{"since": {since.UTC().Format("2006-01-02T15:04:05.000Z")}, "limit": {"20"}, "sortOrder": {"ASCENDING"},
			"filter": {sessionClearFilter(id)}}
		return Call{Method: "GET", Path: "/api/v1/logs", Query: q.Encode(), Why: "read-back: Okta logged user.session.clear for the user"}
	}
	return Call{Method: "GET", Path: "/api/v1/users/" + url.PathEscape(id), Why: "read-back: status is " + actions[a].want}
}

func sessionClearFilter(id string) string {
	return `eventType eq "user.session.clear" and target.id eq "` + id + `"`
}

// verify reads back what the action changed. Sessions leave no readable state in Okta's API, so
// their clear is verified by the System Log event Okta writes for it.
func (r *Responder) verify(ctx context.Context, c *okta.Client, a Action, id string, start time.Time) (bool, string, error) {
	switch a {
	case ResetFactors:
		fs, err := c.ListUserFactorsIn(ctx, okta.LaneResponse, id)
		if err != nil {
			return false, "", err
		}
		for _, f := range fs {
			if f.Status == "ACTIVE" {
				return false, fmt.Sprintf("factor %s (%s) is still ACTIVE", f.ID, f.FactorType), nil
			}
		}
		return true, fmt.Sprintf("user %s has no enrolled factor left", id), nil
	case ClearSessions:
		// Okta commits System Log events within seconds of the call, so the read-back looks a
		// few times before it reports the event missing.
		var p *okta.Page
		for try := 0; ; try++ {
			var err error
			if p, err = c.LogsIn(ctx, okta.LaneResponse, okta.LogsQuery{Since: start.Add(-time.Minute), Limit: 20, Filter: sessionClearFilter(id)}); err != nil {
				return false, "", err
			}
			if len(p.Items) > 0 {
				break
			}
			if try == logReadBackTries-1 {
				return false, fmt.Sprintf("Okta's System Log has no user.session.clear event for the user after %d reads over %s", logReadBackTries, time.Duration(logReadBackTries-1)*logReadBackWait), nil
			}
			if err := clock.Sleep(ctx, r.clock, logReadBackWait); err != nil {
				return false, "", err
			}
		}
		var ev struct {
			UUID string `json:"uuid"`
		}
		_ = json.Unmarshal(p.Items[len(p.Items)-1], &ev)
		return true, fmt.Sprintf("Okta logged user.session.clear for %s (event %s)", id, ev.UUID), nil
	}
	u, err := c.GetUserIn(ctx, okta.LaneResponse, id)
	if err != nil {
		return false, "", err
	}
	want := actions[a].want
	if u.Status == want || u.TransitioningToStatus == want {
		return true, fmt.Sprintf("user %s is %s", id, want), nil
	}
	return false, fmt.Sprintf("user %s is %s, not %s", id, u.Status, want), nil
}

// dryRun resolves the user and checks the guard rails with reads only, and lists the calls an
// execution would make.
func (r *Responder) dryRun(ctx context.Context, req Request) (Outcome, error) {
	rc := &recorder{}
	octx := okta.WithObserver(okta.WithLane(ctx, okta.LaneResponse), rc.add)
	c, _, err := r.client(ctx, req.IntegrationID)
	if err != nil {
		return Outcome{}, err
	}
	user, refusal, err := r.guard(octx, c, req.Action, req.User)
	out := Outcome{Refusal: refusal}
	for _, x := range rc.take() {
		out.Checks = append(out.Checks, Call{Method: x.Method, Path: x.Path, Query: x.Query, Why: fmt.Sprintf("guard rail read (Okta answered %d)", x.Status)})
	}
	if err != nil {
		return out, fmt.Errorf("guard rails could not be checked: %s", explain(req.Action, err))
	}
	out.UserID, out.Status = user.ID, user.Status
	switch {
	case refusal != "":
		return out, nil
	case alreadyDone(req.Action, user.Status):
		out.Refusal = fmt.Sprintf("user is already %s; nothing would be sent", user.Status)
		return out, nil
	case !allowedFrom(req.Action, user.Status):
		out.Refusal = fmt.Sprintf("Okta does not allow %s for a user in status %s", req.Action, user.Status)
		return out, nil
	}
	out.Calls = []Call{writeCall(req.Action, user.ID, *req.Options), readBack(req.Action, user.ID, r.clock.Now().Add(-time.Minute))}
	return out, nil
}

// guard resolves the user and applies the deny-list. A refusal names the guard rail; an error
// means a check could not be made, and then nothing may be changed.
func (r *Responder) guard(ctx context.Context, c *okta.Client, a Action, ref string) (*okta.User, string, error) {
	u := &okta.User{}
	if !r.cfg.enabled(a) {
		return u, fmt.Sprintf("refused: %s is not among respond.actions in the configuration", a), nil
	}
	if r.protectedUser(ref) {
		return u, fmt.Sprintf("refused: %s is a protected user (respond.protected_users)", ref), nil
	}
	u, err := c.GetUserIn(ctx, okta.LaneResponse, ref)
	if err != nil {
		return &okta.User{}, "", err
	}
	if r.protectedUser(u.ID) || r.protectedUser(u.ProfileString("login")) {
		return u, fmt.Sprintf("refused: %s (%s) is a protected user (respond.protected_users)", u.ProfileString("login"), u.ID), nil
	}
	// The connector's own account: an API token acts as its admin, whom /users/me names. A
	// service app acts as itself, not as a user (Okta answers 404), so no user action can lock it
	// out; the people who administer it belong in protected_users.
	me, err := c.GetMe(ctx)
	switch {
	case err == nil && me.ID == u.ID:
		return u, fmt.Sprintf("refused: %s (%s) is the account idwatch's API token acts as; acting on it would cut idwatch off", u.ProfileString("login"), u.ID), nil
	case err != nil && !errors.Is(err, okta.KindNotFound):
		return u, "", fmt.Errorf("reading the connector's own account (GET /api/v1/users/me): %w", err)
	}
	if len(r.cfg.ProtectedGroups) > 0 {
		groups, err := c.ListUserGroupsIn(ctx, okta.LaneResponse, u.ID)
		if err != nil {
			return u, "", fmt.Errorf("reading the user's groups for respond.protected_groups: %w", err)
		}
		for _, g := range groups {
			name, _ := g.Profile["name"].(string)
			for _, p := range r.cfg.ProtectedGroups {
				if p == g.ID || strings.EqualFold(p, name) {
					return u, fmt.Sprintf("refused: %s is a member of the protected group %s (respond.protected_groups)", u.ID, orName(name, g.ID)), nil
				}
			}
		}
	}
	if actions[a].locksOut {
		last, err := r.lastSuperAdmin(ctx, c, u.ID)
		if err != nil {
			return u, "", fmt.Errorf("checking whether %s is the last active super admin (needs okta.roles.read): %w", u.ID, err)
		}
		if last {
			return u, fmt.Sprintf("refused: %s (%s) is the last active super admin; %s would lock everyone out of the org's administration", u.ProfileString("login"), u.ID, a), nil
		}
	}
	return u, "", nil
}

func orName(name, id string) string {
	if name != "" {
		return name + " (" + id + ")"
	}
	return id
}

func (r *Responder) protectedUser(ref string) bool {
	return slices.ContainsFunc(r.cfg.ProtectedUsers, func(p string) bool { return strings.EqualFold(p, ref) })
}

// lastSuperAdmin reports whether id holds SUPER_ADMIN and no other ACTIVE user does. Okta's
// listing of role assignees names the candidates, so only admins are read, not every user.
func (r *Responder) lastSuperAdmin(ctx context.Context, c *okta.Client, id string) (bool, error) {
	isSuper := func(uid string) (bool, error) {
		roles, err := c.ListUserRolesIn(ctx, okta.LaneResponse, uid)
		if err != nil {
			return false, err
		}
		return slices.ContainsFunc(roles, func(r okta.Role) bool { return r.Type == "SUPER_ADMIN" && r.Status != "INACTIVE" }), nil
	}
	super, err := isSuper(id)
	if err != nil || !super {
		return false, err
	}
	ids, err := c.RoleAssigneeIDs(ctx, okta.LaneResponse)
	if err != nil {
		return false, err
	}
	for _, other := range ids {
		if other == id {
			continue
		}
		u, err := c.GetUserIn(ctx, okta.LaneResponse, other)
		if errors.Is(err, okta.KindNotFound) {
			continue
		}
		if err != nil {
			return false, err
		}
		if u.Status != "ACTIVE" {
			continue
		}
		if ok, err := isSuper(other); err != nil || ok {
			return false, err
		}
	}
	return true, nil
}

// PermissionError is Okta refusing an action for a missing permission or scope.
type PermissionError struct {
	Action Action
	// Permission is the admin role permission ("Edit user's lifecycle states") and PermissionID
	// its API name; Scope the OAuth scope a service app needs.
	Permission, PermissionID, Scope string
	Err                             *okta.APIError
}

// Error names the permission and where to grant it.
func (e *PermissionError) Error() string {
	what := fmt.Sprintf("Okta refused %s %s (%d %s)", e.Err.Method, e.Err.Path, e.Err.Status, orName(e.Err.Code, e.Err.OAuthError))
	if e.Err.Kind == okta.KindScope {
		return fmt.Sprintf("%s: the service app was not granted the scope %s that %s needs. Grant it in Admin Console > Applications > the app > Okta API Scopes; idwatch requests it because the integration has the response feature on.", what, e.Scope, e.Action)
	}
	return fmt.Sprintf("%s: the integration lacks the admin permission %q (%s) that %s needs. Give the API token's admin, or the service app (with scope %s), a custom admin role with %q over a resource set of all users (Admin Console > Security > Administrators > Roles).",
		what, e.Permission, e.PermissionID, e.Action, e.Scope, e.Permission)
}

// Unwrap returns Okta's error.
func (e *PermissionError) Unwrap() error { return e.Err }

// explain words an error for the audit trail, naming the missing permission when Okta refused.
func explain(a Action, err error) string {
	var apiErr *okta.APIError
	if errors.As(err, &apiErr) {
		if apiErr.Kind == okta.KindPermission || apiErr.Kind == okta.KindScope {
			spec := actions[a]
			return (&PermissionError{Action: a, Permission: spec.permission, PermissionID: spec.permissionID, Scope: "okta.users.manage", Err: apiErr}).Error()
		}
		return err.Error() + ". " + apiErr.Fix()
	}
	return err.Error()
}

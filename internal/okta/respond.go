package okta

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
)

// SessionsOptions tunes ClearUserSessions.
type SessionsOptions struct {
	// OAuthTokens also revokes the OIDC and OAuth access and refresh tokens issued to the user.
	OAuthTokens bool
	// ForgetDevices also forgets the user's remembered devices and factors (Okta's default is
	// true; false keeps them).
	ForgetDevices bool
}

// Query is the query string ClearUserSessions sends.
func (o SessionsOptions) Query() url.Values {
	return url.Values{"oauthTokens": {strconv.FormatBool(o.OAuthTokens)}, "forgetDevices": {strconv.FormatBool(o.ForgetDevices)}}
}

// ClearUserSessions revokes every Okta session of the user, with the options spelled out in the
// query so that the request says exactly what it does. It runs in the response lane.
func (c *Client) ClearUserSessions(ctx context.Context, id string, o SessionsOptions) error {
	u, err := c.userPath(id, "/sessions", o.Query())
	if err != nil {
		return err
	}
	_, err = c.do(ctx, &call{method: http.MethodDelete, url: u, lane: LaneResponse, idempotent: true})
	return err
}

// GetMe returns the user an API token acts as (GET /api/v1/users/me). A service app's access
// token carries no user: Okta answers 404.
func (c *Client) GetMe(ctx context.Context) (*User, error) {
	var user User
	raw, err := c.getJSON(ctx, c.org.URL("/api/v1/users/me", nil), LaneResponse, &user)
	if err != nil {
		return nil, err
	}
	user.Raw = raw
	return &user, nil
}

// GetUserIn fetches one user by id or login in the given lane (response actions read their
// target and read it back in the response lane).
func (c *Client) GetUserIn(ctx context.Context, lane Lane, idOrLogin string) (*User, error) {
	u, err := c.userPath(idOrLogin, "", nil)
	if err != nil {
		return nil, err
	}
	var user User
	raw, err := c.getJSON(ctx, u, lane, &user)
	if err != nil {
		return nil, err
	}
	user.Raw = raw
	return &user, nil
}

// ListUserRolesIn lists a user's admin roles in the given lane.
func (c *Client) ListUserRolesIn(ctx context.Context, lane Lane, userID string) ([]Role, error) {
	u, err := c.userPath(userID, "/roles", nil)
	if err != nil {
		return nil, err
	}
	var roles []Role
	if _, err := c.getJSON(ctx, u, lane, &roles); err != nil {
		return nil, err
	}
	return roles, nil
}

// maxAssigneePages bounds a walk of the role assignees listing.
const maxAssigneePages = 1000

// RoleAssigneeIDs lists the ids of the users holding at least one admin role, directly or
// through a group (GET /api/v1/iam/assignees/users, okta.roles.read), following its next links.
func (c *Client) RoleAssigneeIDs(ctx context.Context, lane Lane) ([]string, error) {
	u := c.org.URL("/api/v1/iam/assignees/users", url.Values{"limit": {"100"}})
	var ids []string
	seen := map[string]bool{}
	for range maxAssigneePages {
		var body struct {
			Value []struct {
				ID string `json:"id"`
			} `json:"value"`
			Links struct {
				Next struct {
					Href string `json:"href"`
				} `json:"next"`
			} `json:"_links"`
		}
		if _, err := c.getJSON(ctx, u, lane, &body); err != nil {
			return nil, err
		}
		seen[u.String()] = true
		for _, v := range body.Value {
			if v.ID != "" {
				ids = append(ids, v.ID)
			}
		}
		next := body.Links.Next.Href
		if next == "" {
			return ids, nil
		}
		nu, err := c.org.Resolve(next)
		if err != nil {
			return nil, &NextLinkError{Path: u.Path, Err: err}
		}
		if seen[nu.String()] {
			return ids, nil
		}
		u = nu
	}
	return ids, nil
}

// LogsIn reads one bounded System Log page in the given lane: a response action reads back the
// event its call wrote.
func (c *Client) LogsIn(ctx context.Context, lane Lane, q LogsQuery) (*Page, error) {
	raw, err := c.LogsURL(q)
	if err != nil {
		return nil, err
	}
	u, err := c.org.Resolve(raw)
	if err != nil {
		return nil, err
	}
	return c.getPage(ctx, u, lane)
}

// Exchange is what an observer learns about one finished call: the request without credentials
// and Okta's final answer (Status 0 when no answer came).
type Exchange struct {
	Method, Path, Query string
	Status              int
	// Code is Okta's errorCode (or OAuth error) of a failed call; RequestID the X-Okta-Request-Id.
	Code      string
	RequestID string
}

type observerKey struct{}

// WithObserver returns a context whose Okta calls each report their final exchange to fn, so an
// audit trail can record exactly what was sent and what Okta answered.
func WithObserver(ctx context.Context, fn func(Exchange)) context.Context {
	return context.WithValue(ctx, observerKey{}, fn)
}

func observe(ctx context.Context, cl *call, res *result, err error) {
	fn, _ := ctx.Value(observerKey{}).(func(Exchange))
	if fn == nil || cl.token {
		return
	}
	x := Exchange{Method: cl.method, Path: cl.url.Path, Query: cl.url.RawQuery}
	var apiErr *APIError
	switch {
	case res != nil:
		x.Status, x.RequestID = res.status, res.header.Get("X-Okta-Request-Id")
	case errors.As(err, &apiErr):
		x.Status, x.RequestID, x.Code = apiErr.Status, apiErr.RequestID, apiErr.Code
		if x.Code == "" {
			x.Code = apiErr.OAuthError
		}
	}
	fn(x)
}

// ListUserGroupsIn lists the groups a user belongs to (GET /api/v1/users/{id}/groups).
func (c *Client) ListUserGroupsIn(ctx context.Context, lane Lane, userID string) ([]Group, error) {
	u, err := c.userPath(userID, "/groups", nil)
	if err != nil {
		return nil, err
	}
	var groups []Group
	if _, err := c.getJSON(ctx, u, lane, &groups); err != nil {
		return nil, err
	}
	return groups, nil
}

// EnrolledFactor is an enrolled MFA factor of a user.
type EnrolledFactor struct {
	ID         string `json:"id"`
	FactorType string `json:"factorType"`
	Provider   string `json:"provider"`
	Status     string `json:"status"`
}

// ListUserFactorsIn lists a user's enrolled factors (GET /api/v1/users/{id}/factors).
func (c *Client) ListUserFactorsIn(ctx context.Context, lane Lane, userID string) ([]EnrolledFactor, error) {
	u, err := c.userPath(userID, "/factors", nil)
	if err != nil {
		return nil, err
	}
	var fs []EnrolledFactor
	if _, err := c.getJSON(ctx, u, lane, &fs); err != nil {
		return nil, err
	}
	return fs, nil
}

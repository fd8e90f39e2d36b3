package okta

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// User is an Okta user. Profile holds base and custom attributes flat, as Okta sends them
// (custom attribute names are admin-chosen and case-sensitive). Raw is the object as received.
type User struct {
	ID                    string     `json:"id"`
	Status                string     `json:"status"`
	TransitioningToStatus string     `json:"transitioningToStatus,omitempty"`
	Created               *time.Time `json:"created"`
	Activated             *time.Time `json:"activated"`
	StatusChanged         *time.Time `json:"statusChanged"`
	LastLogin             *time.Time `json:"lastLogin"`
	LastUpdated           *time.Time `json:"lastUpdated"`
	PasswordChanged       *time.Time `json:"passwordChanged"`
	Type                  struct {
		ID string `json:"id"`
	} `json:"type"`
	Profile     map[string]any `json:"profile"`
	Credentials struct {
		Provider struct {
			Type string `json:"type"`
			Name string `json:"name"`
		} `json:"provider"`
	} `json:"credentials"`
	Raw json.RawMessage `json:"-"`
}

// ProfileString returns a profile attribute as a string ("" when absent or not a string).
func (u *User) ProfileString(name string) string {
	s, _ := u.Profile[name].(string)
	return s
}

// Role is an admin role assigned to a user, directly (USER) or through a group (GROUP).
type Role struct {
	ID             string     `json:"id"`
	Label          string     `json:"label"`
	Type           string     `json:"type"`
	Status         string     `json:"status"`
	AssignmentType string     `json:"assignmentType"`
	CustomRole     string     `json:"role,omitempty"`
	ResourceSet    string     `json:"resource-set,omitempty"`
	Created        *time.Time `json:"created"`
	LastUpdated    *time.Time `json:"lastUpdated"`
}

// Group is an Okta group.
type Group struct {
	ID                    string          `json:"id"`
	Type                  string          `json:"type"`
	Created               *time.Time      `json:"created"`
	LastUpdated           *time.Time      `json:"lastUpdated"`
	LastMembershipUpdated *time.Time      `json:"lastMembershipUpdated"`
	ObjectClass           []string        `json:"objectClass"`
	Profile               map[string]any  `json:"profile"`
	Raw                   json.RawMessage `json:"-"`
}

// SchemaProperty is one attribute definition of the user schema.
type SchemaProperty struct {
	Title             string `json:"title"`
	Description       string `json:"description,omitempty"`
	Type              string `json:"type"`
	Mutability        string `json:"mutability,omitempty"`
	Scope             string `json:"scope,omitempty"`
	ExternalName      string `json:"externalName,omitempty"`
	ExternalNamespace string `json:"externalNamespace,omitempty"`
}

// UserSchema is the user profile schema: base attributes and the admin-defined custom ones.
type UserSchema struct {
	ID     string
	Name   string
	Base   map[string]SchemaProperty
	Custom map[string]SchemaProperty
	Raw    json.RawMessage
}

// HasCustom reports whether the schema defines the custom attribute (exact, case-sensitive name).
func (s *UserSchema) HasCustom(name string) bool {
	_, ok := s.Custom[name]
	return ok
}

// UsersQuery selects users. Set at most one of Search and Filter; a plain list (neither) omits
// DEPROVISIONED users, so full inventories use Search (e.g. `status pr`).
type UsersQuery struct {
	Search string
	Filter string
	// Limit is the page size (default 200, Okta's maximum).
	Limit int
}

// GroupsQuery selects groups.
type GroupsQuery struct {
	Search string
	Filter string
	Q      string
	// Limit is the page size (default 200).
	Limit int
}

// userPath builds /api/v1/users/{id}{suffix} with the id escaped as one path segment.
func (c *Client) userPath(id, suffix string, query url.Values) (*url.URL, error) {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/\\?#%") || strings.IndexFunc(id, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return nil, fmt.Errorf("user id %q is not a valid Okta user id or login", truncate(id, 100))
	}
	u := c.org.URL("/api/v1/users/"+id+suffix, query)
	u.RawPath = "/api/v1/users/" + url.PathEscape(id) + suffix
	return u, nil
}

// getJSON runs a GET in lane and decodes the JSON object or array into out.
func (c *Client) getJSON(ctx context.Context, u *url.URL, lane Lane, out any) ([]byte, error) {
	res, err := c.do(ctx, &call{method: http.MethodGet, url: u, lane: lane, idempotent: true})
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(res.body, out); err != nil {
		return nil, &MalformedPageError{Path: u.Path, Bytes: len(res.body), Reason: clean(err.Error(), 200)}
	}
	return res.body, nil
}

// GetUser fetches one user by id or login.
func (c *Client) GetUser(ctx context.Context, idOrLogin string) (*User, error) {
	u, err := c.userPath(idOrLogin, "", nil)
	if err != nil {
		return nil, err
	}
	var user User
	raw, err := c.getJSON(ctx, u, LaneInventory, &user)
	if err != nil {
		return nil, err
	}
	user.Raw = raw
	return &user, nil
}

// ListUsers walks every page of users matching q, calling fn per page.
func (c *Client) ListUsers(ctx context.Context, q UsersQuery, fn func([]User) error) error {
	if q.Search != "" && q.Filter != "" {
		return fmt.Errorf("users query: use search or filter, not both (Okta answers E0000033)")
	}
	v := url.Values{"limit": {strconv.Itoa(defaultLimit(q.Limit, 200))}}
	setIf(v, "search", q.Search)
	setIf(v, "filter", q.Filter)
	return paginateTyped(ctx, c, "/api/v1/users", v, func(u *User, raw json.RawMessage) { u.Raw = raw }, fn)
}

// ListGroups walks every page of groups matching q, calling fn per page.
func (c *Client) ListGroups(ctx context.Context, q GroupsQuery, fn func([]Group) error) error {
	v := url.Values{"limit": {strconv.Itoa(defaultLimit(q.Limit, 200))}}
	setIf(v, "search", q.Search)
	setIf(v, "filter", q.Filter)
	setIf(v, "q", q.Q)
	return paginateTyped(ctx, c, "/api/v1/groups", v, func(g *Group, raw json.RawMessage) { g.Raw = raw }, fn)
}

// paginateTyped decodes every page's items into T before handing them to fn.
func paginateTyped[T any](ctx context.Context, c *Client, path string, v url.Values, keep func(*T, json.RawMessage), fn func([]T) error) error {
	return c.Paginate(ctx, path, v, func(p *Page) error {
		out := make([]T, len(p.Items))
		for i, raw := range p.Items {
			if err := json.Unmarshal(raw, &out[i]); err != nil {
				return &MalformedPageError{Path: path, Bytes: len(raw), Reason: fmt.Sprintf("item %d: %s", i, clean(err.Error(), 200))}
			}
			keep(&out[i], raw)
		}
		return fn(out)
	})
}

// ListUserRoles lists the admin roles assigned to a user (not paginated by Okta).
func (c *Client) ListUserRoles(ctx context.Context, userID string) ([]Role, error) {
	u, err := c.userPath(userID, "/roles", nil)
	if err != nil {
		return nil, err
	}
	var roles []Role
	if _, err := c.getJSON(ctx, u, LaneInventory, &roles); err != nil {
		return nil, err
	}
	return roles, nil
}

// GetUserSchema fetches a user schema ("default" or a user type's schema id).
func (c *Client) GetUserSchema(ctx context.Context, schemaID string) (*UserSchema, error) {
	if schemaID == "" {
		schemaID = "default"
	}
	if strings.ContainsAny(schemaID, "/\\?#% ") {
		return nil, fmt.Errorf("schema id %q is not valid; use \"default\" or a user type schema id", truncate(schemaID, 100))
	}
	var body struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		Definitions struct {
			Base struct {
				Properties map[string]SchemaProperty `json:"properties"`
			} `json:"base"`
			Custom struct {
				Properties map[string]SchemaProperty `json:"properties"`
			} `json:"custom"`
		} `json:"definitions"`
	}
	raw, err := c.getJSON(ctx, c.org.URL("/api/v1/meta/schemas/user/"+schemaID, nil), LaneInventory, &body)
	if err != nil {
		return nil, err
	}
	return &UserSchema{ID: body.ID, Name: body.Name, Base: body.Definitions.Base.Properties, Custom: body.Definitions.Custom.Properties, Raw: raw}, nil
}

// lifecycle runs a POST /api/v1/users/{id}/lifecycle/{action} in the response lane. Lifecycle
// calls are not idempotent, so transient failures are reported rather than retried blindly.
func (c *Client) lifecycle(ctx context.Context, id, action string, query url.Values) ([]byte, error) {
	u, err := c.userPath(id, "/lifecycle/"+action, query)
	if err != nil {
		return nil, err
	}
	res, err := c.do(ctx, &call{method: http.MethodPost, url: u, lane: LaneResponse})
	if err != nil {
		return nil, err
	}
	return res.body, nil
}

// SuspendUser suspends an ACTIVE user (reversible with UnsuspendUser).
func (c *Client) SuspendUser(ctx context.Context, id string) error {
	_, err := c.lifecycle(ctx, id, "suspend", nil)
	return err
}

// UnsuspendUser returns a SUSPENDED user to ACTIVE.
func (c *Client) UnsuspendUser(ctx context.Context, id string) error {
	_, err := c.lifecycle(ctx, id, "unsuspend", nil)
	return err
}

// DeactivateUser deprovisions a user from every app; it cannot be undone by unsuspend.
func (c *Client) DeactivateUser(ctx context.Context, id string, sendEmail bool) error {
	_, err := c.lifecycle(ctx, id, "deactivate", url.Values{"sendEmail": {strconv.FormatBool(sendEmail)}})
	return err
}

// ResetFactors unenrolls every factor of the user.
func (c *Client) ResetFactors(ctx context.Context, id string) error {
	_, err := c.lifecycle(ctx, id, "reset_factors", nil)
	return err
}

// ExpirePassword forces a password change at next sign-in and returns the updated user.
func (c *Client) ExpirePassword(ctx context.Context, id string) (*User, error) {
	body, err := c.lifecycle(ctx, id, "expire_password", nil)
	if err != nil {
		return nil, err
	}
	var user User
	if len(body) > 0 {
		if err := json.Unmarshal(body, &user); err != nil {
			return nil, &MalformedPageError{Path: "/api/v1/users/{id}/lifecycle/expire_password", Bytes: len(body), Reason: clean(err.Error(), 200)}
		}
		user.Raw = body
	}
	return &user, nil
}

// ClearSessions revokes all of the user's Okta sessions and, with revokeOAuthTokens, the OAuth
// access and refresh tokens issued to the user. Repeating it is harmless, so it is retried.
func (c *Client) ClearSessions(ctx context.Context, id string, revokeOAuthTokens bool) error {
	u, err := c.userPath(id, "/sessions", url.Values{"oauthTokens": {strconv.FormatBool(revokeOAuthTokens)}})
	if err != nil {
		return err
	}
	_, err = c.do(ctx, &call{method: http.MethodDelete, url: u, lane: LaneResponse, idempotent: true})
	return err
}

func defaultLimit(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

func setIf(v url.Values, k, val string) {
	if val != "" {
		v.Set(k, val)
	}
}

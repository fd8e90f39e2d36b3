package okta

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Factor is a factor a user enrolled (GET /api/v1/users/{id}/factors).
type Factor struct {
	ID          string     `json:"id"`
	FactorType  string     `json:"factorType"`
	Provider    string     `json:"provider"`
	VendorName  string     `json:"vendorName"`
	Status      string     `json:"status"`
	Created     *time.Time `json:"created"`
	LastUpdated *time.Time `json:"lastUpdated"`
}

// groupPath builds /api/v1/groups/{id}{suffix} with the id checked to be one path segment.
func (c *Client) groupPath(id, suffix string, query url.Values) (*url.URL, error) {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/\\?#% ") {
		return nil, fmt.Errorf("group id %q is not a valid Okta group id", truncate(id, 100))
	}
	return c.org.URL("/api/v1/groups/"+id+suffix, query), nil
}

// GetGroup fetches one group.
func (c *Client) GetGroup(ctx context.Context, id string) (*Group, error) {
	u, err := c.groupPath(id, "", nil)
	if err != nil {
		return nil, err
	}
	var g Group
	raw, err := c.getJSON(ctx, u, LaneInventory, &g)
	if err != nil {
		return nil, err
	}
	g.Raw = raw
	return &g, nil
}

// ListGroupMembers walks the members of a group (GET /api/v1/groups/{id}/users), a page of up
// to limit (default 1000, Okta's maximum) at a time.
func (c *Client) ListGroupMembers(ctx context.Context, groupID string, limit int, fn func([]User) error) error {
	if _, err := c.groupPath(groupID, "/users", nil); err != nil {
		return err
	}
	v := url.Values{"limit": {strconv.Itoa(defaultLimit(limit, 1000))}}
	return paginateTyped(ctx, c, "/api/v1/groups/"+groupID+"/users", v, func(u *User, raw json.RawMessage) { u.Raw = raw }, fn)
}

// ListGroupRoles lists the admin roles assigned to a group (not paginated by Okta).
func (c *Client) ListGroupRoles(ctx context.Context, groupID string) ([]Role, error) {
	u, err := c.groupPath(groupID, "/roles", nil)
	if err != nil {
		return nil, err
	}
	var roles []Role
	if _, err := c.getJSON(ctx, u, LaneInventory, &roles); err != nil {
		return nil, err
	}
	return roles, nil
}

// ListUserFactors lists a user's enrolled factors (not paginated by Okta).
func (c *Client) ListUserFactors(ctx context.Context, userID string) ([]Factor, error) {
	u, err := c.userPath(userID, "/factors", nil)
	if err != nil {
		return nil, err
	}
	var fs []Factor
	if _, err := c.getJSON(ctx, u, LaneInventory, &fs); err != nil {
		return nil, err
	}
	return fs, nil
}

// ListRoleAssigneeUsers walks Okta's listing of the users holding role assignments (GET
// /api/v1/iam/assignees/users), calling fn with each page's user ids. The listing is an object
// whose next page is in _links.next, unlike the Link-header listings.
func (c *Client) ListRoleAssigneeUsers(ctx context.Context, fn func(ids []string) error) error {
	u := c.org.URL("/api/v1/iam/assignees/users", url.Values{"limit": {"100"}})
	seen := map[string]bool{}
	for {
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
		if _, err := c.getJSON(ctx, u, LaneInventory, &body); err != nil {
			return err
		}
		seen[u.String()] = true
		ids := make([]string, 0, len(body.Value))
		for _, v := range body.Value {
			if v.ID != "" {
				ids = append(ids, v.ID)
			}
		}
		if err := fn(ids); err != nil {
			return err
		}
		next := body.Links.Next.Href
		if next == "" {
			return nil
		}
		nu, err := c.org.Resolve(next)
		if err != nil {
			return &NextLinkError{Path: u.Path, Err: err}
		}
		if seen[nu.String()] {
			return nil
		}
		u = nu
	}
}

package oktasim

import (
	"encoding/json"
	"net/url"
	"testing"
)

func TestRoleAssigneesGroupRolesAndTokens(t *testing.T) {
	o := newTestOrg(t, Config{})
	users := testUsers(250)
	for i := range users {
		if i%2 == 0 {
			users[i].AdminRoles = []Role{RoleHelpDeskAdmin}
		}
		users[i].GroupIDs = []string{"00gsupport0000000001"}
	}
	o.srv.SetDirectory([]Group{{ID: "00gsupport0000000001", Name: "Support", Type: "OKTA_GROUP", Roles: []Role{RoleReadOnlyAdmin}}}, nil)
	if err := o.srv.SetUsers(users); err != nil {
		t.Fatal(err)
	}

	// The assignee listing pages through _links.next and names every user with a direct role.
	var ids []string
	next := "/api/v1/iam/assignees/users"
	for pages := 0; next != ""; pages++ {
		rec := o.get(next)
		var body struct {
			Value []struct {
				ID  string `json:"id"`
				ORN string `json:"orn"`
			} `json:"value"`
			Links struct {
				Next struct{ Href string } `json:"next"`
			} `json:"_links"`
		}
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &body) != nil || pages > 5 {
			t.Fatalf("assignees: %d %s", rec.Code, rec.Body)
		}
		for _, v := range body.Value {
			ids = append(ids, v.ID)
			if v.ORN == "" {
				t.Errorf("assignee %s has no orn", v.ID)
			}
		}
		next = ""
		if body.Links.Next.Href != "" {
			u, _ := url.Parse(body.Links.Next.Href)
			next = u.RequestURI()
		}
	}
	if len(ids) != 125 {
		t.Errorf("assignees: %d, want the 125 users with a direct role", len(ids))
	}

	var groupRoles []map[string]any
	if rec := o.get("/api/v1/groups/00gsupport0000000001/roles"); rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &groupRoles) != nil ||
		len(groupRoles) != 1 || groupRoles[0]["assignmentType"] != "GROUP" || groupRoles[0]["type"] != "READ_ONLY_ADMIN" {
		t.Fatalf("group roles: %d %s", rec.Code, rec.Body)
	}
	var userRoles []map[string]any
	if rec := o.get("/api/v1/users/" + users[1].ID + "/roles"); rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &userRoles) != nil ||
		len(userRoles) != 1 || userRoles[0]["assignmentType"] != "GROUP" {
		t.Fatalf("inherited roles of a plain member: %d %s", rec.Code, rec.Body)
	}
	if rec := o.get("/api/v1/groups/00gnope/roles"); rec.Code != 404 {
		t.Errorf("roles of an unknown group: %d", rec.Code)
	}
	if rec := o.get("/api/v1/groups/00gsupport0000000001"); rec.Code != 200 {
		t.Errorf("get group: %d %s", rec.Code, rec.Body)
	}

	var tokens []map[string]any
	if rec := o.get("/api/v1/api-tokens"); rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &tokens) != nil || len(tokens) != 1 ||
		tokens[0]["userId"] != "00uadmin" || tokens[0]["name"] != "test" {
		t.Fatalf("api tokens: %d %s", rec.Code, rec.Body)
	}
}

func TestFlawsAreDeterministicAndClean(t *testing.T) {
	if _, err := ParseFlaws("dormant-admin, nope"); err == nil {
		t.Error("ParseFlaws accepted an unknown flaw")
	}
	if fs, err := ParseFlaws("dormant-admin,missing-ad-link"); err != nil || len(fs) != 2 {
		t.Errorf("ParseFlaws: %v %v", fs, err)
	}
}

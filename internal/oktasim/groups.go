package oktasim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/idwatch/idwatch/internal/event"
)

// Paging limits of the groups and apps APIs.
const (
	groupsMaxLimit     = 10000
	groupUsersMaxLimit = 1000
	appsDefaultLimit   = 20
	appsMaxLimit       = 200
)

// matcherFor parses search or filter (never both, like Okta) into a predicate over an object's
// JSON form; nil means no condition.
func matcherFor(w http.ResponseWriter, r *http.Request) (func(obj any) bool, bool) {
	v := r.URL.Query()
	search, filter := v.Get("search"), v.Get("filter")
	if search != "" && filter != "" {
		writeAPIError(w, errSearchAndFilter())
		return nil, false
	}
	expr := search + filter
	if expr == "" {
		return nil, true
	}
	f, err := ParseFilter(expr)
	if err != nil {
		writeAPIError(w, errInvalidSearch(err.Error()))
		return nil, false
	}
	return func(obj any) bool {
		raw, err := json.Marshal(obj)
		if err != nil {
			return false
		}
		doc, err := event.ParseDoc(raw)
		return err == nil && f.Match(doc)
	}, true
}

// handleListGroups serves GET /api/v1/groups with q (name prefix), search or filter, and paging.
func (s *Server) handleListGroups(w http.ResponseWriter, r *http.Request) {
	match, ok := matcherFor(w, r)
	if !ok {
		return
	}
	base := s.baseURL(r)
	q := strings.ToLower(r.URL.Query().Get("q"))
	s.dir.mu.RLock()
	var result []map[string]any
	for _, g := range s.dir.groups {
		obj := groupJSON(g, base)
		if (q == "" || strings.HasPrefix(strings.ToLower(g.Name), q)) && (match == nil || match(obj)) {
			result = append(result, obj)
		}
	}
	s.dir.mu.RUnlock()
	page, ok := pageOf(w, r, base, result, func(o map[string]any) string { return o["id"].(string) }, groupsMaxLimit, groupsMaxLimit)
	if ok {
		writeJSON(w, http.StatusOK, orEmpty(page))
	}
}

// handleGroupUsers serves GET /api/v1/groups/{id}/users.
func (s *Server) handleGroupUsers(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.dir.mu.RLock()
	found := slices.ContainsFunc(s.dir.groups, func(g Group) bool { return g.ID == id })
	s.dir.mu.RUnlock()
	if !found {
		writeAPIError(w, errNotFound("Group"))
		return
	}
	base := s.baseURL(r)
	var members []userJSON
	s.users.mu.RLock()
	for _, e := range s.users.list {
		if slices.Contains(e.user.GroupIDs, id) {
			members = append(members, e.user.object(base))
		}
	}
	s.users.mu.RUnlock()
	page, ok := pageOf(w, r, base, members, func(u userJSON) string { return u.ID }, groupUsersMaxLimit, groupUsersMaxLimit)
	if ok {
		writeJSON(w, http.StatusOK, orEmpty(page))
	}
}

// appJSON renders an app as Okta's apps API does (the parts a connector reads).
func appJSON(a App, base string) map[string]any {
	self := base + "/api/v1/apps/" + a.ID
	return map[string]any{"id": a.ID, "name": a.Name, "label": a.Label, "status": a.Status,
		"created": oktaTime(a.Created), "lastUpdated": oktaTime(a.LastUpdated), "signOnMode": a.SignOnMode,
		"features": []string{}, "visibility": map[string]any{"autoSubmitToolbar": false, "hide": map[string]any{"iOS": false, "web": false}},
		"_links": map[string]any{"users": map[string]any{"href": self + "/users"}, "groups": map[string]any{"href": self + "/groups"}}}
}

// handleListApps serves GET /api/v1/apps with q (name or label prefix), filter and paging.
func (s *Server) handleListApps(w http.ResponseWriter, r *http.Request) {
	match, ok := matcherFor(w, r)
	if !ok {
		return
	}
	base := s.baseURL(r)
	q := strings.ToLower(r.URL.Query().Get("q"))
	s.dir.mu.RLock()
	var result []map[string]any
	for _, a := range s.dir.apps {
		obj := appJSON(a, base)
		if (q == "" || strings.HasPrefix(strings.ToLower(a.Name), q) || strings.HasPrefix(strings.ToLower(a.Label), q)) && (match == nil || match(obj)) {
			result = append(result, obj)
		}
	}
	s.dir.mu.RUnlock()
	page, ok := pageOf(w, r, base, result, func(o map[string]any) string { return o["id"].(string) }, appsDefaultLimit, appsMaxLimit)
	if ok {
		writeJSON(w, http.StatusOK, orEmpty(page))
	}
}

// orEmpty makes a nil page encode as [] rather than null.
func orEmpty[T any](page []T) []T {
	if page == nil {
		return []T{}
	}
	return page
}

// adSchemaAttrs are the AD link attributes idwatch's docs tell admins to add to the user schema.
var adSchemaAttrs = []string{"ObjectSid", "ObjectGuid", "DistinguishedName"}

// schemaAttributes returns the custom attributes the default user schema declares.
func (c Config) schemaAttributes() []string {
	switch {
	case c.OmitADSchemaAttributes:
		return nil
	case c.SchemaCustomAttributes == nil:
		return slices.Clone(adSchemaAttrs)
	}
	return slices.Clone(c.SchemaCustomAttributes)
}

// validateSchema checks SchemaCustomAttributes against Okta's variable name rules.
func (c Config) validateSchema() error {
	if c.OmitADSchemaAttributes && c.SchemaCustomAttributes != nil {
		return errors.New("omit AD schema attributes and schema custom attributes both set; list the attributes the schema should have and drop the omit option")
	}
	for i, a := range c.SchemaCustomAttributes {
		if !validVariableName(a) {
			return fmt.Errorf("schema custom attribute %q must start with a letter and hold only letters, digits and underscores", a)
		}
		if slices.Contains(baseProfileAttrs, a) {
			return fmt.Errorf("schema custom attribute %q is a base attribute of Okta's user profile; choose another name", a)
		}
		if slices.Contains(c.SchemaCustomAttributes[:i], a) {
			return fmt.Errorf("schema custom attribute %q is listed twice", a)
		}
	}
	return nil
}

func validVariableName(s string) bool {
	for i, r := range s {
		letter := (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !letter && (i == 0 || !(r == '_' || (r >= '0' && r <= '9'))) {
			return false
		}
	}
	return s != ""
}

// handleUserSchema serves GET /api/v1/meta/schemas/user/default: Okta's base attributes and, as
// custom attributes, the configured ones and every other profile attribute the org's users carry.
func (s *Server) handleUserSchema(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("schemaId") != "default" {
		writeAPIError(w, errNotFound("Schema"))
		return
	}
	base := s.baseURL(r)
	prop := func(title string) map[string]any {
		return map[string]any{"title": title, "type": "string", "mutability": "READ_WRITE", "scope": "NONE",
			"permissions": []any{map[string]any{"principal": "SELF", "action": "READ_WRITE"}}, "master": map[string]any{"type": "PROFILE_MASTER"}}
	}
	baseProps := map[string]any{}
	for _, a := range baseProfileAttrs {
		baseProps[a] = prop(a)
	}
	custom := map[string]any{}
	s.users.mu.RLock()
	for a := range s.users.profile {
		if !slices.Contains(baseProfileAttrs, a) {
			p := prop(a)
			if slices.Contains(adSchemaAttrs, a) {
				p["master"] = map[string]any{"type": "OVERRIDE", "priority": []any{map[string]any{"type": "APP", "value": "active_directory"}}}
				p["externalName"] = strings.ToLower(a[:1]) + a[1:]
			}
			custom[a] = p
		}
	}
	s.users.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"id": base + "/meta/schemas/user/default", "$schema": "http://json-schema.org/draft-04/schema#",
		"name": "user", "title": "User", "type": "object", "created": oktaTime(s.created), "lastUpdated": oktaTime(s.created),
		"definitions": map[string]any{
			"base":   map[string]any{"id": "#base", "type": "object", "properties": baseProps, "required": []string{"login", "firstName", "lastName", "email"}},
			"custom": map[string]any{"id": "#custom", "type": "object", "properties": custom, "required": []string{}},
		},
		"properties": map[string]any{"profile": map[string]any{"allOf": []any{
			map[string]any{"$ref": "#/definitions/base"}, map[string]any{"$ref": "#/definitions/custom"}}}},
		"_links": map[string]any{"self": map[string]any{"href": base + "/api/v1/meta/schemas/user/default"}},
	})
}

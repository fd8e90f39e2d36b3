package oktasim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/idwatch/idwatch/internal/event"
)

// User statuses Okta documents.
const (
	StatusActive          = "ACTIVE"
	StatusDeprovisioned   = "DEPROVISIONED"
	StatusLockedOut       = "LOCKED_OUT"
	StatusPasswordExpired = "PASSWORD_EXPIRED"
	StatusProvisioned     = "PROVISIONED"
	StatusRecovery        = "RECOVERY"
	StatusStaged          = "STAGED"
	StatusSuspended       = "SUSPENDED"
)

// User is an Okta user. Profile holds base and custom attributes flat, as Okta does; AD-sourced
// users carry the org's AD link attributes (e.g. ObjectSid, ObjectGuid, DistinguishedName) there.
type User struct {
	ID              string
	Status          string
	Created         time.Time
	Activated       time.Time // zero: null
	StatusChanged   time.Time
	LastLogin       time.Time
	LastUpdated     time.Time
	PasswordChanged time.Time
	TypeID          string
	Profile         map[string]any
	// ProviderType is OKTA, ACTIVE_DIRECTORY, LDAP, FEDERATION or SOCIAL; ProviderName names it.
	ProviderType string
	ProviderName string
	// AdminRoles are the user's standard admin roles (part of the directory, not the User object).
	AdminRoles []Role
	// Permissions are granted by a custom admin role (type CUSTOM) on top of AdminRoles.
	Permissions []Permission
	// GroupIDs are the groups the user belongs to.
	GroupIDs []string
	// Factors are the user's enrolled MFA factors.
	Factors []Factor
}

// oktaTime renders a timestamp the way Okta does, with milliseconds, or null when zero.
type oktaTime time.Time

func (t oktaTime) MarshalJSON() ([]byte, error) {
	if time.Time(t).IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z") + `"`), nil
}

type userJSON struct {
	ID              string         `json:"id"`
	Status          string         `json:"status"`
	Created         oktaTime       `json:"created"`
	Activated       oktaTime       `json:"activated"`
	StatusChanged   oktaTime       `json:"statusChanged"`
	LastLogin       oktaTime       `json:"lastLogin"`
	LastUpdated     oktaTime       `json:"lastUpdated"`
	PasswordChanged oktaTime       `json:"passwordChanged"`
	Type            map[string]any `json:"type"`
	Profile         map[string]any `json:"profile"`
	Credentials     map[string]any `json:"credentials"`
	Links           map[string]any `json:"_links,omitempty"`
}

// object returns the user as Okta's API represents it; base adds _links when not empty.
func (u *User) object(base string) userJSON {
	o := userJSON{ID: u.ID, Status: u.Status, Created: oktaTime(u.Created), Activated: oktaTime(u.Activated),
		StatusChanged: oktaTime(u.StatusChanged), LastLogin: oktaTime(u.LastLogin),
		LastUpdated: oktaTime(u.LastUpdated), PasswordChanged: oktaTime(u.PasswordChanged),
		Type: map[string]any{"id": u.TypeID}, Profile: u.Profile,
		Credentials: map[string]any{"password": map[string]any{},
			"provider": map[string]any{"type": u.ProviderType, "name": u.ProviderName}}}
	if base != "" {
		o.Links = map[string]any{"self": map[string]any{"href": base + "/api/v1/users/" + u.ID}}
	}
	return o
}

// userEntry is a stored user with its document form for search evaluation.
type userEntry struct {
	user User
	doc  event.Doc
}

// userStore holds the org's users in creation order. It is safe for concurrent use.
type userStore struct {
	mu      sync.RWMutex
	list    []*userEntry
	byID    map[string]*userEntry
	profile map[string]bool // profile attribute names known to the schema
}

func newUserStore() *userStore {
	return &userStore{byID: map[string]*userEntry{}, profile: fieldSet(baseProfileAttrs...)}
}

// baseProfileAttrs is Okta's default user profile schema.
var baseProfileAttrs = []string{"login", "email", "firstName", "lastName", "middleName", "honorificPrefix",
	"honorificSuffix", "title", "displayName", "nickName", "profileUrl", "secondEmail", "mobilePhone",
	"primaryPhone", "streetAddress", "city", "state", "zipCode", "countryCode", "postalAddress",
	"preferredLanguage", "locale", "timezone", "userType", "employeeNumber", "costCenter", "organization",
	"division", "department", "managerId", "manager"}

func newUserEntry(u User) (*userEntry, error) {
	if u.Profile == nil {
		u.Profile = map[string]any{}
	}
	raw, err := json.Marshal(u.object(""))
	if err != nil {
		return nil, fmt.Errorf("encode user %s: %w", u.ID, err)
	}
	doc, err := event.ParseDoc(raw)
	if err != nil {
		return nil, err
	}
	return &userEntry{user: u, doc: doc}, nil
}

// SetUsers replaces the org's users; administrators added with AddAdmin stay. Profile attributes
// the users carry beyond Okta's base schema become custom attributes of the schema.
func (s *Server) SetUsers(users []User) error {
	s.adminsMu.Lock()
	defer s.adminsMu.Unlock()
	st := s.users
	users = append(slices.Clip(users), s.admins...)
	list := make([]*userEntry, 0, len(users))
	byID := make(map[string]*userEntry, len(users))
	profile := fieldSet(append(slices.Clone(baseProfileAttrs), s.schema...)...)
	for _, u := range users {
		if u.ID == "" {
			return fmt.Errorf("user %v has no id", u.Profile["login"])
		}
		u = s.prepareUser(u)
		if _, dup := byID[u.ID]; dup {
			return fmt.Errorf("user id %s appears twice", u.ID)
		}
		e, err := newUserEntry(u)
		if err != nil {
			return err
		}
		for k := range u.Profile {
			profile[k] = true
		}
		list = append(list, e)
		byID[u.ID] = e
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.list, st.byID, st.profile = list, byID, profile
	return nil
}

// Users returns a copy of the org's users.
func (s *Server) Users() []User {
	s.users.mu.RLock()
	defer s.users.mu.RUnlock()
	out := make([]User, len(s.users.list))
	for i, e := range s.users.list {
		out[i] = e.user
	}
	return out
}

// Users list limits Okta documents.
const (
	usersDefaultLimit  = 200
	usersMaxLimit      = 200
	usersDefaultQLimit = 10
)

// usersFilterAttrs are the attributes the users API's filter parameter accepts.
var usersFilterAttrs = fieldSet("status", "lastUpdated", "id", "profile.login", "profile.email",
	"profile.firstName", "profile.lastName")

// usersSearchTop are the top-level attributes search accepts besides profile.*.
var usersSearchTop = fieldSet("id", "status", "created", "activated", "statusChanged", "lastUpdated",
	"lastLogin", "passwordChanged", "type.id")

var usersContainsAttrs = fieldSet("profile.firstName", "profile.lastName", "profile.email", "profile.login")

// checkUserSearch applies search's restrictions.
func (st *userStore) checkUserSearch(f *Filter) *APIError {
	var apiErr *APIError
	_ = f.Walk(func(c Comparison) error {
		attr, isProfile := strings.CutPrefix(c.Attr, "profile.")
		switch {
		case isProfile && !st.profile[attr], !isProfile && !usersSearchTop[c.Attr]:
			apiErr = errInvalidSearch("unknown attribute " + c.Attr + " (attribute names are case-sensitive)")
		case c.Op == "ne":
			apiErr = errInvalidSearch("the ne operator is not supported; use lt ... or ... gt")
		case c.Op == "co" && !usersContainsAttrs[c.Attr]:
			apiErr = errInvalidSearch("co is only supported on profile.firstName, profile.lastName, profile.email and profile.login")
		}
		if apiErr != nil {
			return apiErr
		}
		return nil
	})
	return apiErr
}

// checkUserFilter applies filter's narrower restrictions.
func checkUserFilter(f *Filter) *APIError {
	if f.UsesNot() {
		return errInvalidSearch("filter supports only and and or; use search for more")
	}
	var apiErr *APIError
	_ = f.Walk(func(c Comparison) error {
		switch {
		case !usersFilterAttrs[c.Attr]:
			apiErr = errInvalidSearch("filter does not support " + c.Attr + "; use search")
		case c.Op != "eq" && !(c.Attr == "lastUpdated" && slices.Contains([]string{"gt", "ge", "lt", "le"}, c.Op)):
			apiErr = errInvalidSearch("filter supports only eq (and gt, ge, lt, le on lastUpdated); use search")
		}
		if apiErr != nil {
			return apiErr
		}
		return nil
	})
	return apiErr
}

// handleListUsers serves GET /api/v1/users: a plain list, search, filter or q.
func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	st := s.users
	st.mu.RLock()
	defer st.mu.RUnlock()

	search, filter, q := v.Get("search"), v.Get("filter"), v.Get("q")
	if search != "" && filter != "" {
		writeAPIError(w, errSearchAndFilter())
		return
	}
	limit := usersDefaultLimit
	if q != "" {
		limit = usersDefaultQLimit
	}
	if l, ok := v["limit"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(l[0]))
		if err != nil || n < 1 {
			writeAPIError(w, errValidation("limit", fmt.Sprintf("must be a positive integer, got %q", l[0])))
			return
		}
		limit = min(n, usersMaxLimit)
	}
	var match func(e *userEntry) bool
	switch {
	case search != "":
		f, err := ParseFilter(search)
		if err != nil {
			writeAPIError(w, errInvalidSearch("search: "+err.Error()))
			return
		}
		if apiErr := st.checkUserSearch(f); apiErr != nil {
			writeAPIError(w, apiErr)
			return
		}
		match = func(e *userEntry) bool { return f.Match(e.doc) }
	case filter != "":
		f, err := ParseFilter(filter)
		if err != nil {
			writeAPIError(w, errInvalidSearch("filter: "+err.Error()))
			return
		}
		if apiErr := checkUserFilter(f); apiErr != nil {
			writeAPIError(w, apiErr)
			return
		}
		match = func(e *userEntry) bool { return f.Match(e.doc) }
	case q != "":
		prefix := strings.ToLower(q)
		match = func(e *userEntry) bool {
			if e.user.Status == StatusDeprovisioned {
				return false
			}
			for _, k := range []string{"firstName", "lastName", "email"} {
				if s, ok := e.user.Profile[k].(string); ok && strings.HasPrefix(strings.ToLower(s), prefix) {
					return true
				}
			}
			return false
		}
	default:
		match = func(e *userEntry) bool { return e.user.Status != StatusDeprovisioned }
	}
	var result []*userEntry
	for _, e := range st.list {
		if match(e) {
			result = append(result, e)
		}
	}
	if search != "" {
		if apiErr := sortUsers(result, v.Get("sortBy"), v.Get("sortOrder")); apiErr != nil {
			writeAPIError(w, apiErr)
			return
		}
	}
	start := 0
	if after := v.Get("after"); after != "" {
		i := slices.IndexFunc(result, func(e *userEntry) bool { return e.user.ID == after })
		if i < 0 {
			writeAPIError(w, errValidation("after", "the cursor does not name a user in this result; follow the next link verbatim"))
			return
		}
		start = i + 1
	}
	end := min(start+limit, len(result))
	base := s.baseURL(r)
	page := make([]userJSON, 0, end-start)
	for _, e := range result[start:end] {
		page = append(page, e.user.object(base))
	}
	self := base + r.URL.Path
	if r.URL.RawQuery != "" {
		self += "?" + r.URL.RawQuery
	}
	w.Header().Add("Link", "<"+self+`>; rel="self"`)
	if end < len(result) && q == "" { // q results are not paginated
		nv := url.Values{}
		for k, vals := range v {
			nv[k] = vals
		}
		nv.Set("after", result[end-1].user.ID)
		nv.Set("limit", strconv.Itoa(limit))
		w.Header().Add("Link", "<"+base+r.URL.Path+"?"+nv.Encode()+`>; rel="next"`)
	}
	writeJSON(w, http.StatusOK, page)
}

// sortUsers orders a search result by sortBy (an attribute path) and sortOrder (asc or desc).
func sortUsers(users []*userEntry, sortBy, order string) *APIError {
	desc := false
	switch strings.ToLower(order) {
	case "", "asc":
	case "desc":
		desc = true
	default:
		return errValidation("sortOrder", fmt.Sprintf("must be asc or desc, got %q", order))
	}
	if sortBy == "" {
		if desc {
			slices.Reverse(users)
		}
		return nil
	}
	p, err := event.ParsePath(sortBy)
	if err != nil {
		return errValidation("sortBy", err.Error())
	}
	key := func(e *userEntry) string {
		var s string
		e.doc.Each(p, func(v any) bool { s, _ = event.Text(v); return false })
		return strings.ToLower(s)
	}
	sort.SliceStable(users, func(i, j int) bool {
		if desc {
			return key(users[i]) > key(users[j])
		}
		return key(users[i]) < key(users[j])
	})
	return nil
}

package oktasim

import (
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/oktasim/scenario"
)

// ScenarioWorld runs a scenario generator's org: its people as users, its workforce traffic and
// its attack storylines.
type ScenarioWorld struct {
	Gen *scenario.Generator
}

var _ World = ScenarioWorld{}

// NewScenarioWorld creates the generator for cfg.
func NewScenarioWorld(cfg scenario.Config) (ScenarioWorld, error) {
	g, err := scenario.New(cfg)
	if err != nil {
		return ScenarioWorld{}, err
	}
	return ScenarioWorld{Gen: g}, nil
}

// Advance implements Workforce.
func (w ScenarioWorld) Advance(to time.Time, emit func(ev *event.LogEvent)) { w.Gen.Advance(to, emit) }

// Storylines implements StorylineSource.
func (w ScenarioWorld) Storylines() []StorylineInfo {
	var out []StorylineInfo
	for _, s := range scenario.Storylines() {
		out = append(out, StorylineInfo{Name: s.Name, Description: s.Description, Detections: s.Detections})
	}
	return out
}

// Storyline implements StorylineSource.
func (w ScenarioWorld) Storyline(name string, at time.Time) (Story, error) {
	st, err := w.Gen.Storyline(name, at)
	if err != nil {
		return Story{}, err
	}
	return Story{ID: st.ID, Name: st.Name, Detections: st.Detections, Events: st.Events}, nil
}

// Users implements World: each person as Okta's users API shows them.
func (w ScenarioWorld) Users() []User {
	people := w.Gen.People()
	typeID := "oty" + strings.Repeat("0", 3) + orgTypeSuffix(w.Gen.Config().OrgDomain)
	out := make([]User, 0, len(people))
	for _, p := range people {
		out = append(out, userFromPerson(p, typeID))
	}
	return out
}

// orgTypeSuffix derives a stable 14-character user type id suffix from the org's domain.
func orgTypeSuffix(domain string) string {
	var h uint64 = 1469598103934665603
	for i := 0; i < len(domain); i++ {
		h = (h ^ uint64(domain[i])) * 1099511628211
	}
	b := make([]byte, 14)
	for i := range b {
		b[i] = idAlphabet[h%uint64(len(idAlphabet))]
		h /= uint64(len(idAlphabet))
		if h == 0 {
			h = 0x9e3779b97f4a7c15
		}
	}
	return string(b)
}

func userFromPerson(p scenario.Person, typeID string) User {
	prof := map[string]any{"login": p.Login, "email": p.Email, "firstName": p.FirstName, "lastName": p.LastName,
		"displayName": p.FirstName + " " + p.LastName, "department": p.Department, "title": p.Title,
		"employeeNumber": p.EmployeeNumber, "city": p.City, "state": p.State, "zipCode": p.PostalCode,
		"secondEmail": nil, "mobilePhone": nil}
	if p.MobilePhone != "" {
		prof["mobilePhone"] = p.MobilePhone
	}
	if p.ManagerID != "" {
		prof["managerId"] = p.ManagerID
	}
	u := User{ID: p.ID, Status: p.Status, Created: p.Created, Activated: p.Activated, StatusChanged: p.StatusChanged,
		LastLogin: p.LastLogin, PasswordChanged: p.PasswordChanged, TypeID: typeID, Profile: prof,
		ProviderType: "OKTA", ProviderName: "OKTA"}
	if p.ADSourced {
		prof["ObjectSid"] = p.ObjectSid
		prof["ObjectGuid"] = p.ObjectGuid
		prof["DistinguishedName"] = p.DistinguishedName
		u.ProviderType, u.ProviderName = "ACTIVE_DIRECTORY", adDomain(p.DistinguishedName)
	}
	for _, t := range []time.Time{p.Created, p.Activated, p.StatusChanged, p.PasswordChanged} {
		if t.After(u.LastUpdated) {
			u.LastUpdated = t
		}
	}
	for _, r := range p.AdminRoles {
		u.AdminRoles = append(u.AdminRoles, Role(r))
	}
	return u
}

// adDomain turns a distinguished name's DC components into the AD domain name.
func adDomain(dn string) string {
	var parts []string
	for _, rdn := range strings.Split(dn, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(rdn), "DC="); ok {
			parts = append(parts, v)
		}
	}
	if len(parts) == 0 {
		return "ACTIVE_DIRECTORY"
	}
	return strings.Join(parts, ".")
}

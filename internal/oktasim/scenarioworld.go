package oktasim

import (
	"slices"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/oktasim/scenario"
)

// ScenarioWorld runs a scenario generator's org: its people as users, its workforce traffic and
// its attack storylines.
type ScenarioWorld struct {
	Gen *scenario.Generator
	// Flaws, when not nil, are the posture weaknesses the directory carries (FlawsForSeed derives
	// them from the seed); an empty, non-nil list gives a clean org. nil keeps the generator's
	// directory exactly as generated.
	Flaws []Flaw
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
	if w.Flaws != nil {
		applyUserFlaws(out, w.Flaws, w.Gen.Config().Start)
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
	prof := p.Profile()
	prof["secondEmail"] = nil // Okta lists unset base attributes as null
	if p.MobilePhone == "" {
		prof["mobilePhone"] = nil
	}
	u := User{ID: p.ID, Status: p.Status, Created: p.Created, Activated: p.Activated, StatusChanged: p.StatusChanged,
		LastLogin: p.LastLogin, PasswordChanged: p.PasswordChanged, TypeID: typeID, Profile: prof}
	u.ProviderType, u.ProviderName = p.Provider()
	for _, t := range []time.Time{p.Created, p.Activated, p.StatusChanged, p.PasswordChanged} {
		if t.After(u.LastUpdated) {
			u.LastUpdated = t
		}
	}
	for _, r := range p.AdminRoles {
		u.AdminRoles = append(u.AdminRoles, Role(r))
	}
	u.GroupIDs = slices.Clone(p.Groups)
	for _, f := range p.Factors {
		u.Factors = append(u.Factors, Factor{ID: f.ID, FactorType: f.FactorType, Provider: f.Provider,
			VendorName: f.Provider, Status: "ACTIVE", Created: f.Enrolled, LastUpdated: f.Enrolled})
	}
	return u
}

// Groups implements Directory. The generator's org exists from its start; groups date from then.
func (w ScenarioWorld) Groups() []Group {
	since := w.Gen.Config().Start.Add(-365 * 24 * time.Hour)
	var out []Group
	for _, g := range w.Gen.Groups() {
		out = append(out, Group{ID: g.ID, Name: g.Name, Description: g.Description, Type: g.Type,
			Created: since, LastUpdated: since, LastMembershipUpdated: w.Gen.Config().Start})
	}
	if w.Flaws != nil {
		applyGroupFlaws(out, w.Users(), w.Flaws)
	}
	return out
}

// Apps implements Directory: the end-user apps and the OAuth service apps.
func (w ScenarioWorld) Apps() []App {
	since := w.Gen.Config().Start.Add(-365 * 24 * time.Hour)
	var out []App
	for _, a := range append(w.Gen.Apps(), w.Gen.ServiceApps()...) {
		out = append(out, App{ID: a.ID, Name: a.Name, Label: a.Label, SignOnMode: a.SignOnMode, Status: "ACTIVE",
			Created: since, LastUpdated: since})
	}
	return out
}

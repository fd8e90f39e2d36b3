package scenario

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// MaxUsers bounds the workforce. The generator plans a UTC day at a time and holds about a day and
// a half of events (about 1.5 KB each, some 30 per person and day): 10,000 users take ~400 MB.
const MaxUsers = 20000

// Config describes the simulated org. Zero values of the optional fields take the defaults listed
// on each field (see withDefaults).
type Config struct {
	Seed      int64     // determines everything: same Seed and Config, same people and events
	Users     int       // workforce size at Start; required, 1..MaxUsers
	OrgDomain string    // e-mail domain of the workforce, e.g. "acme.example"; required
	Start     time.Time // the simulation's clock origin: Advance emits events after Start; required

	WorkdayStartHour int     // local hour most people start work; default 8
	WorkdayHours     int     // length of a working day in hours; default 9
	RemoteShare      float64 // share of people living outside the HQ timezone; default 0.35
	ADShare          float64 // share of people sourced from Active Directory; default 0.6
	AdminShare       float64 // share of people holding an admin role; default 0.03 (at least 2 admins)
	TravelShare      float64 // share of working people travelling on a given day; default 0.01
	WeekendShare     float64 // chance a person works on a weekend day; default 0.06
	FatFingerShare   float64 // chance a sign-in starts with a mistyped password; default 0.04
}

// withDefaults returns cfg with unset optional fields filled in.
func (c Config) withDefaults() Config {
	if c.WorkdayStartHour == 0 {
		c.WorkdayStartHour = 8
	}
	if c.WorkdayHours == 0 {
		c.WorkdayHours = 9
	}
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.RemoteShare, 0.35)
	def(&c.ADShare, 0.6)
	def(&c.AdminShare, 0.03)
	def(&c.TravelShare, 0.01)
	def(&c.WeekendShare, 0.06)
	def(&c.FatFingerShare, 0.04)
	return c
}

// Validate reports the first problem with cfg (after defaults), naming the field to fix.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.Users < 1 || c.Users > MaxUsers {
		errs = append(errs, fmt.Errorf("scenario: Users must be between 1 and %d, got %d", MaxUsers, c.Users))
	}
	if err := validDomain(c.OrgDomain); err != nil {
		errs = append(errs, err)
	}
	if c.Start.IsZero() {
		errs = append(errs, errors.New("scenario: Start must be set (the time the simulation begins)"))
	}
	if c.WorkdayStartHour < 0 || c.WorkdayStartHour > 23 {
		errs = append(errs, fmt.Errorf("scenario: WorkdayStartHour must be 0..23, got %d", c.WorkdayStartHour))
	}
	if c.WorkdayHours < 1 || c.WorkdayHours > 16 {
		errs = append(errs, fmt.Errorf("scenario: WorkdayHours must be 1..16, got %d", c.WorkdayHours))
	}
	shares := []struct {
		name string
		v    float64
	}{
		{"RemoteShare", c.RemoteShare}, {"ADShare", c.ADShare}, {"AdminShare", c.AdminShare},
		{"TravelShare", c.TravelShare}, {"WeekendShare", c.WeekendShare}, {"FatFingerShare", c.FatFingerShare},
	}
	for _, s := range shares {
		if !(s.v >= 0 && s.v <= 1) {
			errs = append(errs, fmt.Errorf("scenario: %s must be a share between 0 and 1, got %v", s.name, s.v))
		}
	}
	if c.FatFingerShare > 0.2 {
		errs = append(errs, fmt.Errorf("scenario: FatFingerShare above 0.2 makes benign traffic look like an attack, got %v", c.FatFingerShare))
	}
	return errors.Join(errs...)
}

func validDomain(d string) error {
	if d == "" {
		return errors.New("scenario: OrgDomain must be set, e.g. \"acme.example\"")
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 || len(d) > 253 {
		return fmt.Errorf("scenario: OrgDomain %q is not a domain name like \"acme.example\"", d)
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("scenario: OrgDomain %q has an invalid label %q", d, l)
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c >= 'A' && c <= 'Z') {
				return fmt.Errorf("scenario: OrgDomain %q contains %q; use letters, digits and hyphens", d, c)
			}
		}
	}
	return nil
}

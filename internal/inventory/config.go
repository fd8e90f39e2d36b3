// Package inventory keeps an identity inventory per Okta integration: users of every status with
// the AD link, groups and memberships, admin role assignments, factors of admins, API tokens and
// the connector's own account. A full sync runs on a schedule; between syncs the Updater applies
// System Log events from the journal by re-fetching only what they touched.
package inventory

import (
	"errors"
	"fmt"
	"time"

	"github.com/idwatch/idwatch/internal/posture"
)

// ADAttributes names the custom user profile attributes that carry the AD link. Okta variable
// names are admin-chosen and case-sensitive.
type ADAttributes struct {
	Sid  string `yaml:"sid" json:"sid"`
	GUID string `yaml:"guid" json:"guid"`
	DN   string `yaml:"dn" json:"dn"`
}

// Config is the `inventory:` section of the configuration.
type Config struct {
	// Interval is the time between full syncs (default 24h, at least 1h).
	Interval time.Duration `yaml:"interval" json:"interval"`
	// ADAttributes default to ObjectSid, ObjectGuid and DistinguishedName.
	ADAttributes ADAttributes `yaml:"ad_attributes" json:"adAttributes"`
	// GroupAdminFactorsMax bounds the members of a role-holding group whose factors are fetched
	// on a sync (default 200); larger groups are a posture finding of their own.
	GroupAdminFactorsMax int `yaml:"group_admin_factors_max" json:"groupAdminFactorsMax"`
	// Posture tunes the posture findings computed after each sync and update.
	Posture posture.Config `yaml:"posture" json:"posture"`
}

// WithDefaults fills unset fields.
func (c Config) WithDefaults() Config {
	if c.Interval == 0 {
		c.Interval = 24 * time.Hour
	}
	if c.ADAttributes.Sid == "" {
		c.ADAttributes.Sid = "ObjectSid"
	}
	if c.ADAttributes.GUID == "" {
		c.ADAttributes.GUID = "ObjectGuid"
	}
	if c.ADAttributes.DN == "" {
		c.ADAttributes.DN = "DistinguishedName"
	}
	if c.GroupAdminFactorsMax == 0 {
		c.GroupAdminFactorsMax = 200
	}
	c.Posture = c.Posture.WithDefaults()
	return c
}

// Validate reports every problem with c (after defaults), each naming the field to fix.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	if c.Interval < time.Hour {
		errs = append(errs, fmt.Errorf("inventory.interval must be at least 1h (a full sync reads every user and group), got %s", c.Interval))
	}
	for name, v := range map[string]string{"sid": c.ADAttributes.Sid, "guid": c.ADAttributes.GUID, "dn": c.ADAttributes.DN} {
		if !validVariableName(v) {
			errs = append(errs, fmt.Errorf("inventory.ad_attributes.%s %q is not an Okta variable name (a letter, then letters, digits or underscores)", name, v))
		}
	}
	if c.GroupAdminFactorsMax < 0 {
		errs = append(errs, fmt.Errorf("inventory.group_admin_factors_max must not be negative, got %d", c.GroupAdminFactorsMax))
	}
	if err := c.Posture.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("inventory.posture: %w", err))
	}
	return errors.Join(errs...)
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

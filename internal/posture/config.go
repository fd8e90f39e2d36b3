// Package posture finds identity posture problems in an inventory snapshot: dormant privileged
// accounts, admins without phishing-resistant MFA, too many Super Admins, roles granted to large
// groups, API tokens of inactive users, users missing the AD link, and an over-privileged
// connector. It is pure logic: no I/O.
package posture

import (
	"errors"
	"fmt"
)

// ADLinkScope says which users are expected to carry the AD link.
const (
	// ExpectADSourced: users mastered by Active Directory (credentials.provider.type).
	ExpectADSourced = "ad-sourced"
	// ExpectAll: every user that is not deprovisioned.
	ExpectAll = "all"
	// ExpectNone: the check is off.
	ExpectNone = "none"
)

// Config holds the thresholds of the findings.
type Config struct {
	// DormantDays: a privileged account unused this long is dormant (default 30).
	DormantDays int `yaml:"dormant_days" json:"dormantDays"`
	// MaxSuperAdmins: more active Super Admins than this is a finding (default 4).
	MaxSuperAdmins int `yaml:"max_super_admins" json:"maxSuperAdmins"`
	// LargeGroupMembers: an admin role granted to a group with more members is a finding
	// (default 25).
	LargeGroupMembers int `yaml:"large_group_members" json:"largeGroupMembers"`
	// ExpectADLink is ad-sourced (default), all or none.
	ExpectADLink string `yaml:"expect_ad_link" json:"expectADLink"`
}

// WithDefaults fills unset fields.
func (c Config) WithDefaults() Config {
	if c.DormantDays == 0 {
		c.DormantDays = 30
	}
	if c.MaxSuperAdmins == 0 {
		c.MaxSuperAdmins = 4
	}
	if c.LargeGroupMembers == 0 {
		c.LargeGroupMembers = 25
	}
	if c.ExpectADLink == "" {
		c.ExpectADLink = ExpectADSourced
	}
	return c
}

// Validate reports every problem with c (after defaults).
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	if c.DormantDays < 1 {
		errs = append(errs, fmt.Errorf("dormant_days must be at least 1, got %d", c.DormantDays))
	}
	if c.MaxSuperAdmins < 1 {
		errs = append(errs, fmt.Errorf("max_super_admins must be at least 1 (keep one break-glass Super Admin), got %d", c.MaxSuperAdmins))
	}
	if c.LargeGroupMembers < 1 {
		errs = append(errs, fmt.Errorf("large_group_members must be at least 1, got %d", c.LargeGroupMembers))
	}
	switch c.ExpectADLink {
	case ExpectADSourced, ExpectAll, ExpectNone:
	default:
		errs = append(errs, fmt.Errorf("expect_ad_link must be %s, %s or %s, got %q", ExpectADSourced, ExpectAll, ExpectNone, c.ExpectADLink))
	}
	return errors.Join(errs...)
}

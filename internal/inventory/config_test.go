package inventory

import (
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/posture"
)

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if c := (Config{}).WithDefaults(); c.Interval != 24*time.Hour || c.ADAttributes.Sid != "ObjectSid" || c.Posture.DormantDays != 30 {
		t.Errorf("defaults: %+v", c)
	}
	for _, c := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"interval too short", Config{Interval: time.Minute}, "inventory.interval must be at least 1h"},
		{"bad attribute name", Config{ADAttributes: ADAttributes{Sid: "object-sid"}}, `inventory.ad_attributes.sid "object-sid"`},
		{"negative factor bound", Config{GroupAdminFactorsMax: -1}, "group_admin_factors_max must not be negative"},
		{"bad AD expectation", Config{Posture: posture.Config{ExpectADLink: "some"}}, "expect_ad_link must be"},
		{"no super admin allowed", Config{Posture: posture.Config{MaxSuperAdmins: -1}}, "max_super_admins must be at least 1"},
		{"negative dormancy", Config{Posture: posture.Config{DormantDays: -3}}, "dormant_days must be at least 1"},
	} {
		err := c.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}

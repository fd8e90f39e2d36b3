package respond

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).Validate(); err != nil {
		t.Fatalf("zero config: %v", err)
	}
	good := Config{Actions: []string{"suspend", "clear_sessions"}, MaxRuleMode: "propose", DefaultRuleMode: "off",
		ProtectedUsers: []string{"00u1", "ceo@acme.com"}, ProtectedGroups: []string{"Executives"}, MaxAlertAge: 30 * time.Minute}
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"unknown action", Config{Actions: []string{"delete"}}, `unknown action "delete"`},
		{"bad max mode", Config{MaxRuleMode: "yolo"}, "max_rule_mode"},
		{"bad default mode", Config{DefaultRuleMode: "sometimes"}, "default_rule_mode"},
		{"auto default", Config{DefaultRuleMode: "auto"}, "without review"},
		{"bad protected user", Config{ProtectedUsers: []string{"a b"}}, "protected_users"},
		{"empty protected group", Config{ProtectedGroups: []string{" "}}, "protected_groups"},
		{"short alert age", Config{MaxAlertAge: time.Second}, "max_alert_age"},
	} {
		if err := tc.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestRuleModeCeiling(t *testing.T) {
	for _, tc := range []struct {
		cfg        Config
		rule, want string
	}{
		{Config{}, "", ModeOff},
		{Config{}, ModeAuto, ModeAuto},
		{Config{DefaultRuleMode: ModePropose}, "", ModePropose},
		{Config{MaxRuleMode: ModePropose}, ModeAuto, ModePropose},
		{Config{MaxRuleMode: ModeOff}, ModePropose, ModeOff},
	} {
		if got := tc.cfg.ruleMode(tc.rule); got != tc.want {
			t.Errorf("%+v rule %q: %s, want %s", tc.cfg, tc.rule, got, tc.want)
		}
	}
}

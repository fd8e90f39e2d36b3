package respond

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Config is the `respond:` section of the configuration file.
type Config struct {
	// Actions lists the actions idwatch may take (default: all). An action not listed is refused
	// whoever asks for it.
	Actions []string `yaml:"actions"`
	// MaxRuleMode caps what a rule's response may do: off (rules never act), propose (rules only
	// propose; an analyst approves) or auto (default: each rule's own mode applies).
	MaxRuleMode string `yaml:"max_rule_mode"`
	// DefaultRuleMode is the mode of a rule whose response names actions but no mode (default
	// off).
	DefaultRuleMode string `yaml:"default_rule_mode"`
	// ProtectedUsers are users (Okta id or login) no action may touch.
	ProtectedUsers []string `yaml:"protected_users"`
	// ProtectedGroups are groups (Okta id or name) whose members no action may touch.
	ProtectedGroups []string `yaml:"protected_groups"`
	// RevokeOAuthTokens and ForgetDevices are clear_sessions' defaults when the request does
	// not say (defaults false and true, as Okta's).
	RevokeOAuthTokens bool  `yaml:"revoke_oauth_tokens"`
	ForgetDevices     *bool `yaml:"forget_devices"`
	// MaxAlertAge is how old an alert may be for a rule in auto mode to act on it; an older one
	// (a backfill, a replay) is proposed instead (default 1h).
	MaxAlertAge time.Duration `yaml:"max_alert_age"`
}

// Modes of a rule's response.
const (
	ModeOff     = "off"
	ModePropose = "propose"
	ModeAuto    = "auto"
	// ModeManual marks actions asked for by a person (CLI or API).
	ModeManual = "manual"
)

var ruleModes = []string{ModeOff, ModePropose, ModeAuto}

// DefaultMaxAlertAge is MaxAlertAge when unset.
const DefaultMaxAlertAge = time.Hour

// Validate checks the section and names the fix for each problem.
func (c Config) Validate() error {
	var errs []error
	for _, a := range c.Actions {
		if _, ok := actions[Action(a)]; !ok {
			errs = append(errs, fmt.Errorf("actions: unknown action %q; the actions are %s", a, strings.Join(ActionNames(), ", ")))
		}
	}
	if c.MaxRuleMode != "" && !slices.Contains(ruleModes, c.MaxRuleMode) {
		errs = append(errs, fmt.Errorf("max_rule_mode %q: use off, propose or auto", c.MaxRuleMode))
	}
	if c.DefaultRuleMode != "" && !slices.Contains(ruleModes, c.DefaultRuleMode) {
		errs = append(errs, fmt.Errorf("default_rule_mode %q: use off, propose or auto", c.DefaultRuleMode))
	}
	if c.DefaultRuleMode == ModeAuto {
		errs = append(errs, errors.New("default_rule_mode auto would let every rule that names actions act without review; set mode: auto in the rules that should, and leave the default off or propose"))
	}
	for _, u := range c.ProtectedUsers {
		if strings.TrimSpace(u) == "" || strings.ContainsAny(u, "/\\?#% ") {
			errs = append(errs, fmt.Errorf("protected_users: %q is not an Okta user id or login", u))
		}
	}
	for _, g := range c.ProtectedGroups {
		if strings.TrimSpace(g) == "" {
			errs = append(errs, errors.New("protected_groups: an entry is empty; give a group id (00g…) or name"))
		}
	}
	if c.MaxAlertAge < 0 || (c.MaxAlertAge > 0 && c.MaxAlertAge < time.Minute) {
		errs = append(errs, fmt.Errorf("max_alert_age %s is under a minute; alerts reach response within a processing cycle, so use at least 1m (unset: 1h)", c.MaxAlertAge))
	}
	return errors.Join(errs...)
}

// enabled reports whether a is allowed by the configuration.
func (c Config) enabled(a Action) bool {
	return len(c.Actions) == 0 || slices.Contains(c.Actions, string(a))
}

// ruleMode is the mode a rule's response runs in under this configuration.
func (c Config) ruleMode(mode string) string {
	if mode == "" {
		mode = c.DefaultRuleMode
	}
	if mode == "" {
		mode = ModeOff
	}
	limit := c.MaxRuleMode
	if limit == "" {
		limit = ModeAuto
	}
	if slices.Index(ruleModes, mode) > slices.Index(ruleModes, limit) {
		return limit
	}
	return mode
}

func (c Config) maxAlertAge() time.Duration {
	if c.MaxAlertAge == 0 {
		return DefaultMaxAlertAge
	}
	return c.MaxAlertAge
}

func (c Config) forgetDevices() bool { return c.ForgetDevices == nil || *c.ForgetDevices }

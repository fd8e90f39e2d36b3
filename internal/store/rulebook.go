package store

import (
	"context"
	"time"
)

// RuleSetting is a rule's enabled state as an operator set it.
type RuleSetting struct {
	RuleID    string    `json:"ruleId"`
	Enabled   bool      `json:"enabled"`
	ChangedBy string    `json:"changedBy"`
	ChangedAt time.Time `json:"changedAt"`
}

// CustomRule is a Sigma rule file uploaded through the API, with its tests.
type CustomRule struct {
	// Filename names the file (unique); RuleIDs are the ids of the rules it holds.
	Filename   string    `json:"filename"`
	RuleIDs    []string  `json:"ruleIds"`
	Body       []byte    `json:"-"`
	Tests      []byte    `json:"-"`
	UploadedBy string    `json:"uploadedBy"`
	UploadedAt time.Time `json:"uploadedAt"`
}

// Rulebook keeps which rules are disabled and the uploaded custom rules. Every change bumps the
// version, which the processor polls between batches to load the change.
type Rulebook interface {
	// RulebookVersion is bumped by every change below.
	RulebookVersion(ctx context.Context) (int64, error)
	// RuleSettings returns every rule whose state was set, by rule id.
	RuleSettings(ctx context.Context) (map[string]RuleSetting, error)
	// SetRuleEnabled records a rule's state.
	SetRuleEnabled(ctx context.Context, s RuleSetting) error
	// CustomRules returns the uploaded rule files, by file name.
	CustomRules(ctx context.Context) ([]CustomRule, error)
	// PutCustomRule stores a rule file, replacing one of the same name.
	PutCustomRule(ctx context.Context, r CustomRule) error
	// DeleteCustomRule removes a rule file and the settings of its rules (ErrNotFound when
	// unknown).
	DeleteCustomRule(ctx context.Context, filename string) error
}

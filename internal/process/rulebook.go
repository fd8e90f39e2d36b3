package process

import (
	"context"
	"fmt"

	"github.com/idwatch/idwatch/internal/detect"
	"github.com/idwatch/idwatch/internal/store"
)

// CustomPrefix marks the names of rule files uploaded through the API (the store's rulebook).
const CustomPrefix = "custom:"

// Rulebook reads the operator's rule settings: the uploaded rule files, ready to compile with
// the others, and the ids of the rules that are disabled.
func Rulebook(ctx context.Context, st store.Rulebook) (files []detect.RuleFile, disabled map[string]bool, version int64, err error) {
	if version, err = st.RulebookVersion(ctx); err != nil {
		return nil, nil, 0, err
	}
	custom, err := st.CustomRules(ctx)
	if err != nil {
		return nil, nil, 0, err
	}
	for _, c := range custom {
		files = append(files, detect.RuleFile{Name: CustomPrefix + c.Filename, Data: c.Body})
	}
	settings, err := st.RuleSettings(ctx)
	if err != nil {
		return nil, nil, 0, err
	}
	disabled = map[string]bool{}
	for id, s := range settings {
		if !s.Enabled {
			disabled[id] = true
		}
	}
	return files, disabled, version, nil
}

// loadRules compiles the built-in rules, the rules folder's and the uploaded ones, and takes the
// rulebook's disabled rules.
func (p *Processor) loadRules(ctx context.Context) error {
	files, disabled, version, err := Rulebook(ctx, p.cfg.Store)
	if err != nil {
		return fmt.Errorf("processor: read the rulebook: %w", err)
	}
	rs, warnings, err := LoadRulesWith(RuleOptions{Dir: p.cfg.RulesDir, SkipBad: p.cfg.SkipBadRules, Placeholders: p.cfg.Placeholders, Extra: files})
	if err != nil {
		return err
	}
	logWarnings(p.log, warnings)
	probe, err := detect.New(rs, p.engineConfig(nil))
	if err != nil {
		return err
	}
	p.rs, p.warnings, p.span = rs, warnings, probe.ReplaySpan()
	p.disabled, p.rulebook = disabled, version
	return nil
}

// syncRulebook reloads the rules when the rulebook changed (a rule enabled, disabled, uploaded
// or removed). The engines are rebuilt from the stored state and the replay span, as after a
// failed commit, so correlation windows carry over.
func (p *Processor) syncRulebook(ctx context.Context) error {
	v, err := p.cfg.Store.RulebookVersion(ctx)
	if err != nil || v == p.rulebook {
		return err
	}
	if err := p.loadRules(ctx); err != nil {
		p.rulebook = v // a rule set that does not load is not retried until the next change
		return err
	}
	p.ready = false
	p.log.Info("processor: rules reloaded", "rulebook_version", v, "rules", len(p.rs.Rules()), "disabled", len(p.disabled))
	return nil
}

// enabledAlerts drops the alerts of disabled rules. A disabled rule still runs (a correlation
// may build on it); its alerts are not stored.
func (p *Processor) enabledAlerts(as []store.Alert) []store.Alert {
	if len(p.disabled) == 0 {
		return as
	}
	out := as[:0]
	for _, a := range as {
		if !p.disabled[a.RuleID] {
			out = append(out, a)
		}
	}
	return out
}

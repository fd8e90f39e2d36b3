package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"regexp"
	"strings"

	"github.com/idwatch/idwatch/internal/detect"
	"github.com/idwatch/idwatch/internal/detect/sigma"
	"github.com/idwatch/idwatch/internal/process"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/rules"
)

// ruleRoutes are the rulebook: every rule with its state and alert count, enable and disable,
// custom Sigma rules uploaded (validated and tested first), downloaded and removed.
func (s *Server) ruleRoutes() []Route {
	return []Route{
		{Method: "GET", Pattern: "/api/v1/rules", Role: store.RoleViewer, OperationID: "listRules", Handler: s.listRules},
		{Method: "POST", Pattern: "/api/v1/rules", Role: store.RoleAdmin, OperationID: "uploadRule", Handler: s.uploadRule},
		{Method: "GET", Pattern: "/api/v1/rules/{id}", Role: store.RoleViewer, OperationID: "downloadRule", Handler: s.downloadRule},
		{Method: "POST", Pattern: "/api/v1/rules/{id}/enable", Role: store.RoleAdmin, OperationID: "enableRule", Handler: s.setRule(true)},
		{Method: "POST", Pattern: "/api/v1/rules/{id}/disable", Role: store.RoleAdmin, OperationID: "disableRule", Handler: s.setRule(false)},
		{Method: "DELETE", Pattern: "/api/v1/rules/{id}", Role: store.RoleAdmin, OperationID: "deleteCustomRule", Handler: s.deleteCustomRule},
	}
}

// Where a rule comes from.
const (
	RuleBuiltin = "builtin"
	RuleFolder  = "folder"
	RuleCustom  = "custom"
)

// RuleView is one rule of the rulebook.
type RuleView struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Level  string `json:"level"`
	Status string `json:"status,omitempty"`
	// Source is builtin, folder (process.rules_dir) or custom (uploaded); File its file.
	Source  string `json:"source"`
	File    string `json:"file"`
	Enabled bool   `json:"enabled"`
	// Alerts counts the stored alerts of the rule.
	Alerts int64 `json:"alerts"`
	// Tags are the rule's Sigma tags (attack.credential-access, attack.t1110.003, …).
	Tags []string `json:"tags"`
	// Correlation is set for correlation rules.
	Correlation bool `json:"correlation"`
}

// RuleUploadInput is the body of POST /api/v1/rules.
type RuleUploadInput struct {
	// Filename names the file (letters, digits, '.', '_', '-'; ending .yml or .yaml); uploading
	// the same name again replaces it.
	Filename string `json:"filename"`
	// Rule is the Sigma rule file (YAML; several documents for correlations).
	Rule string `json:"rule"`
	// Tests is its test file in the format of the built-in rules' <name>.tests.yml; without it
	// the rule is stored untested.
	Tests string `json:"tests,omitempty"`
}

// RuleProblem is a validation error in an upload, at its line and column.
type RuleProblem struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

// RuleTestResult is one of an upload's tests.
type RuleTestResult struct {
	Name    string `json:"name"`
	Passed  bool   `json:"passed"`
	Message string `json:"message,omitempty"`
}

// RuleUploadResult is the answer to an upload: stored only without problems and with every test
// passing.
type RuleUploadResult struct {
	Filename string           `json:"filename"`
	Stored   bool             `json:"stored"`
	RuleIDs  []string         `json:"ruleIds"`
	Problems []RuleProblem    `json:"problems"`
	Tests    []RuleTestResult `json:"tests"`
	// Untested is set when the upload came without tests.
	Untested bool `json:"untested,omitempty"`
}

// ruleset compiles the rules as the processor does (built-in, the rules folder, the rulebook's
// uploads) with the upload named skip replaced by extra.
func (s *Server) ruleset(ctx context.Context, skip string, extra ...detect.RuleFile) (*detect.Ruleset, error) {
	uploads, _, _, err := process.Rulebook(ctx, s.st)
	if err != nil {
		return nil, err
	}
	o := s.rules
	o.SkipBad = true
	for _, f := range uploads {
		if f.Name != process.CustomPrefix+skip {
			o.Extra = append(o.Extra, f)
		}
	}
	o.Extra = append(o.Extra, extra...)
	rs, _, err := process.LoadRulesWith(o)
	return rs, err
}

// ruleFile reads the file a rule was compiled from, by the name the processor gave it.
func (s *Server) ruleFile(ctx context.Context, file string) ([]byte, error) {
	if name, ok := strings.CutPrefix(file, "builtin:"); ok {
		return fs.ReadFile(rules.FS, name)
	}
	if name, ok := strings.CutPrefix(file, process.CustomPrefix); ok {
		uploads, err := s.st.CustomRules(ctx)
		if err != nil {
			return nil, err
		}
		for _, c := range uploads {
			if c.Filename == name {
				return c.Body, nil
			}
		}
		return nil, fs.ErrNotExist
	}
	return os.ReadFile(file) // the rules folder's files are named by their path
}

func ruleSource(file string) string {
	switch {
	case strings.HasPrefix(file, "builtin:"):
		return RuleBuiltin
	case strings.HasPrefix(file, process.CustomPrefix):
		return RuleCustom
	}
	return RuleFolder
}

func (s *Server) listRules(w http.ResponseWriter, r *http.Request) error {
	rs, err := s.ruleset(r.Context(), "")
	if err != nil {
		return Fail(http.StatusServiceUnavailable, CodeUnavailable, "the rules do not load: "+err.Error(), "fix the rule file named, or check it with idwatch rules lint DIR", "")
	}
	settings, err := s.st.RuleSettings(r.Context())
	if err != nil {
		return err
	}
	counts := map[string]int64{}
	if cs, err := s.st.CountAlerts(r.Context()); err == nil {
		for _, c := range cs {
			counts[c.RuleID] += c.Count
		}
	}
	out := []RuleView{}
	for _, rule := range rs.Rules() {
		if !rs.Alerting(rule) {
			continue
		}
		id := rule.Key()
		v := RuleView{ID: id, Title: rule.Title, Level: rule.Level, Status: rule.Status, Source: ruleSource(rule.File), File: rule.File,
			Enabled: true, Alerts: counts[id], Tags: nonNil(rule.Tags), Correlation: rule.Correlation != nil}
		if st, ok := settings[id]; ok {
			v.Enabled = st.Enabled
		}
		out = append(out, v)
	}
	WriteJSON(w, http.StatusOK, map[string]any{"rules": out})
	return nil
}

// findRule returns the alerting rule with the {id} path value, or a 404.
func (s *Server) findRule(r *http.Request) (*sigma.Rule, error) {
	rs, err := s.ruleset(r.Context(), "")
	if err != nil {
		return nil, Fail(http.StatusServiceUnavailable, CodeUnavailable, "the rules do not load: "+err.Error(), "fix the rule file named", "")
	}
	id := r.PathValue("id")
	for _, rule := range rs.Rules() {
		if rule.Key() == id && rs.Alerting(rule) {
			return rule, nil
		}
	}
	return nil, Fail(http.StatusNotFound, CodeNotFound, fmt.Sprintf("no rule %q", id), "GET /api/v1/rules lists them", "id")
}

func (s *Server) downloadRule(w http.ResponseWriter, r *http.Request) error {
	rule, err := s.findRule(r)
	if err != nil {
		return err
	}
	data, err := s.ruleFile(r.Context(), rule.File)
	if errors.Is(err, fs.ErrNotExist) {
		return Fail(http.StatusNotFound, CodeNotFound, fmt.Sprintf("the file of rule %q is gone", rule.Key()), "GET /api/v1/rules lists the rules as they are now", "id")
	}
	if err != nil {
		return err
	}
	name := path.Base(strings.TrimPrefix(strings.TrimPrefix(rule.File, "builtin:"), process.CustomPrefix))
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
	return nil
}

func (s *Server) setRule(enabled bool) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		rule, err := s.findRule(r)
		if err != nil {
			return err
		}
		p, _ := PrincipalFrom(r.Context())
		if err := s.st.SetRuleEnabled(r.Context(), store.RuleSetting{RuleID: rule.Key(), Enabled: enabled, ChangedBy: p.Name}); err != nil {
			return err
		}
		s.log.Info("rule changed", "rule", rule.Key(), "enabled", enabled, "by", p.Name)
		WriteJSON(w, http.StatusOK, map[string]any{"id": rule.Key(), "enabled": enabled})
		return nil
	}
}

// filenameRe is what an uploaded file may be called.
var filenameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.ya?ml$`)

func (s *Server) uploadRule(w http.ResponseWriter, r *http.Request) error {
	var in RuleUploadInput
	if err := DecodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.UploadRule(r.Context(), in)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if !res.Stored {
		status = http.StatusUnprocessableEntity
	}
	WriteJSON(w, status, res)
	return nil
}

// UploadRule validates an uploaded rule file against the whole rulebook, runs its tests, and
// stores it as the signed-in key when both pass.
func (s *Server) UploadRule(ctx context.Context, in RuleUploadInput) (RuleUploadResult, error) {
	if !filenameRe.MatchString(in.Filename) || strings.HasSuffix(in.Filename, ".tests.yml") || strings.HasSuffix(in.Filename, ".tests.yaml") {
		return RuleUploadResult{}, Fail(http.StatusBadRequest, CodeInvalidField, fmt.Sprintf("file name %q is not allowed", in.Filename),
			"name it like okta_my_rule.yml: letters, digits, '.', '_' and '-', ending .yml or .yaml (not .tests.yml)", "filename")
	}
	if strings.TrimSpace(in.Rule) == "" {
		return RuleUploadResult{}, Fail(http.StatusBadRequest, CodeInvalidField, "the rule is empty", "send the Sigma rule's YAML in rule", "rule")
	}
	name := process.CustomPrefix + in.Filename
	res := RuleUploadResult{Filename: in.Filename, RuleIDs: []string{}, Problems: []RuleProblem{}, Tests: []RuleTestResult{}}
	rs, err := s.ruleset(ctx, in.Filename, detect.RuleFile{Name: name, Data: []byte(in.Rule)})
	if err != nil {
		// Something outside the upload does not load (a built-in clash is reported as such).
		res.Problems = append(res.Problems, RuleProblem{Message: err.Error()})
		return res, nil
	}
	for _, e := range rs.Skipped() {
		var se *sigma.Error
		if errors.As(e, &se) && se.File == name {
			res.Problems = append(res.Problems, RuleProblem{Line: se.Line, Column: se.Col, Message: se.Msg})
		}
	}
	for _, rule := range rs.Rules() {
		if rule.File == name {
			res.RuleIDs = append(res.RuleIDs, rule.Key())
		}
	}
	if len(res.Problems) == 0 && len(res.RuleIDs) == 0 {
		res.Problems = append(res.Problems, RuleProblem{Line: 1, Column: 1, Message: "the file holds no rule"})
	}
	if len(res.Problems) > 0 {
		return res, nil
	}
	if strings.TrimSpace(in.Tests) == "" {
		res.Untested = true
	} else {
		passed := true
		for _, t := range detect.RunFileTests(rs, name, []byte(in.Tests)) {
			res.Tests = append(res.Tests, RuleTestResult{Name: t.Test, Passed: t.Pass, Message: t.Message})
			passed = passed && t.Pass
		}
		if !passed {
			return res, nil
		}
	}
	p, _ := PrincipalFrom(ctx)
	if err := s.st.PutCustomRule(ctx, store.CustomRule{Filename: in.Filename, RuleIDs: res.RuleIDs, Body: []byte(in.Rule), Tests: []byte(in.Tests), UploadedBy: p.Name}); err != nil {
		return res, err
	}
	res.Stored = true
	s.log.Info("custom rule uploaded", "file", in.Filename, "rules", res.RuleIDs, "tested", !res.Untested, "by", p.Name)
	return res, nil
}

// deleteCustomRule removes the uploaded file that holds the rule (with every rule in it).
func (s *Server) deleteCustomRule(w http.ResponseWriter, r *http.Request) error {
	rule, err := s.findRule(r)
	if err != nil {
		return err
	}
	name, ok := strings.CutPrefix(rule.File, process.CustomPrefix)
	if !ok {
		return Fail(http.StatusConflict, CodeConflict, fmt.Sprintf("rule %q is a %s rule, not an uploaded one", rule.Key(), ruleSource(rule.File)),
			"disable it instead (POST /api/v1/rules/{id}/disable)", "id")
	}
	if err := s.st.DeleteCustomRule(r.Context(), name); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return Fail(http.StatusNotFound, CodeNotFound, fmt.Sprintf("no uploaded rule file %q", name), "GET /api/v1/rules lists the rules", "id")
		}
		return err
	}
	p, _ := PrincipalFrom(r.Context())
	s.log.Info("custom rule removed", "file", name, "by", p.Name)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

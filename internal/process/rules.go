package process

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/idwatch/idwatch/internal/detect"
	"github.com/idwatch/idwatch/internal/detect/sigma"
	"github.com/idwatch/idwatch/rules"
)

// builtinPrefix marks the built-in rules' file names in errors and warnings.
const builtinPrefix = "builtin:"

// LoadRules compiles the built-in rules together with the rule files under userDir (none when
// userDir is ""), so user correlations may reference built-in rules. A user file that fails to
// load is an error naming its file and line, unless skipBad is set: then every failing user file
// is left out and reported in the returned warnings. Built-in rules must always load.
func LoadRules(userDir string, skipBad bool) (*detect.Ruleset, []string, error) {
	return LoadRulesWith(RuleOptions{Dir: userDir, SkipBad: skipBad})
}

// RuleOptions say which rules the processor loads and how.
type RuleOptions struct {
	// Dir is an optional directory of user rules; its placeholders.yml is read too.
	Dir string
	// SkipBad leaves out user rule files that fail to load, reported as warnings.
	SkipBad bool
	// Placeholders are asked first for placeholder values (e.g. the configuration's
	// placeholders section), before the rules folder's placeholders.yml.
	Placeholders sigma.Placeholders
	// Extra are further rule files (the rulebook's uploads), compiled after the folder's.
	Extra []detect.RuleFile
}

// LoadRulesWith is LoadRules with placeholders.
func LoadRulesWith(o RuleOptions) (*detect.Ruleset, []string, error) {
	files, err := detect.LoadFS(rules.FS, ".")
	if err != nil {
		return nil, nil, err
	}
	for i := range files {
		files[i].Name = builtinPrefix + files[i].Name
	}
	ph := sigma.PlaceholderChain{o.Placeholders}
	help := "define it under placeholders: in the configuration file"
	if o.Dir != "" {
		st, err := os.Stat(o.Dir)
		if err != nil {
			return nil, nil, fmt.Errorf("rules directory: %w; create it or fix the rules directory setting", err)
		}
		if !st.IsDir() {
			return nil, nil, fmt.Errorf("rules directory %s is not a directory", o.Dir)
		}
		dirFS := os.DirFS(o.Dir)
		user, err := detect.LoadFS(dirFS, ".")
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", o.Dir, err)
		}
		for _, f := range user {
			f.Name = filepath.Join(o.Dir, filepath.FromSlash(f.Name))
			files = append(files, f)
		}
		folder, err := detect.LoadPlaceholdersFS(dirFS, ".")
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", o.Dir, err)
		}
		ph = append(ph, folder)
		help += ", or in " + filepath.Join(o.Dir, sigma.PlaceholderFile)
	}
	files = append(files, o.Extra...)
	rs, err := detect.CompileWith(files, detect.Options{SkipBad: o.SkipBad, Sigma: sigma.Options{Placeholders: ph, PlaceholderHelp: help}})
	if err != nil {
		return nil, nil, fmt.Errorf("rules do not load (fix them, or let the processor skip bad rule files):\n%w", err)
	}
	var warnings []string
	for _, e := range rs.Skipped() {
		if strings.HasPrefix(e.File, builtinPrefix) {
			return nil, nil, fmt.Errorf("built-in rules do not load (a user rule may clash with one):\n%w", rs.Skipped())
		}
		warnings = append(warnings, "rule skipped: "+e.Error())
	}
	return rs, warnings, nil
}

// logWarnings logs each warning at error level, so a skipped rule cannot go unnoticed.
func logWarnings(log *slog.Logger, warnings []string) {
	for _, w := range warnings {
		log.Error("processor: "+w, "effect", "this rule does not run until it is fixed")
	}
}

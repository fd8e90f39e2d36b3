package process

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
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
	files, err := detect.LoadFS(rules.FS, ".")
	if err != nil {
		return nil, nil, err
	}
	for i := range files {
		files[i].Name = builtinPrefix + files[i].Name
	}
	if userDir != "" {
		st, err := os.Stat(userDir)
		if err != nil {
			return nil, nil, fmt.Errorf("rules directory: %w; create it or fix the rules directory setting", err)
		}
		if !st.IsDir() {
			return nil, nil, fmt.Errorf("rules directory %s is not a directory", userDir)
		}
		user, err := detect.LoadFS(os.DirFS(userDir), ".")
		if err != nil {
			return nil, nil, err
		}
		for _, f := range user {
			f.Name = filepath.Join(userDir, filepath.FromSlash(f.Name))
			files = append(files, f)
		}
	}
	var warnings []string
	for {
		rs, err := detect.Compile(files)
		if err == nil {
			return rs, warnings, nil
		}
		bad := badFiles(err)
		if !skipBad || len(bad) == 0 {
			return nil, warnings, fmt.Errorf("rules do not load (fix them, or set the processor to skip bad rule files):\n%w", err)
		}
		for name := range bad {
			if strings.HasPrefix(name, builtinPrefix) {
				return nil, warnings, fmt.Errorf("built-in rules do not load (a user rule may clash with one):\n%w", err)
			}
		}
		for _, e := range errList(err) {
			warnings = append(warnings, "rule skipped: "+e.Error())
		}
		files = slices.DeleteFunc(files, func(f detect.RuleFile) bool { return bad[f.Name] })
	}
}

// errList returns the located errors in err (or one unlocated error).
func errList(err error) sigma.ErrorList {
	var el sigma.ErrorList
	if errors.As(err, &el) {
		return el
	}
	return sigma.ErrorList{{Msg: err.Error()}}
}

// badFiles names the files err blames.
func badFiles(err error) map[string]bool {
	out := map[string]bool{}
	for _, e := range errList(err) {
		if e.File != "" {
			out[e.File] = true
		}
	}
	return out
}

// logWarnings logs each warning at error level, so a skipped rule cannot go unnoticed.
func logWarnings(log *slog.Logger, warnings []string) {
	for _, w := range warnings {
		log.Error("processor: "+w, "effect", "this rule does not run until it is fixed")
	}
}

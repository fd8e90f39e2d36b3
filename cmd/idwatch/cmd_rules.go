package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/idwatch/idwatch/internal/detect"
	"github.com/idwatch/idwatch/internal/detect/sigma"
	"github.com/idwatch/idwatch/rules"
)

// exitError reports a failure whose details were already printed.
type exitError struct {
	msg  string
	code int
}

// Error returns the message (empty when the details were printed already).
func (e exitError) Error() string { return e.msg }

// ExitCode is the process exit status.
func (e exitError) ExitCode() int { return e.code }

func runRules(ctx context.Context, io stdio, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: want a subcommand: test [DIR] | lint FILE|DIR... | list", errUsage)
	}
	switch args[0] {
	case "test":
		return runRulesTest(io, args[1:])
	case "lint":
		return runRulesLint(io, args[1:])
	case "list":
		return runRulesList(io, args[1:])
	}
	return fmt.Errorf("%w: unknown subcommand %q (test, lint, list)", errUsage, args[0])
}

// ruleSource returns the rules directory to read: DIR on disk, or the built-ins.
func ruleSource(dir string) (fs.FS, string) {
	if dir == "" {
		return rules.FS, "."
	}
	return os.DirFS(dir), "."
}

// loadRuleset compiles the rules of dir (the built-ins when dir is "") with the placeholders of
// first and then of the folder's placeholders.yml. A rule file that does not load is reported
// on stderr with its file, line and reason and left out, so the other rules run; with strict it
// fails the command instead.
func loadRuleset(io stdio, dir string, strict bool, first sigma.Placeholders) (*detect.Ruleset, error) {
	fsys, root := ruleSource(dir)
	files, err := detect.LoadFS(fsys, root)
	if err != nil {
		return nil, err
	}
	folder, err := detect.LoadPlaceholdersFS(fsys, root)
	if err != nil {
		return nil, err
	}
	help := "define it in " + filepath.Join(dir, sigma.PlaceholderFile)
	if first != nil {
		help = "define it under placeholders: in the configuration file, or in " + filepath.Join(dir, sigma.PlaceholderFile)
	}
	for i := range files {
		files[i].Name = filepath.Join(dir, filepath.FromSlash(files[i].Name))
	}
	opts := detect.Options{SkipBad: !strict, Sigma: sigma.Options{Placeholders: sigma.PlaceholderChain{first, folder}, PlaceholderHelp: help}}
	rs, err := detect.CompileWith(files, opts)
	if err != nil {
		printRuleErrors(io, err)
		return nil, exitError{"rules do not load (--strict)", 1}
	}
	if sk := rs.Skipped(); len(sk) > 0 {
		printRuleErrors(io, sk)
		fmt.Fprintf(io.err, "%d problem(s): the rule files named above are left out, the other %d rules run (--strict makes this fatal)\n", len(sk), len(rs.Rules()))
	}
	return rs, nil
}

func runRulesTest(io stdio, args []string) error {
	fset := newFlagSet(io, "rules test", "rules test [-v] [DIR]")
	verbose := fset.Bool("v", false, "print passing tests too")
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	if fset.NArg() > 1 {
		return fmt.Errorf("%w: at most one directory", errUsage)
	}
	fsys, root := ruleSource(fset.Arg(0))
	res, err := detect.RunTests(fsys, root)
	if err != nil {
		printRuleErrors(io, err)
		return exitError{"rules do not compile", 1}
	}
	detect.SortResults(res)
	pass, fail := 0, 0
	for _, r := range res {
		name := r.RuleFile
		if r.Test != "" {
			name += ": " + r.Test
		}
		if r.Pass {
			pass++
			if *verbose {
				fmt.Fprintf(io.out, "PASS %s\n", name)
			}
			continue
		}
		fail++
		fmt.Fprintf(io.out, "FAIL %s: %s\n", name, r.Message)
	}
	fmt.Fprintf(io.out, "%d passed, %d failed\n", pass, fail)
	if fail > 0 {
		return exitError{"", 1}
	}
	return nil
}

func printRuleErrors(io stdio, err error) {
	var el sigma.ErrorList
	if errors.As(err, &el) {
		for _, e := range el {
			fmt.Fprintln(io.err, e.Error())
		}
		return
	}
	fmt.Fprintln(io.err, err.Error())
}

func runRulesLint(io stdio, args []string) error {
	fset := newFlagSet(io, "rules lint", "rules lint FILE|DIR...")
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	if fset.NArg() == 0 {
		return fmt.Errorf("%w: give rule files or folders (with all files a correlation references)", errUsage)
	}
	var files []detect.RuleFile
	var tests []detect.RuleFile
	var ph sigma.PlaceholderChain
	bad := false
	for _, name := range fset.Args() {
		st, err := os.Stat(name)
		if err != nil {
			return exitError{fmt.Sprintf("read %s: %v", name, err), 1}
		}
		if st.IsDir() {
			rf, tf, m, err := lintFolder(name)
			if err != nil {
				fmt.Fprintln(io.err, err.Error())
				bad = true
				continue
			}
			files, tests, ph = append(files, rf...), append(tests, tf...), append(ph, m)
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			return exitError{fmt.Sprintf("read %s: %v", name, err), 1}
		}
		name = filepath.ToSlash(name)
		switch {
		case detect.IsTestFile(name):
			tests = append(tests, detect.RuleFile{Name: name, Data: b})
		case filepath.Base(name) == sigma.PlaceholderFile:
			m, err := sigma.ParsePlaceholders(name, b)
			if err != nil {
				printRuleErrors(io, err)
				bad = true
				continue
			}
			ph = append(ph, m)
		default:
			files = append(files, detect.RuleFile{Name: name, Data: b})
		}
	}
	for _, t := range tests {
		if err := detect.LintTestFile(t.Name, t.Data); err != nil {
			fmt.Fprintln(io.err, err.Error())
			bad = true
		}
	}
	rules := 0
	if len(files) > 0 {
		// Every problem of every file is reported, not only the first file's.
		rs, err := detect.CompileWith(files, detect.Options{SkipBad: true, Sigma: sigma.Options{Placeholders: ph,
			PlaceholderHelp: "define it in " + sigma.PlaceholderFile + " in the rules folder (give that file or the folder to lint)"}})
		if err != nil {
			printRuleErrors(io, err)
			return exitError{"", 1}
		}
		if sk := rs.Skipped(); len(sk) > 0 {
			printRuleErrors(io, sk)
			bad = true
		}
		rules = len(rs.Rules())
	}
	if bad {
		return exitError{"", 1}
	}
	fmt.Fprintf(io.out, "%d rule files (%d rules), %d test files: ok\n", len(files), rules, len(tests))
	return nil
}

// lintFolder reads the rule files, rule-test files and placeholders of a rules folder.
func lintFolder(dir string) (ruleFiles, testFiles []detect.RuleFile, ph sigma.PlaceholderMap, err error) {
	fsys := os.DirFS(dir)
	if ruleFiles, err = detect.LoadFS(fsys, "."); err != nil {
		return nil, nil, nil, err
	}
	for i := range ruleFiles {
		ruleFiles[i].Name = filepath.ToSlash(filepath.Join(dir, ruleFiles[i].Name))
	}
	if ph, err = detect.LoadPlaceholdersFS(fsys, "."); err != nil {
		return nil, nil, nil, err
	}
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !detect.IsTestFile(p) {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		testFiles = append(testFiles, detect.RuleFile{Name: filepath.ToSlash(filepath.Join(dir, p)), Data: b})
		return err
	})
	return ruleFiles, testFiles, ph, err
}

// ruleInfo is one line of "rules list".
type ruleInfo struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Level  string `json:"level"`
	Type   string `json:"type"`
	File   string `json:"file"`
	Alerts bool   `json:"alerts"`
}

func runRulesList(io stdio, args []string) error {
	fset := newFlagSet(io, "rules list", "rules list [--json] [--rules DIR] [--all]")
	asJSON := fset.Bool("json", false, "JSON lines")
	dir := fset.String("rules", "", "rules directory (default: the built-in rules)")
	all := fset.Bool("all", false, "also list the rules that only feed correlations")
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	rs, err := loadRuleset(io, *dir, false, nil)
	if err != nil {
		return err
	}
	var list []ruleInfo
	for _, r := range rs.Rules() {
		alerts := rs.Alerting(r)
		if !alerts && !*all {
			continue
		}
		typ := "detection"
		if r.Correlation != nil {
			typ = r.Correlation.Type
		}
		list = append(list, ruleInfo{ID: r.Key(), Title: r.Title, Level: r.Level, Type: typ, File: r.File, Alerts: alerts})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].File < list[j].File })
	for _, l := range list {
		if *asJSON {
			b, _ := json.Marshal(l)
			fmt.Fprintln(io.out, string(b))
			continue
		}
		fmt.Fprintf(io.out, "%-36s  %-13s  %-16s  %s\n", l.ID, l.Level, l.Type, l.Title)
	}
	if !*asJSON {
		fmt.Fprintf(io.out, "%d rules\n", len(list))
	}
	return nil
}

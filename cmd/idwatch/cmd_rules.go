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
		return fmt.Errorf("%w: want a subcommand: test [DIR] | lint FILE... | list", errUsage)
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
	fset := newFlagSet(io, "rules lint", "rules lint FILE...")
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	if fset.NArg() == 0 {
		return fmt.Errorf("%w: give one or more rule files (all files a correlation references)", errUsage)
	}
	var files []detect.RuleFile
	bad := false
	tests := 0
	for _, name := range fset.Args() {
		b, err := os.ReadFile(name)
		if err != nil {
			return exitError{fmt.Sprintf("read %s: %v", name, err), 1}
		}
		name = filepath.ToSlash(name)
		if detect.IsTestFile(name) {
			tests++
			if err := detect.LintTestFile(name, b); err != nil {
				fmt.Fprintln(io.err, err.Error())
				bad = true
			}
			continue
		}
		files = append(files, detect.RuleFile{Name: name, Data: b})
	}
	rules := 0
	if len(files) > 0 {
		rs, err := detect.Compile(files)
		if err != nil {
			printRuleErrors(io, err)
			return exitError{"", 1}
		}
		rules = len(rs.Rules())
	}
	if bad {
		return exitError{"", 1}
	}
	fmt.Fprintf(io.out, "%d rule files (%d rules), %d test files: ok\n", len(files), rules, tests)
	return nil
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
	fsys, root := ruleSource(*dir)
	files, err := detect.LoadFS(fsys, root)
	if err != nil {
		return err
	}
	rs, err := detect.Compile(files)
	if err != nil {
		printRuleErrors(io, err)
		return exitError{"", 1}
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

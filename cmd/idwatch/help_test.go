package main

import (
	"strings"
	"testing"
)

// TestEveryCommandHelp walks the command table and every subcommand: -h, --help and 'idwatch help
// …' exit 0 and print the usage line and flags on stderr, and nothing on stdout.
func TestEveryCommandHelp(t *testing.T) {
	t.Setenv(envDataDir, t.TempDir())
	subs := subcommands()
	for _, c := range commands() {
		paths := [][]string{{c.name}}
		for _, s := range subs[c.name] {
			paths = append(paths, []string{c.name, s.name})
		}
		for _, p := range paths {
			name := strings.Join(p, " ")
			for _, form := range [][]string{append(p[:len(p):len(p)], "-h"), append(p[:len(p):len(p)], "--help"), append([]string{"help"}, p...)} {
				code, out, errOut := runCLI(t, "", form...)
				if code != 0 || out != "" {
					t.Errorf("idwatch %s: exit %d, stdout %q (want 0 and usage on stderr only)", strings.Join(form, " "), code, out)
					continue
				}
				if !strings.HasPrefix(errOut, "Usage: idwatch "+name) {
					t.Errorf("idwatch %s: stderr does not start with the usage line %q:\n%s", strings.Join(form, " "), "Usage: idwatch "+name, errOut)
				}
				if _, grouped := subs[c.name]; grouped && len(p) == 1 {
					for _, s := range subs[c.name] {
						if !strings.Contains(errOut, "\n  "+s.name+" ") {
							t.Errorf("idwatch %s: subcommand %s not listed:\n%s", strings.Join(form, " "), s.name, errOut)
						}
					}
				} else if !strings.Contains(errOut, "\nFlags:\n") {
					t.Errorf("idwatch %s: no flags listed:\n%s", strings.Join(form, " "), errOut)
				}
			}
		}
	}
}

// TestSubcommandTableMatchesDispatchers checks that each grouped command's own error for an
// unknown subcommand names every subcommand in the help table, so the table and the dispatchers
// agree.
func TestSubcommandTableMatchesDispatchers(t *testing.T) {
	for name, subs := range subcommands() {
		code, _, errOut := runCLI(t, "", name, "no-such-subcommand")
		if code != 2 {
			t.Errorf("idwatch %s no-such-subcommand: exit %d, want 2", name, code)
		}
		for _, s := range subs {
			if !strings.Contains(errOut, s.name) {
				t.Errorf("idwatch %s no-such-subcommand: %q does not name subcommand %s", name, errOut, s.name)
			}
		}
	}
}

// TestTopLevelHelp checks 'idwatch help', -h and --help list every command, and that help for an
// unknown command fails.
func TestTopLevelHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		code, _, errOut := runCLI(t, "", args...)
		if code != 0 {
			t.Fatalf("idwatch %v: exit %d", args, code)
		}
		for _, c := range commands() {
			if !strings.Contains(errOut, "\n  "+c.name+" ") {
				t.Errorf("idwatch %v does not list %s", args, c.name)
			}
		}
	}
	if code, _, errOut := runCLI(t, "", "help", "no-such-command"); code != 2 || !strings.Contains(errOut, `unknown command "no-such-command"`) {
		t.Fatalf("help for an unknown command: exit %d, %q", code, errOut)
	}
}

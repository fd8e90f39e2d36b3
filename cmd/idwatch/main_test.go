package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// runCLI runs the CLI in-process and returns exit code, stdout and stderr.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	io := stdio{in: strings.NewReader(stdin), out: &out, err: &errb,
		log: slog.New(slog.NewTextHandler(&errb, nil))}
	code := run(context.Background(), io, args)
	return code, out.String(), errb.String()
}

func TestVersionAndUsage(t *testing.T) {
	code, out, _ := runCLI(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "idwatch ") {
		t.Fatalf("version: code %d out %q", code, out)
	}
	code, _, errOut := runCLI(t, "", "no-such-command")
	if code != 2 || !strings.Contains(errOut, `unknown command "no-such-command"`) {
		t.Fatalf("unknown command: code %d stderr %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "", "version", "--bogus")
	if code != 2 || !strings.Contains(errOut, "flag provided but not defined") {
		t.Fatalf("bad flag: code %d stderr %q", code, errOut)
	}
}

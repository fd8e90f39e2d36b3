// Command idwatch collects, normalizes, detects on and shares the Okta System Log.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/idwatch/idwatch/internal/collect"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// stdio carries what a command reads and writes, so tests can run commands in-process.
type stdio struct {
	in       io.Reader
	out, err io.Writer
	log      *slog.Logger
	// dial, when set, opens the connections to Okta (tests map an org's name to oktasim; nil in
	// production: the system resolver and dialer).
	dial collect.DialFunc
}

// command is one subcommand of the CLI.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, io stdio, args []string) error
}

// commands is the CLI's table of subcommands; each lives in its own cmd_*.go file.
func commands() []command {
	return []command{
		{"version", "print the version", runVersion},
		{"sinks", "sink types and configured sinks with lag", runSinks},
		{"deadletter", "list or replay records sinks gave up on", runDeadLetter},
		{"integrations", "add, list, show, update, remove, enable or disable Okta integrations", runIntegrations},
		{"hooks", "register, list or remove an integration's Okta event hook (push delivery)", runHooks},
		{"masterkey", "rotate the master key that seals stored credentials", runMasterKey},
		{"serve", "run collection, processing and sinks together from a configuration file", runServe},
		{"collect", "poll the System Log of every enabled integration into the journal", runCollect},
		{"verify", "check an integration's prerequisites and name the fix for each failure", runVerify},
		{"backfill", "load up to 90 days of past System Log without moving the live cursor", runBackfill},
		{"events", "export collected events as JSON lines, or search them", runEvents},
		{"normalize", "normalize Okta events (JSON lines on stdin) to OCSF records", runNormalize},
		{"sim", "run oktasim, an emulated Okta org with history and live traffic", runSim},
		{"demo", "run two emulated Okta orgs and idwatch with its API and web console; print the console URL, a login key and each alert", runDemo},
		{"bench", "measure collection, processing, delivery, disk and memory on an emulated org", runBench},
		{"rules", "test, lint and list detection rules", runRules},
		{"replay", "run rules over exported events; alerts as JSON lines", runReplay},
		{"alerts", "list, show and triage alerts (Detection Findings)", runAlerts},
		{"incidents", "list, show and triage incidents (alerts grouped by identity)", runIncidents},
		{"apikeys", "create, list and revoke the keys of the REST API and the web console", runAPIKeys},
		{"respond", "suspend, clear sessions, reset factors… in Okta with guard rails; approve proposed actions", runRespond},
		{"inventory", "sync and show the identity inventory: users, AD link, admin roles, factors", runInventory},
		{"posture", "identity posture findings from the inventory, each with why and how to fix", runPosture},
	}
}

// errUsage marks an error caused by bad arguments; main exits 2 for it.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	io := stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr,
		log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel()}))}
	os.Exit(run(ctx, io, os.Args[1:]))
}

// run dispatches args to a subcommand and returns the process exit code.
func run(ctx context.Context, io stdio, args []string) int {
	args = helpArgs(args)
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(io.err)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		if subs, ok := subcommands()[c.name]; ok && len(args) > 1 && isHelpArg(args[1]) {
			groupUsage(io.err, c, subs)
			return 0
		}
		err := c.run(ctx, io, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			fmt.Fprintf(io.err, "idwatch %s: %v\n", c.name, err)
			return 2
		default:
			var ec exitCoder
			if errors.As(err, &ec) {
				if msg := err.Error(); msg != "" {
					fmt.Fprintf(io.err, "idwatch %s: %s\n", c.name, msg)
				}
				return ec.ExitCode()
			}
			fmt.Fprintf(io.err, "idwatch %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(io.err, "idwatch: unknown command %q\n\n", args[0])
	usage(io.err)
	return 2
}

// exitCoder lets a command choose its exit status (verify exits 1 when logs can't be collected).
type exitCoder interface {
	error
	ExitCode() int
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "idwatch watches Okta orgs: collect the System Log once, normalize, detect, respond, share.")
	fmt.Fprintln(w, "\nUsage: idwatch <command> [flags]\n\nCommands:")
	cs := commands()
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-14s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'idwatch <command> -h' for a command's flags.")
}

func logLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(os.Getenv("IDWATCH_LOG_LEVEL")))); err != nil {
		return slog.LevelInfo
	}
	return l
}

// newFlagSet returns a flag set that reports errors instead of exiting, writing help to io.err.
func newFlagSet(io stdio, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.err)
	fs.Usage = func() {
		fmt.Fprintf(io.err, "Usage: idwatch %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and turns a parse failure into a usage error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

func runVersion(_ context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "version", "version")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(io.out, "idwatch %s\n", version)
	return nil
}

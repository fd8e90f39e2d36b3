package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/oktasim/fault"
	"github.com/idwatch/idwatch/internal/oktasim/hooks"
	"github.com/idwatch/idwatch/internal/oktasim/scenario"
)

// simFlags are the options shared by sim and demo.
type simFlags struct {
	listen, infoFile, orgDomain, controlKey string
	orgURL, caFile                          string
	customDomains                           string
	tokenRoles, appOmitScopes               string
	postureFlaws                            string
	noADSchema                              bool
	history, lateDelay                      time.Duration
	users, storylines                       int
	seed                                    int64
	lateShare                               float64
	tls, noRateLimits                       bool
	faults                                  faultFlags
	hooks                                   hookFlags
}

// hookFlags collects repeated --event-hook definitions.
type hookFlags []hooks.Hook

func (f *hookFlags) String() string { return fmt.Sprintf("%d hooks", len(*f)) }

// Set parses one hook in oktasim.ParseEventHook's form.
func (f *hookFlags) Set(v string) error {
	h, err := oktasim.ParseEventHook(v)
	if err != nil {
		return err
	}
	*f = append(*f, h)
	return nil
}

// faultFlags collects repeated --fault rules.
type faultFlags []fault.Rule

func (f *faultFlags) String() string { return fmt.Sprintf("%d rules", len(*f)) }

// Set parses one rule in fault.ParseRule's form.
func (f *faultFlags) Set(v string) error {
	r, err := fault.ParseRule(v)
	if err != nil {
		return err
	}
	*f = append(*f, r)
	return nil
}

func (f *simFlags) register(fs *flag.FlagSet, history time.Duration) {
	fs.StringVar(&f.listen, "listen", "127.0.0.1:7070", "address to serve the emulated org on (port 0 picks a free port)")
	fs.StringVar(&f.infoFile, "info-file", "", "write the connection details (org URL, API token, service app) as JSON to this file once ready")
	fs.DurationVar(&f.history, "history", history, "traffic the org already has when it starts (at most 90 days)")
	fs.IntVar(&f.users, "users", 200, fmt.Sprintf("workforce size (1..%d)", scenario.MaxUsers))
	fs.IntVar(&f.storylines, "storylines", 3, "attack storylines placed in the history")
	fs.Int64Var(&f.seed, "seed", 1, "seed for people, traffic and storylines (same seed, same org)")
	fs.Float64Var(&f.lateShare, "late-share", 0.02, "share of events (0..1) that become visible later than published")
	fs.DurationVar(&f.lateDelay, "late-delay", 2*time.Minute, "longest delay of a late event")
	fs.StringVar(&f.orgDomain, "org-domain", "acme.example", "e-mail domain of the simulated workforce")
	fs.StringVar(&f.controlKey, "control-key", "", "key for the /_sim/ control API (default: generated and printed)")
	fs.BoolVar(&f.tls, "tls", false, "serve HTTPS with a certificate from a CA generated at start (the info file's caPem)")
	fs.BoolVar(&f.noRateLimits, "no-rate-limits", false, "turn Okta's rate limits off (benchmarks)")
	fs.StringVar(&f.tokenRoles, "token-roles", "", "set the API token's admin up wrongly on purpose with only these standard roles, e.g. REPORT_ADMIN (comma-separated)")
	fs.StringVar(&f.postureFlaws, "posture-flaws", "", "identity posture weaknesses in the directory: seed (derived from --seed), none (a clean org), or a comma-separated list of "+strings.Join(flawNames(), ", ")+" (default: the directory as generated)")
	fs.StringVar(&f.appOmitScopes, "app-omit-scopes", "", "leave these scopes off the service app on purpose, e.g. okta.users.manage (comma-separated)")
	fs.BoolVar(&f.noADSchema, "no-ad-schema", false, "set the org up without the ObjectSid, ObjectGuid and DistinguishedName custom attributes")
	fs.Var(&f.hooks, "event-hook", "an event hook the org has from the start: a receiver URI, or uri=U,name=N,events=a|b,auth=Header:Secret,header=K:V (repeatable)")
	fs.Var(&f.faults, "fault", "inject a fault from the start, e.g. kind=status,status=503,path=/api/v1/logs,count=3 (repeatable; see docs/oktasim.md)")
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// start builds the simulated org and binds the listener.
func (f *simFlags) start(io stdio) (*oktasim.Simulation, func(context.Context) error, error) {
	if f.users < 1 || f.users > scenario.MaxUsers {
		return nil, nil, fmt.Errorf("%w: --users must be 1..%d, got %d", errUsage, scenario.MaxUsers, f.users)
	}
	clk := clock.System{}
	now := clk.Now()
	world, err := oktasim.NewScenarioWorld(scenario.Config{Seed: f.seed, Users: f.users, OrgDomain: f.orgDomain, Start: now.Add(-f.history)})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	if world.Flaws, err = parsePostureFlaws(f.postureFlaws, f.seed); err != nil {
		return nil, nil, fmt.Errorf("%w: --posture-flaws: %v", errUsage, err)
	}
	rl := oktasim.DefaultRateLimits()
	rl.Disabled = f.noRateLimits
	cfg := oktasim.SimConfig{Listen: f.listen, TLS: f.tls, OrgURL: f.orgURL, CAFile: f.caFile, History: f.history, NoHistory: f.history == 0,
		HistoryStorylines: f.storylines, InfoFile: f.infoFile, AppOmitScopes: splitList(f.appOmitScopes),
		Server: oktasim.Config{Seed: f.seed, LateShare: f.lateShare, LateDelay: f.lateDelay, RateLimits: rl, ControlKey: f.controlKey,
			Faults: f.faults, EventHooks: f.hooks, OmitADSchemaAttributes: f.noADSchema, CustomDomains: splitList(f.customDomains)}}
	for _, r := range splitList(f.tokenRoles) {
		cfg.TokenRoles = append(cfg.TokenRoles, oktasim.Role(strings.ToUpper(r)))
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	if err := cfg.Server.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	sim, ln, err := oktasim.StartSim(cfg, world, clk, io.log)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, nil, fmt.Errorf("%s is in use; pass --listen 127.0.0.1:0 (a free port, printed at start) or another free address", f.listen)
	}
	if err != nil {
		return nil, nil, err
	}
	serve := func(ctx context.Context) error { return sim.Serve(ctx, cfg, world, ln, clk, io.log) }
	return sim, serve, nil
}

func runSim(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "sim", "sim [--listen ADDR] [--info-file F] [--org-url URL] [flags]")
	var f simFlags
	f.register(fs, 24*time.Hour)
	fs.StringVar(&f.orgURL, "org-url", "", "advertise this https org URL (e.g. https://acme.okta.com) instead of the listen address; served with a certificate for its host (implies --tls); clients map the host to the listener")
	fs.StringVar(&f.customDomains, "custom-domain", "", "custom URL domains of the org, e.g. https://login.acme.com (comma-separated): served on the same listener and certificate, and published by /.well-known/okta-organization (with --tls or --org-url)")
	fs.StringVar(&f.caFile, "ca-file", "", "write the generated CA certificate (PEM) to this file once ready, for clients to trust (with --tls or --org-url)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	sim, serve, err := f.start(io)
	if err != nil {
		return err
	}
	printSimBanner(io, sim)
	return serve(ctx)
}

// printSimBanner tells the user how to connect. oktasim is a local emulator, so printing its
// credentials is what the user needs, not a leak.
func printSimBanner(io stdio, sim *oktasim.Simulation) {
	visible, _ := sim.Server.EventCount()
	fmt.Fprintf(io.out, "oktasim: emulated Okta org with %d users and %d events of history\n", len(sim.Server.Users()), visible)
	fmt.Fprintf(io.out, "  org URL:     %s\n", sim.Info.OrgURL)
	if u, err := url.Parse(sim.Info.OrgURL); err == nil && u.Host != sim.Info.Address {
		fmt.Fprintf(io.out, "  listening:   %s   (map %s to it; DNS does not point there)\n", sim.Info.Address, u.Hostname())
	}
	if sim.Info.CAPEM != "" {
		fmt.Fprintln(io.out, "  TLS:         certificate signed by a CA generated at start (caPem in the info file, or --ca-file)")
	}
	fmt.Fprintf(io.out, "  API token:   %s   (Authorization: SSWS <token>)\n", sim.Info.APIToken)
	fmt.Fprintf(io.out, "  service app: client id %s, key id %s\n", sim.Info.ServiceApp.ClientID, sim.Info.ServiceApp.KeyID)
	fmt.Fprintf(io.out, "  control API: %s/_sim/ with header %s: %s\n", sim.Info.OrgURL, oktasim.ControlKeyHeader, sim.ControlKey)
	fmt.Fprintln(io.out, "Press Ctrl-C to stop.")
}

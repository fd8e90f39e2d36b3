package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/config"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/process"
	"github.com/idwatch/idwatch/internal/respond"
	"github.com/idwatch/idwatch/internal/server"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// runDemo runs the whole product on one machine with no Okta account: two emulated Okta orgs
// (oktasim), and idwatch collecting from both (one through a service app with private-key JWT +
// DPoP, one with an API token), detecting, and serving the API and the web console. It prints
// the console's address and an admin key to sign in with, and every alert as it is raised;
// attack storylines keep starting live so alerts appear while the user watches.
func runDemo(ctx context.Context, io stdio, args []string) error {
	err := demo(ctx, io, args)
	if err != nil && ctx.Err() != nil {
		// Stopped by the user (Ctrl-C) while starting up: not a failure.
		return nil
	}
	return err
}

// demoInfo is what --info-file receives.
type demoInfo struct {
	ConsoleURL string `json:"consoleUrl"`
	APIKey     string `json:"apiKey"`
	OrgURL     string `json:"orgUrl"`
}

func demo(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "demo", "demo [--listen ADDR] [--data-dir D] [--info-file F] [flags]")
	var f simFlags
	f.register(fs, 2*time.Hour)
	// In the demo --listen and --info-file are the console's; the emulated orgs listen on free
	// loopback ports.
	listen := fs.Lookup("listen")
	listen.Usage, listen.DefValue, f.listen = "address of the API and web console (port 0 picks a free port)", demoListen, demoListen
	fs.Lookup("info-file").Usage = `once the console is up, write {"consoleUrl","apiKey","orgUrl"} to this file (mode 0600)`
	dataDir := fs.String("data-dir", "", "keep the demo's database here (default: a temporary directory removed on exit)")
	status := fs.Duration("status-every", 30*time.Second, "print collection status this often (0: never)")
	liveFirst := fs.Duration("live-first", 20*time.Second, "start the first live attack storyline this long after start")
	liveEvery := fs.Duration("live-every", 3*time.Minute, "then start another live attack storyline this often (0: none)")
	// The demo places more attack storylines in its history than sim does, so alerts show at once.
	if err := fs.Set("storylines", "8"); err != nil {
		return err
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	consoleAddr, infoFile := f.listen, f.infoFile
	f.listen, f.infoFile = "127.0.0.1:0", ""
	dir := *dataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "idwatch-demo-")
		if err != nil {
			return fmt.Errorf("demo data directory: %w", err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}

	// Two orgs, so that each auth type has its own org (two integrations of one org would
	// collect every event twice). The second is smaller and has a different workforce.
	sim, serveSim, err := f.start(io)
	if err != nil {
		return err
	}
	g := f
	g.seed, g.orgDomain, g.users, g.storylines, g.hooks, g.faults = f.seed+1, "globex.example", min(f.users, 60), min(f.storylines, 2), nil, nil
	sim2, serveSim2, err := g.start(io)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	simDone := make(chan error, 2)
	go func() { simDone <- serveSim(ctx) }()
	go func() { simDone <- serveSim2(ctx) }()
	printSimBanner(io, sim)

	// The demo collects like serve does, so it holds the data directory the same way.
	lock, err := (&common{dataDir: dir}).lockDataDir("demo")
	if err != nil {
		return err
	}
	defer lock.Release()
	st, err := sqlite.OpenDataDir(ctx, dir, sqlite.Options{Logger: io.log, Keys: sqlite.KeyStore})
	if err != nil {
		return err
	}
	defer st.Close()
	// A fresh admin key each run: keys are stored only as hashes, so a kept data directory's
	// earlier key cannot be shown again.
	apiKey, _, err := server.CreateKey(ctx, st, "demo-admin-"+time.Now().UTC().Format("20060102-150405.000"), store.RoleAdmin)
	if err != nil {
		return err
	}

	govs, err := okta.NewGovernorSet(okta.GovernorConfig{Share: config.DefaultShare, Logger: io.log})
	if err != nil {
		return err
	}
	clients := &collect.Clients{Governors: govs, Logger: io.log}
	m, err := collect.NewManager(collect.ManagerConfig{Store: st, Clients: clients,
		Collect: collect.Config{Lookback: f.history + time.Hour, PollInterval: demoPoll, Logger: io.log}})
	if err != nil {
		return err
	}
	proc, err := process.New(ctx, process.Config{Store: st, Logger: io.log})
	if err != nil {
		return err
	}
	// Response actions run against the emulated orgs from the console (the globex integration has
	// the response feature on).
	responder, err := newResponder(st, respond.Config{}, govs, io)
	if err != nil {
		return err
	}
	api, err := newAPIServer(apiOptions{cfg: config.Config{Server: server.Config{Listen: consoleAddr}}, dataDir: dir, st: st, clients: clients, m: m, log: io.log,
		responder: responder})
	if err != nil {
		if errors.Is(err, server.ErrAddrInUse) {
			return fmt.Errorf("%s is in use; pass --listen 127.0.0.1:0 (a free port, printed at start) or another free address", consoleAddr)
		}
		return err
	}
	errs := make(chan error, 4)
	go func() { errs <- api.run(ctx) }()
	go func() { errs <- m.Run(ctx) }()
	go func() { errs <- proc.Run(ctx) }()

	// Add the integrations through the API, as a user or a script would (with --tls, trusting the
	// CA the emulators generated).
	adds := []server.CreateInput{
		{Name: "acme", OrgURL: sim.Info.OrgURL, CAPEM: sim.Info.CAPEM, CredentialsInput: server.CredentialsInput{ServiceApp: &server.ServiceAppInput{
			ClientID: sim.Info.ServiceApp.ClientID, KeyID: sim.Info.ServiceApp.KeyID, PrivateKey: sim.Info.ServiceApp.PrivateKeyPEM}}},
		{Name: "globex", OrgURL: sim2.Info.OrgURL, CAPEM: sim2.Info.CAPEM, CredentialsInput: server.CredentialsInput{APIToken: sim2.Info.APIToken},
			Features: []string{"response"}},
	}
	for _, in := range adds {
		if err := demoAdd(ctx, io, api.url(), apiKey, in); err != nil {
			return err
		}
	}
	fmt.Fprintf(io.out, "\nidwatch: collecting from %s (acme: service app, DPoP) and %s (globex: API token), data in %s\n", sim.Info.OrgURL, sim2.Info.OrgURL, dir)
	if infoFile != "" {
		if err := writeDemoInfo(infoFile, demoInfo{ConsoleURL: api.url(), APIKey: apiKey, OrgURL: sim.Info.OrgURL}); err != nil {
			return fmt.Errorf("--info-file: %w", err)
		}
	}
	fmt.Fprintf(io.out, "\nidwatch: web console at %s\n  sign in with the admin key %s\n", api.url(), apiKey)
	live := &liveEvents{}
	if *liveEvery > 0 {
		go func() {
			errs <- liveStorylines(ctx, clock.System{}, quickFirst{sim.Server}, *liveFirst, *liveEvery, printLiveStoryline(io, live))
		}()
	}
	fmt.Fprintln(io.out, "idwatch: alerts from the built-in detections appear below and in the console; press Ctrl-C to stop.")

	err = printAlertsUntilDone(ctx, io, st, m, *status, errs, live)
	cancel()
	for range 2 {
		if serr := <-simDone; serr != nil && !errors.Is(serr, context.Canceled) && err == nil {
			err = serr
		}
	}
	return err
}

// writeDemoInfo writes the info file readable by its owner only (it holds an admin key), through
// a temporary file and a rename so a script polling for it never reads half of it.
func writeDemoInfo(path string, info demoInfo) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// demoListen is where the demo's console listens unless --listen says otherwise.
const demoListen = "127.0.0.1:8080"

// demoPoll is the demo's wait between polls of a caught-up System Log: short, so live alerts
// show within seconds.
const demoPoll = 3 * time.Second

// demoAdd adds an integration with POST /api/v1/integrations and prints its verification. An
// integration of that name left by an earlier run in a kept data directory points at that run's
// emulator, which is gone: it is removed (DELETE) and added again.
func demoAdd(ctx context.Context, io stdio, base, key string, in server.CreateInput) error {
	var out struct {
		Verification *collect.Report `json:"verification"`
	}
	status, err := demoCall(ctx, http.MethodPost, base+"api/v1/integrations", key, in, &out)
	if status == http.StatusConflict {
		fmt.Fprintf(io.out, "\nidwatch: replacing integration %q of an earlier run (its emulated org is gone)\n", in.Name)
		if _, err := demoCall(ctx, http.MethodDelete, base+"api/v1/integrations/"+url.PathEscape(in.Name), key, nil, nil); err != nil {
			return fmt.Errorf("removing integration %s: %w", in.Name, err)
		}
		_, err = demoCall(ctx, http.MethodPost, base+"api/v1/integrations", key, in, &out)
	}
	if err != nil {
		return fmt.Errorf("adding integration %s: %w", in.Name, err)
	}
	fmt.Fprintf(io.out, "\nidwatch: integration %q (%s):\n", in.Name, in.OrgURL)
	if out.Verification != nil {
		printReport(io, *out.Verification)
		if !out.Verification.CanCollectLogs {
			return fmt.Errorf("the emulated org %s failed verification; see the checks above", in.OrgURL)
		}
	}
	return nil
}

// demoCall makes one API request with the demo's key, decoding a success into out; an error
// answer comes back as its message and fix, with its status.
func demoCall(ctx context.Context, method, u, key string, body, out any) (int, error) {
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(http.MaxBytesReader(nil, res.Body, 1<<20))
	if err != nil {
		return res.StatusCode, err
	}
	if res.StatusCode >= 300 {
		var e struct {
			Error server.Error `json:"error"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Error.Message != "" {
			return res.StatusCode, fmt.Errorf("%s (%s)", e.Error.Message, e.Error.Fix)
		}
		return res.StatusCode, fmt.Errorf("%s", res.Status)
	}
	if out != nil && len(raw) > 0 {
		return res.StatusCode, json.Unmarshal(raw, out)
	}
	return res.StatusCode, nil
}

// printAlertsUntilDone prints each new alert and, every status interval, the integrations'
// health, until ctx ends or a component fails.
func printAlertsUntilDone(ctx context.Context, io stdio, st store.Store, m *collect.Manager, status time.Duration, errs <-chan error, live *liveEvents) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var after int64
	lastStatus := time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errs:
			if err == nil || errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		case <-tick.C:
		}
		alerts, err := st.ReadAlerts(ctx, after, 200)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		for _, a := range alerts {
			after = a.Seq
			group := ""
			if a.GroupKey != "" {
				group = "  (" + a.GroupKey + ")"
			}
			if name := live.storyline(a.Body); name != "" {
				group += fmt.Sprintf("  <- live storyline %q", name)
			}
			fmt.Fprintf(io.out, "ALERT %s  %-8s %s  [%s]%s\n", a.Time.UTC().Format(time.RFC3339), a.Severity, alertTitle(a), a.RuleID, group)
		}
		if status > 0 && time.Since(lastStatus) >= status {
			lastStatus = time.Now()
			if hs, err := m.Health(ctx); err == nil {
				for _, h := range hs {
					fmt.Fprintf(io.out, "status: %s, %d events collected, %d requests, last event %s\n",
						h.State, h.EventsCollected, h.RequestsMade, h.LastEventAt.UTC().Format(time.RFC3339))
				}
			}
		}
	}
}

// alertTitle reads the rule title from an alert's Detection Finding body.
func alertTitle(a store.Alert) string {
	var body struct {
		FindingInfo struct {
			Title string `json:"title"`
		} `json:"finding_info"`
	}
	if json.Unmarshal(a.Body, &body) == nil && body.FindingInfo.Title != "" {
		return body.FindingInfo.Title
	}
	return a.RuleID
}

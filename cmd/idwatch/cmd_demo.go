package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/process"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// runDemo runs oktasim and idwatch against it: the emulated org's service app (private-key JWT +
// DPoP) is added as an integration, verified, collected from, normalized and run through the
// built-in detections, and every alert is printed as it is raised.
func runDemo(ctx context.Context, io stdio, args []string) error {
	err := demo(ctx, io, args)
	if err != nil && ctx.Err() != nil {
		// Stopped by the user (Ctrl-C) while starting up: not a failure.
		return nil
	}
	return err
}

func demo(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "demo", "demo [--listen ADDR] [--data-dir D] [flags]")
	var f simFlags
	f.register(fs, 2*time.Hour)
	fs.Lookup("info-file").Usage = "not available yet (it is to hold the console URL and API key; the demo has no console): use 'idwatch sim --info-file F' for the emulator's details"
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
	if f.infoFile != "" {
		// The demo's info file is to hold the console URL and API key, which exist only once the
		// console is built; writing the emulator's details there would mislead scripts.
		return fmt.Errorf("%w: --info-file is not available yet: the demo has no console; use 'idwatch sim --info-file F' for the emulator's connection details", errUsage)
	}
	dir := *dataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "idwatch-demo-")
		if err != nil {
			return fmt.Errorf("demo data directory: %w", err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}

	sim, serve, err := f.start(io)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	simDone := make(chan error, 1)
	go func() { simDone <- serve(ctx) }()
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

	in, err := demoIntegration(ctx, io, st, sim.Info.OrgURL, sim.Info.ServiceApp.ClientID, sim.Info.ServiceApp.KeyID, sim.Info.ServiceApp.PrivateKeyPEM)
	if err != nil {
		return err
	}
	fmt.Fprintf(io.out, "\nidwatch: collecting from %s as integration %q (service app, DPoP), data in %s\n", in.OrgURL, in.Name, dir)

	govs, err := okta.NewGovernorSet(okta.GovernorConfig{Share: 0.5, Logger: io.log})
	if err != nil {
		return err
	}
	m, err := collect.NewManager(collect.ManagerConfig{Store: st, Clients: &collect.Clients{Governors: govs, Logger: io.log},
		Collect: collect.Config{Lookback: f.history + time.Hour, Logger: io.log}})
	if err != nil {
		return err
	}
	proc, err := process.New(ctx, process.Config{Store: st, Logger: io.log})
	if err != nil {
		return err
	}
	errs := make(chan error, 3)
	go func() { errs <- m.Run(ctx) }()
	go func() { errs <- proc.Run(ctx) }()
	if *liveEvery > 0 {
		go func() {
			errs <- liveStorylines(ctx, clock.System{}, sim.Server, *liveFirst, *liveEvery, printLiveStoryline(io))
		}()
	}
	fmt.Fprintln(io.out, "idwatch: alerts from the built-in detections appear below; press Ctrl-C to stop.")

	err = printAlertsUntilDone(ctx, io, st, m, *status, errs)
	cancel()
	if serr := <-simDone; serr != nil && !errors.Is(serr, context.Canceled) && err == nil {
		err = serr
	}
	return err
}

// demoIntegration adds the emulated org's service app as an integration after verifying it, the
// way a user would with 'idwatch integrations add'.
func demoIntegration(ctx context.Context, io stdio, st store.Store, orgURL, clientID, keyID, pem string) (store.Integration, error) {
	in := store.Integration{Name: "oktasim", OrgURL: orgURL, AuthKind: store.AuthOAuth, ClientID: clientID, KeyID: keyID,
		CustomAttributes: store.DefaultAttributeNames, Credentials: store.Credentials{PrivateKeyPEM: secret.New(pem)}}
	rep := (&collect.Verifier{Logger: io.log}).VerifyIntegration(ctx, in)
	printReport(io, rep)
	if !rep.CanCollectLogs {
		return in, fmt.Errorf("the emulated org failed verification; see the checks above")
	}
	in.Enabled = true
	return st.CreateIntegration(ctx, in)
}

// printAlertsUntilDone prints each new alert and, every status interval, the integrations'
// health, until ctx ends or a component fails.
func printAlertsUntilDone(ctx context.Context, io stdio, st store.Store, m *collect.Manager, status time.Duration, errs <-chan error) error {
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
			fmt.Fprintf(io.out, "ALERT %s  %-8s %s%s\n", a.Time.UTC().Format(time.RFC3339), a.Severity, alertTitle(a), group)
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

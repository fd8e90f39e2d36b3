package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// Environment variables the collection commands read.
const (
	envDataDir  = "IDWATCH_DATA_DIR"
	envAPIToken = "IDWATCH_API_TOKEN"
)

// common holds the flags every collection command has.
type common struct {
	dataDir    string
	json       bool
	syncFull   bool  // every store commit survives power loss (serve's storage.sync: full)
	maxJournal int64 // the journal's retention cap (serve's storage.journal_max_entries)
	cacheBytes int64 // the writer's page cache (serve's storage.cache_mib; 0: default)
	mmapBytes  int64 // how much of the file reads may map (serve's storage.mmap_mib)
}

func addCommon(fs *flag.FlagSet) *common {
	c := &common{}
	fs.StringVar(&c.dataDir, "data-dir", defaultDataDir(), "directory of the database and master key (env "+envDataDir+")")
	fs.BoolVar(&c.json, "json", false, "machine-readable output")
	return c
}

// defaultDataDir is $IDWATCH_DATA_DIR, else $XDG_DATA_HOME/idwatch, else the per-user data
// directory (~/.local/share/idwatch on Linux, the user config directory elsewhere).
func defaultDataDir() string {
	if d := os.Getenv(envDataDir); d != "" {
		return d
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "idwatch")
	}
	if home, err := os.UserHomeDir(); err == nil && filepath.Separator == '/' {
		if _, err := os.Stat("/Library"); err != nil { // not macOS
			return filepath.Join(home, ".local", "share", "idwatch")
		}
	}
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "idwatch")
	}
	return "idwatch-data"
}

// openStore opens the data directory's database with the master key (IDWATCH_MASTER_KEY or the
// key file); keys says what the command needs the key for (see sqlite.KeyUse).
func (c *common) openStore(ctx context.Context, io stdio, keys sqlite.KeyUse) (*sqlite.Store, error) {
	if c.dataDir == "" {
		return nil, fmt.Errorf("%w: --data-dir is empty", errUsage)
	}
	if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	return sqlite.OpenDataDir(ctx, c.dataDir, sqlite.Options{Logger: io.log, SyncFull: c.syncFull, MaxJournalEntries: c.maxJournal, Keys: keys,
		CacheBytes: c.cacheBytes, MmapBytes: c.mmapBytes})
}

// integration finds an integration by name (or numeric id). One whose credentials cannot be
// opened is found too, with CredentialsError set: removing, disabling or updating it must work.
func integration(ctx context.Context, st store.Integrations, name string) (store.Integration, error) {
	if name == "" {
		return store.Integration{}, fmt.Errorf("%w: --integration is required", errUsage)
	}
	all, err := st.ListIntegrations(ctx)
	if err != nil {
		return store.Integration{}, err
	}
	if i := slices.IndexFunc(all, func(in store.Integration) bool { return in.Name == name }); i >= 0 {
		return all[i], nil
	}
	if id, perr := strconv.ParseInt(name, 10, 64); perr == nil {
		if i := slices.IndexFunc(all, func(in store.Integration) bool { return in.ID == id }); i >= 0 {
			return all[i], nil
		}
	}
	return store.Integration{}, fmt.Errorf("no integration named %q; see idwatch integrations list", name)
}

// readable refuses an integration whose stored credentials cannot be opened, naming the fix.
func readable(in store.Integration) error {
	if in.CredentialsError == "" {
		return nil
	}
	return fmt.Errorf("integration %q: %s; fix: %s", in.Name, in.CredentialsError, store.CredentialsFix(in.Name))
}

// parseTime accepts RFC 3339 or a duration back from now (90m, 36h, 7d).
func parseTime(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	d, err := parseAgo(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: time %q is neither RFC 3339 (2026-03-01T00:00:00Z) nor a duration back from now (90m, 7d)", errUsage, s)
	}
	return now.Add(-d), nil
}

func parseAgo(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil || n < 0 || n > 36500 {
			return 0, errors.New("bad days")
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, errors.New("bad duration")
	}
	return d, nil
}

// secretFlags are the flags that give an integration's credentials (add, update, verify).
type secretFlags struct {
	apiToken, apiTokenFile, clientID, keyID, keyFile, scopes string
}

// credFlags are the flags of integrations add and verify: the org, its credentials and the AD
// link attributes.
type credFlags struct {
	secretFlags
	reachFlags
	orgURL        string
	sid, guid, dn string
}

func addSecretFlags(fs *flag.FlagSet, f *secretFlags) {
	fs.StringVar(&f.apiToken, "api-token", "", "SSWS API token (prefer --api-token-file or env "+envAPIToken+": flags show in shell history)")
	fs.StringVar(&f.apiTokenFile, "api-token-file", "", "file holding the API token")
	fs.StringVar(&f.clientID, "client-id", "", "OAuth service app client id")
	fs.StringVar(&f.keyID, "key-id", "", "key id (kid) of the service app's public key")
	fs.StringVar(&f.keyFile, "private-key-file", "", "service app private key (PEM or JWK)")
	fs.StringVar(&f.scopes, "scopes", "", "comma-separated scopes to request (default: those the enabled --features need)")
}

func addCredFlags(fs *flag.FlagSet) *credFlags {
	f := &credFlags{}
	fs.StringVar(&f.orgURL, "org-url", "", "the org's URL, e.g. https://acme.okta.com")
	addReachFlags(fs, &f.reachFlags)
	addSecretFlags(fs, &f.secretFlags)
	fs.StringVar(&f.sid, "attr-object-sid", store.DefaultAttributeNames.ObjectSID, "user profile attribute holding the AD objectSid")
	fs.StringVar(&f.guid, "attr-object-guid", store.DefaultAttributeNames.ObjectGUID, "user profile attribute holding the AD objectGUID")
	fs.StringVar(&f.dn, "attr-distinguished-name", store.DefaultAttributeNames.DistinguishedName, "user profile attribute holding the AD distinguishedName")
	return f
}

// integration builds the record the flags describe (not yet stored).
func (f *credFlags) integration(name string) (store.Integration, error) {
	in := store.Integration{Name: name, OrgURL: f.orgURL, Enabled: true,
		CustomAttributes: store.AttributeNames{ObjectSID: f.sid, ObjectGUID: f.guid, DistinguishedName: f.dn}}
	if f.orgURL == "" {
		return in, fmt.Errorf("%w: --org-url is required", errUsage)
	}
	org, err := parseOrgURL(f.orgURL, f.customDomain)
	if err != nil {
		return in, err
	}
	in.OrgURL = org.String()
	if err := f.reachFlags.apply(&in); err != nil {
		return in, err
	}
	return in, f.secretFlags.apply(&in)
}

// apply replaces in's authentication (kind, service app fields, every secret) with what the
// flags give, and checks the result.
func (f *secretFlags) apply(in *store.Integration) error {
	in.AuthKind, in.ClientID, in.KeyID, in.Scopes, in.Credentials = "", "", "", nil, store.Credentials{}
	token := f.apiToken
	if f.apiTokenFile != "" {
		b, err := os.ReadFile(f.apiTokenFile)
		if err != nil {
			return fmt.Errorf("%w: --api-token-file: %v", errUsage, err)
		}
		token = strings.TrimSpace(string(b))
	}
	if token == "" && f.clientID == "" {
		token = strings.TrimSpace(os.Getenv(envAPIToken))
	}
	switch {
	case token != "" && f.clientID != "":
		return fmt.Errorf("%w: give either an API token or a service app (--client-id), not both", errUsage)
	case token != "":
		in.AuthKind, in.Credentials.APIToken = store.AuthAPIToken, secret.New(strings.TrimPrefix(token, "SSWS "))
	case f.clientID != "":
		if f.keyFile == "" {
			return fmt.Errorf("%w: a service app needs --private-key-file (and --key-id unless the key is a JWK with a kid)", errUsage)
		}
		b, err := os.ReadFile(f.keyFile)
		if err != nil {
			return fmt.Errorf("%w: --private-key-file: %v", errUsage, err)
		}
		in.AuthKind, in.ClientID, in.KeyID = store.AuthOAuth, f.clientID, f.keyID
		in.Credentials.PrivateKeyPEM = secret.New(string(b))
		if f.scopes != "" {
			for _, s := range strings.Split(f.scopes, ",") {
				if s = strings.TrimSpace(s); s != "" {
					in.Scopes = append(in.Scopes, s)
				}
			}
		}
	default:
		return fmt.Errorf("%w: credentials missing: --api-token-file (or --api-token, env %s), or --client-id with --key-id and --private-key-file", errUsage, envAPIToken)
	}
	creds, err := collect.Credentials(*in)
	if err == nil {
		err = creds.Validate()
	}
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

func runIntegrations(ctx context.Context, io stdio, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: integrations add|list|show|update|remove|enable|disable", errUsage)
	}
	switch args[0] {
	case "add":
		return integrationsAdd(ctx, io, args[1:])
	case "list":
		return integrationsList(ctx, io, args[1:])
	case "show":
		return integrationsShow(ctx, io, args[1:])
	case "update":
		return integrationsUpdate(ctx, io, args[1:])
	case "remove", "enable", "disable":
		return integrationsChange(ctx, io, args[0], args[1:])
	}
	return fmt.Errorf("%w: unknown integrations subcommand %q (add, list, show, update, remove, enable, disable)", errUsage, args[0])
}

func integrationsAdd(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "integrations add", "integrations add --name N --org-url U (--api-token-file F | --api-token T | --client-id C --key-id K --private-key-file P) [--features inventory,response] [--custom-domain] [--ca-file F] [--allow-duplicate]")
	c := addCommon(fs)
	name := fs.String("name", "", "integration name")
	allowDup := fs.Bool("allow-duplicate", false, "add the integration even if another one already collects this org")
	noVerify := fs.Bool("no-verify", false, "store without verifying (the integration starts disabled)")
	cf := addCredFlags(fs)
	feats := addFeaturesFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if strings.TrimSpace(*name) == "" {
		return fmt.Errorf("%w: --name is required", errUsage)
	}
	in, err := cf.integration(*name)
	if err != nil {
		return err
	}
	in.Features = feats.set().List()
	if c.dataDir == "" {
		return fmt.Errorf("%w: --data-dir is empty", errUsage)
	}
	lock, err := c.lockKeys(ctx)
	if err != nil {
		return err
	}
	defer lock.Release()
	st, err := c.openStore(ctx, io, sqlite.KeyStore)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.IntegrationByName(ctx, in.Name); err == nil {
		return fmt.Errorf("an integration named %q exists; remove it first or pick another name", in.Name)
	}
	if err := refuseDuplicate(ctx, st, in, *allowDup); err != nil {
		return err
	}
	var rep *collect.Report
	if *noVerify {
		in.Enabled = false
	} else {
		r := (&collect.Verifier{Logger: io.log, Dial: io.dial}).VerifyIntegration(ctx, in)
		rep = &r
		in.Enabled = r.CanCollectLogs
		// The org's identity is known now: the same org under another URL is a duplicate too.
		in.OrgID = r.OrgID
		if err := refuseDuplicate(ctx, st, in, *allowDup); err != nil {
			if !c.json {
				printReport(io, r)
			}
			return err
		}
	}
	in, err = st.CreateIntegration(ctx, in)
	if err != nil {
		return err
	}
	state, reason, fix := store.HealthPending, "", ""
	if !in.Enabled {
		state = store.HealthDisabled
		if rep != nil {
			if f := rep.Failed(); f != nil {
				state, reason, fix = store.HealthError, f.Name+": "+f.Detail, f.Fix
			}
		}
	}
	_ = st.SetHealth(ctx, store.Health{IntegrationID: in.ID, State: state, Reason: reason, Fix: fix})
	// Stored but not collecting: scripts must see the failure (exit 1), the operator the fix.
	var result error
	if rep != nil && !in.Enabled {
		result = verifyFailed{}
	}
	if c.json {
		if err := writeJSON(io, map[string]any{"integration": in, "verification": rep}); err != nil {
			return err
		}
		return result
	}
	if rep != nil {
		printReport(io, *rep)
	}
	switch {
	case in.Enabled:
		fmt.Fprintf(io.out, "added integration %q (id %d), enabled\n", in.Name, in.ID)
	case rep != nil:
		fmt.Fprintf(io.out, "added integration %q (id %d), disabled: fix the failed check, then run idwatch integrations enable %s\n", in.Name, in.ID, in.Name)
	default:
		fmt.Fprintf(io.out, "added integration %q (id %d), disabled: run idwatch integrations enable %s to verify and enable it\n", in.Name, in.ID, in.Name)
	}
	return result
}

// integrationRow is one line of integrations list --json.
type integrationRow struct {
	store.Integration
	Health *store.Health `json:"health,omitempty"`
}

func integrationsList(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "integrations list", "integrations list")
	c := addCommon(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	st, err := c.openStore(ctx, io, sqlite.KeyRead)
	if err != nil {
		return err
	}
	defer st.Close()
	ins, err := st.ListIntegrations(ctx)
	if err != nil {
		return err
	}
	rows := make([]integrationRow, 0, len(ins))
	now := time.Now()
	for _, in := range ins {
		in.Credentials = store.Credentials{} // never listed, even redacted
		row := integrationRow{Integration: in}
		if h, err := st.Health(ctx, in.ID); err == nil {
			h.Lag = h.LagAt(now)
			row.Health = &h
		}
		rows = append(rows, row)
	}
	if c.json {
		return writeJSON(io, rows)
	}
	tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tORG\tAUTH\tSTATE\tLAST EVENT\tLAG\tEVENTS\tREQUESTS\tBUDGET\tREASON")
	for _, r := range rows {
		h := store.Health{State: store.HealthPending}
		if r.Health != nil {
			h = *r.Health
		}
		last := "-"
		if !h.LastEventAt.IsZero() {
			last = h.LastEventAt.UTC().Format(time.RFC3339)
		}
		if r.CredentialsError != "" {
			h.State, h.Reason, h.Fix = store.HealthError, r.CredentialsError, store.CredentialsFix(r.Name)
		}
		reason := h.Reason
		if h.Fix != "" {
			reason += " — fix: " + h.Fix
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%.0f%%\t%s\n", r.ID, r.Name, r.OrgURL, r.AuthKind, h.State, last,
			h.Lag.Round(time.Second), h.EventsCollected, h.RequestsMade, h.BudgetShareUsed*100, reason)
	}
	return tw.Flush()
}

func integrationsChange(ctx context.Context, io stdio, verb string, args []string) error {
	fs := newFlagSet(io, "integrations "+verb, "integrations "+verb+" NAME")
	c := addCommon(fs)
	noVerify := fs.Bool("no-verify", false, "enable without verifying first (enable only)")
	name, err := parseNameAndFlags(fs, args, verb)
	if err != nil {
		return err
	}
	st, err := c.openStore(ctx, io, sqlite.KeyRead)
	if err != nil {
		return err
	}
	defer st.Close()
	in, err := integration(ctx, st, name)
	if err != nil {
		return err
	}
	switch verb {
	case "remove":
		err = st.DeleteIntegration(ctx, in.ID)
	case "disable":
		if err = st.SetIntegrationEnabled(ctx, in.ID, false); err == nil {
			err = setState(ctx, st, in.ID, store.HealthDisabled, "", "")
		}
	case "enable":
		if !*noVerify {
			if err := readable(in); err != nil {
				return fmt.Errorf("%w (or enable it without verifying: --no-verify; it then shows this error until fixed)", err)
			}
			r := (&collect.Verifier{Logger: io.log, Dial: io.dial}).VerifyIntegration(ctx, in)
			if !c.json {
				printReport(io, r)
			}
			recordOrgID(ctx, io, st, in, r)
			if f := r.Failed(); f != nil {
				_ = setState(ctx, st, in.ID, store.HealthError, f.Name+": "+f.Detail, f.Fix)
				return verifyFailed{}
			}
		}
		if err = st.SetIntegrationEnabled(ctx, in.ID, true); err == nil {
			err = setState(ctx, st, in.ID, store.HealthPending, "", "")
		}
	}
	if err != nil {
		return err
	}
	if c.json {
		return writeJSON(io, map[string]any{"integration": in.Name, "id": in.ID, "action": verb})
	}
	fmt.Fprintf(io.out, "%s: %s\n", in.Name, map[string]string{"remove": "removed (its collected events stay in the journal)", "enable": "enabled", "disable": "disabled"}[verb])
	return nil
}

// parseNameAndFlags parses the flags of integrations VERB NAME, accepting the one name before
// or after the flags.
func parseNameAndFlags(fs *flag.FlagSet, args []string, verb string) (string, error) {
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return "", err
	}
	if name == "" && fs.NArg() == 1 {
		name = fs.Arg(0)
	}
	if name == "" || fs.NArg() > 1 || (fs.NArg() == 1 && name != fs.Arg(0)) {
		return "", fmt.Errorf("%w: integrations %s takes one integration name", errUsage, verb)
	}
	return name, nil
}

// setState changes an integration's health state, keeping its counters.
func setState(ctx context.Context, st store.Healths, id int64, state store.HealthState, reason, fix string) error {
	h, err := st.Health(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	h.IntegrationID, h.State, h.Reason, h.Fix = id, state, reason, fix
	return st.SetHealth(ctx, h)
}

func writeJSON(io stdio, v any) error {
	enc := json.NewEncoder(io.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/feature"
	"github.com/idwatch/idwatch/internal/inventory"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

const inventoryUsage = "idwatch inventory sync --integration N | inventory users [--integration N] [--admins] | inventory user ID|LOGIN [--integration N]"

func runInventory(ctx context.Context, io stdio, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, inventoryUsage)
	}
	switch args[0] {
	case "sync":
		return inventorySync(ctx, io, args[1:])
	case "users":
		return inventoryUsers(ctx, io, args[1:])
	case "user":
		return inventoryUser(ctx, io, args[1:])
	}
	return fmt.Errorf("%w: unknown subcommand %q: %s", errUsage, args[0], inventoryUsage)
}

func inventorySync(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "inventory sync", "inventory sync --integration N [--json] [--data-dir DIR]")
	c := addCommon(fs)
	name := fs.String("integration", "", "integration to sync (name or id)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	st, err := c.openStore(ctx, io, sqlite.KeyCollect)
	if err != nil {
		return err
	}
	defer st.Close()
	in, err := integration(ctx, st, *name)
	if err != nil {
		return err
	}
	svc, err := inventoryService(ctx, io, st, in, inventory.Config{})
	if err != nil {
		return err
	}
	snap, err := svc.Sync(ctx)
	if err != nil {
		return fmt.Errorf("inventory sync of %q: %w", in.Name, err)
	}
	findings, err := st.Posture(ctx, in.ID)
	if err != nil {
		return err
	}
	if c.json {
		return json.NewEncoder(io.out).Encode(map[string]any{"sync": snap.Sync, "findings": len(findings)})
	}
	s := snap.Sync
	fmt.Fprintf(io.out, "%s: %d users, %d groups in %s; %d Okta API calls (%s); %d posture findings (idwatch posture)\n",
		in.Name, s.Users, s.Groups, s.FinishedAt.Sub(s.StartedAt).Round(time.Millisecond), inventory.Total(s.APICalls),
		formatCalls(s.APICalls), len(findings))
	return nil
}

// inventoryService builds the inventory of an integration with its Okta client.
func inventoryService(ctx context.Context, io stdio, st store.Store, in store.Integration, cfg inventory.Config) (*inventory.Service, error) {
	set, err := feature.FromList(in.Features)
	if err != nil {
		return nil, err
	}
	if !set.Has(feature.Inventory) {
		return nil, fmt.Errorf("integration %q does not have the inventory feature; turn it on with idwatch integrations update %s --features %s (and grant what idwatch verify lists)",
			in.Name, in.Name, set.With(feature.Inventory).Flag())
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	govs, err := okta.NewGovernorSet(okta.GovernorConfig{Share: 0.5, Logger: io.log})
	if err != nil {
		return nil, err
	}
	in, err = collect.EnsureDPoPKey(ctx, st, in)
	if err != nil {
		return nil, err
	}
	client, err := (&collect.Clients{Governors: govs, Logger: io.log, Dial: io.dial}).Client(in)
	if err != nil {
		return nil, err
	}
	return &inventory.Service{Store: st, IntegrationID: in.ID, Logger: io.log,
		Syncer: &inventory.Syncer{API: client, Config: cfg, ClientID: in.ClientID}}, nil
}

func formatCalls(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// inventoriesOf returns the integrations to read: the named one, or every one.
func inventoriesOf(ctx context.Context, st store.Store, name string) ([]store.Integration, error) {
	if name != "" {
		in, err := integration(ctx, st, name)
		return []store.Integration{in}, err
	}
	return st.ListIntegrations(ctx)
}

func inventoryUsers(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "inventory users", "inventory users [--integration N] [--admins] [--json] [--data-dir DIR]")
	c := addCommon(fs)
	name := fs.String("integration", "", "only this integration (name or id)")
	admins := fs.Bool("admins", false, "only users holding an admin role (directly or through a group)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	st, err := c.openStore(ctx, io, sqlite.KeyRead)
	if err != nil {
		return err
	}
	defer st.Close()
	ins, err := inventoriesOf(ctx, st, *name)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(io.out)
	tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
	if !c.json {
		fmt.Fprintln(tw, "INTEGRATION\tID\tLOGIN\tSTATUS\tROLES\tMFA\tAD SID\tLAST LOGIN")
	}
	shown := 0
	for _, in := range ins {
		snap, err := st.LoadInventory(ctx, in.ID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		for _, u := range snap.Users {
			id := inventory.IdentityOf(&snap, u)
			if *admins && !id.IsAdmin {
				continue
			}
			shown++
			if c.json {
				if err := enc.Encode(id); err != nil {
					return err
				}
				continue
			}
			var roles []string
			for _, r := range id.Roles {
				roles = append(roles, r.Type)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", in.Name, u.ID, u.Login, u.Status, orDash(strings.Join(roles, ",")),
				id.FactorStrength, orDash(u.ObjectSid), formatTime(u.LastLogin))
		}
	}
	if shown == 0 && !c.json {
		fmt.Fprintln(io.err, "no users in the inventory; run idwatch inventory sync --integration N (needs the inventory feature)")
		return nil
	}
	if c.json {
		return nil
	}
	return tw.Flush()
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

func inventoryUser(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "inventory user", "inventory user ID|LOGIN [--integration N] [--json] [--data-dir DIR]")
	c := addCommon(fs)
	name := fs.String("integration", "", "only this integration (name or id)")
	var who []string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		who, args = args[:1], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	who = append(who, fs.Args()...)
	if len(who) != 1 {
		return fmt.Errorf("%w: idwatch inventory user needs one user id or login", errUsage)
	}
	st, err := c.openStore(ctx, io, sqlite.KeyRead)
	if err != nil {
		return err
	}
	defer st.Close()
	ins, err := inventoriesOf(ctx, st, *name)
	if err != nil {
		return err
	}
	lk := &inventory.Lookup{Store: st}
	found := false
	for _, in := range ins {
		id, ok := lk.Lookup(ctx, in.ID, who[0])
		if !ok {
			continue
		}
		found = true
		if c.json {
			if err := json.NewEncoder(io.out).Encode(id); err != nil {
				return err
			}
			continue
		}
		printIdentity(io, in.Name, id)
	}
	if !found {
		return fmt.Errorf("no user %q in any inventory (idwatch inventory users lists them; run idwatch inventory sync first)", who[0])
	}
	return nil
}

func printIdentity(io stdio, integ string, id inventory.Identity) {
	tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, orDash(v)) }
	row("integration", integ)
	row("id", id.UserID)
	row("login", id.Login)
	row("name", id.DisplayName)
	row("status", id.Status)
	row("source", id.ProviderType)
	row("AD SID", id.ObjectSid)
	row("AD GUID", id.ObjectGuid)
	row("AD DN", id.DistinguishedName)
	var roles []string
	for _, r := range id.Roles {
		s := r.Type
		if r.GroupID != "" {
			s += " (via group " + r.GroupID + ")"
		}
		if r.ResourceSet != "" {
			s += " (role " + r.CustomRole + ", resource set " + r.ResourceSet + ")"
		}
		roles = append(roles, s)
	}
	row("admin roles", strings.Join(roles, "; "))
	var factors []string
	for _, f := range id.Factors {
		factors = append(factors, f.Type+"/"+f.Provider+" "+f.Status)
	}
	row("factor strength", id.FactorStrength)
	row("factors", strings.Join(factors, ", "))
	row("groups", strings.Join(id.Groups, ", "))
	tw.Flush()
}

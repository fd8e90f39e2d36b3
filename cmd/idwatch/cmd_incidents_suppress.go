package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/idwatch/idwatch/internal/server"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// whoAmI names the operating-system user for histories when --by is not given.
func whoAmI(by string) string {
	if by != "" {
		return by
	}
	if me, err := user.Current(); err == nil && me.Username != "" {
		return me.Username
	}
	return "cli"
}

// incidentsSuppress stops one rule's alerts about one entity of an incident from joining
// incidents from now on (a known-benign pattern), recorded in the incident's history.
func incidentsSuppress(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "incidents suppress", "incidents suppress ID --rule R --reason TEXT [--entity KIND:VALUE] [--until T] [--by NAME] [--data-dir DIR]")
	c := addCommon(fs)
	rule := fs.String("rule", "", "the rule id whose alerts to suppress (idwatch incidents show ID lists the incident's rules)")
	entity := fs.String("entity", "", "the entity the alerts are about, as kind:value (default: the incident's primary entity)")
	reason := fs.String("reason", "", "why the pattern is benign (kept in the incident's history)")
	until := fs.String("until", "", "end of the suppression: RFC 3339 time or a duration from now such as 30d (default: no end)")
	by := fs.String("by", "", "who suppresses (default: the operating-system user)")
	id, err := parseWithID(fs, args, "suppress")
	if err != nil {
		return err
	}
	if *rule == "" || strings.TrimSpace(*reason) == "" {
		return fmt.Errorf("%w: give --rule (a rule of the incident) and --reason", errUsage)
	}
	var expires time.Time
	if *until != "" {
		if expires, err = parseUntil(*until, time.Now()); err != nil {
			return err
		}
	}
	st, err := c.openStore(ctx, io, sqlite.KeyRead)
	if err != nil {
		return err
	}
	defer st.Close()
	in, err := st.GetIncident(ctx, id)
	if err != nil {
		return err
	}
	sup, err := server.NewSuppression(in, server.SuppressionInput{RuleID: *rule, Entity: *entity, Reason: *reason, Until: expires}, whoAmI(*by), time.Now())
	var re *server.RequestError
	if errors.As(err, &re) {
		return fmt.Errorf("%w: %s: %s", errUsage, re.Body.Message, re.Body.Fix)
	}
	if err != nil {
		return err
	}
	if sup, err = st.AddSuppression(ctx, sup); err != nil {
		return err
	}
	if c.json {
		return json.NewEncoder(io.out).Encode(sup)
	}
	end := "no end"
	if !sup.ExpiresAt.IsZero() {
		end = "until " + sup.ExpiresAt.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(io.out, "suppression %d: %s alerts about %s no longer join incidents (%s)\n", sup.ID, sup.RuleID, sup.Entity, end)
	return nil
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// incidentsSuppressions lists the alert-pattern suppressions.
func incidentsSuppressions(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "incidents suppressions", "incidents suppressions [--json] [--data-dir DIR]")
	c := addCommon(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	st, err := c.openStore(ctx, io, sqlite.KeyRead)
	if err != nil {
		return err
	}
	defer st.Close()
	sups, err := st.ListSuppressions(ctx)
	if err != nil {
		return err
	}
	if c.json {
		enc := json.NewEncoder(io.out)
		for _, s := range sups {
			if err := enc.Encode(s); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRULE\tENTITY\tINCIDENT\tBY\tUNTIL\tREASON")
	now := time.Now()
	for _, s := range sups {
		until := "-"
		if !s.ExpiresAt.IsZero() {
			until = s.ExpiresAt.UTC().Format(time.RFC3339)
			if !s.ExpiresAt.After(now) {
				until += " (expired)"
			}
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.RuleID, s.Entity, s.IncidentID, s.By, until, s.Reason)
	}
	return tw.Flush()
}

// incidentsUnsuppress removes a suppression; later alerts of its pattern join incidents again.
func incidentsUnsuppress(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "incidents unsuppress", "incidents unsuppress N [--data-dir DIR]")
	c := addCommon(fs)
	arg, err := parseWithID(fs, args, "unsuppress")
	if err != nil {
		return err
	}
	n, err := strconv.ParseInt(arg, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q is not a suppression number (idwatch incidents suppressions lists them)", errUsage, arg)
	}
	st, err := c.openStore(ctx, io, sqlite.KeyRead)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.RemoveSuppression(ctx, n); err != nil {
		return err
	}
	fmt.Fprintf(io.out, "suppression %d removed\n", n)
	return nil
}

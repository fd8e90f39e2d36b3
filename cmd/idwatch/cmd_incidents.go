package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/idwatch/idwatch/internal/incident"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

const incidentsUsage = "idwatch incidents list [--status S] [--json] | incidents show ID [--json] | incidents update ID [--status S] [--assignee A] [--note TEXT] | incidents suppress ID --rule R --reason TEXT | incidents suppressions | incidents unsuppress N"

func runIncidents(ctx context.Context, io stdio, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, incidentsUsage)
	}
	switch args[0] {
	case "list":
		return incidentsList(ctx, io, args[1:])
	case "show":
		return incidentsShow(ctx, io, args[1:])
	case "update":
		return incidentsUpdate(ctx, io, args[1:])
	case "suppress":
		return incidentsSuppress(ctx, io, args[1:])
	case "suppressions":
		return incidentsSuppressions(ctx, io, args[1:])
	case "unsuppress":
		return incidentsUnsuppress(ctx, io, args[1:])
	}
	return fmt.Errorf("%w: unknown subcommand %q: %s", errUsage, args[0], incidentsUsage)
}

func incidentsList(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "incidents list", "incidents list [--status S] [--json] [--limit N] [--data-dir DIR]")
	c := addCommon(fs)
	status := fs.String("status", "", "only incidents with this status: "+strings.Join(store.IncidentStatuses, ", "))
	limit := fs.Int("limit", 100, "at most this many incidents, highest risk first")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *limit < 1 || *limit > sqlite.MaxReadLimit {
		return fmt.Errorf("%w: --limit must be 1..%d", errUsage, sqlite.MaxReadLimit)
	}
	st, err := c.openStore(ctx, io, sqlite.KeyRead)
	if err != nil {
		return err
	}
	defer st.Close()
	incs, err := st.ListIncidents(ctx, *status, *limit)
	if err != nil {
		return err
	}
	if c.json {
		enc := json.NewEncoder(io.out)
		for _, in := range incs {
			if err := enc.Encode(in); err != nil {
				return err
			}
		}
		return nil
	}
	if len(incs) == 0 {
		fmt.Fprintln(io.err, "no incidents")
		return nil
	}
	tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRISK\tSEVERITY\tSTATUS\tASSIGNEE\tENTITY\tALERTS\tLAST ALERT")
	for _, in := range incs {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%d\t%s\n", in.ID, in.Risk, in.Severity, in.Status, orDash(in.Assignee),
			in.Entity, len(in.Alerts), in.LastAlert.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

// parseWithID parses the flags of show and update, which take one incident id before or
// after them.
func parseWithID(fs *flag.FlagSet, args []string, what string) (string, error) {
	var ids []string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		ids, args = args[:1], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return "", err
	}
	ids = append(ids, fs.Args()...)
	if len(ids) != 1 {
		return "", fmt.Errorf("%w: idwatch incidents %s needs one incident id (idwatch incidents list shows them)", errUsage, what)
	}
	return ids[0], nil
}

func incidentsShow(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "incidents show", "incidents show ID [--json] [--data-dir DIR]")
	c := addCommon(fs)
	id, err := parseWithID(fs, args, "show")
	if err != nil {
		return err
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
	if c.json {
		return json.NewEncoder(io.out).Encode(in)
	}
	return printIncident(ctx, io, st, in)
}

// printIncident writes an incident with its timeline of alerts, each with what it added to the
// risk, and its history.
func printIncident(ctx context.Context, io stdio, st store.Store, in store.Incident) error {
	var g incident.Incident
	if err := json.Unmarshal(in.Detail, &g); err != nil {
		return fmt.Errorf("incident %s: stored detail does not decode: %w", in.ID, err)
	}
	w := io.out
	fmt.Fprintf(w, "Incident %s\n", in.ID)
	fmt.Fprintf(w, "  entity:    %s\n", in.Entity)
	if len(g.Entities) > 1 {
		var es []string
		for _, e := range g.Entities {
			es = append(es, string(e))
		}
		fmt.Fprintf(w, "  linked:    %s\n", strings.Join(es, ", "))
	}
	fmt.Fprintf(w, "  status:    %s\n  assignee:  %s\n", in.Status, orDash(in.Assignee))
	fmt.Fprintf(w, "  risk:      %d (%s)", in.Risk, in.Severity)
	if g.Stage != "" {
		fmt.Fprintf(w, ", reached %s", g.Stage)
	}
	fmt.Fprintf(w, "\n  alerts:    %d, %s .. %s\n\nTimeline\n", len(in.Alerts),
		in.FirstAlert.UTC().Format(time.RFC3339), in.LastAlert.UTC().Format(time.RFC3339))
	times := map[string]store.Alert{}
	if list, err := st.ListAlerts(ctx, in.FirstAlert, sqlite.MaxReadLimit); err == nil {
		for _, a := range list {
			times[a.ID] = a
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  TIME\tSEVERITY\tRULE\tGROUP\t+RISK\tWHY")
	for _, c := range g.Contributions {
		a, ok := times[c.AlertID]
		at, sev, title, group := "(alert trimmed)", "-", c.RuleID, "-"
		if ok {
			at, sev, group = a.Time.UTC().Format(time.RFC3339), a.Severity, orDash(a.GroupKey)
			if t := ruleTitle(a.Body); t != "" {
				title = t
			}
		}
		why := fmt.Sprintf("rule %d", c.Rule)
		if c.Entities > 0 {
			why += fmt.Sprintf(", entities %d", c.Entities)
		}
		if c.Stage > 0 {
			why += fmt.Sprintf(", stage %d (%s)", c.Stage, c.Reached)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%s\n", at, sev, title, group, c.Points, why)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nHistory")
	for _, h := range in.History {
		fmt.Fprintf(w, "  %s  %-8s  %-9s %s\n", h.At.UTC().Format(time.RFC3339), h.By, h.Kind, h.Text)
	}
	return nil
}

func incidentsUpdate(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "incidents update", "incidents update ID [--status S] [--assignee A] [--note TEXT] [--by NAME] [--data-dir DIR]")
	c := addCommon(fs)
	status := fs.String("status", "", "new status: "+strings.Join(store.IncidentStatuses, ", "))
	assignee := fs.String("assignee", "", "assign to this analyst (--assignee= clears)")
	note := fs.String("note", "", "add a note to the history")
	by := fs.String("by", "", "who makes the change (default: the operating-system user)")
	id, err := parseWithID(fs, args, "update")
	if err != nil {
		return err
	}
	u := store.IncidentUpdate{By: *by, Status: *status, Note: *note}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "assignee" {
			u.Assignee = assignee
		}
	})
	if u.Status == "" && u.Assignee == nil && u.Note == "" {
		return fmt.Errorf("%w: nothing to update: give --status, --assignee or --note", errUsage)
	}
	u.By = whoAmI(u.By)
	st, err := c.openStore(ctx, io, sqlite.KeyRead)
	if err != nil {
		return err
	}
	defer st.Close()
	in, err := st.UpdateIncident(ctx, id, u)
	if err != nil {
		return err
	}
	if c.json {
		return json.NewEncoder(io.out).Encode(in)
	}
	fmt.Fprintf(io.out, "incident %s: %s, assignee %s, risk %d (%s)\n", in.ID, in.Status, orDash(in.Assignee), in.Risk, in.Severity)
	if in.Status == store.IncidentResolved || in.Status == store.IncidentFalsePositive {
		fmt.Fprintln(io.err, "its alerts that were still open are resolved too (idwatch alerts list --status resolved)")
	}
	return nil
}

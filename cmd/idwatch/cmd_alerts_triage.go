package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/idwatch/idwatch/internal/search"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

const alertsUsage = "idwatch alerts list [--since T] [--status S] [--severity S] [--rule R] [--limit N] | alerts show ID | alerts ack|resolve|suppress ID... [--note TEXT] [--by NAME] [--reason TEXT] [--until T]"

func alertsList(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "alerts list", "alerts list [--since T] [--until T] [--status S] [--severity S] [--rule R] [--integration N] [--identity U] [--limit N] [--cursor C] [--json] [--data-dir DIR]")
	c := addCommon(fs) // --json: one JSON object per alert, with its Detection Finding in body
	var statuses, severities, rules, integrations listFlag
	fs.Var(&statuses, "status", "only alerts with these statuses: "+strings.Join(store.AlertStatuses, ", "))
	fs.Var(&severities, "severity", "only alerts of these severities (informational, low, medium, high, critical)")
	fs.Var(&rules, "rule", "only alerts of these rule ids")
	fs.Var(&integrations, "integration", "only alerts of these integrations (name or id)")
	identity := fs.String("identity", "", "only alerts about this user (login or Okta id)")
	sinceS := fs.String("since", "", "only alerts at or after this time: RFC 3339 or a duration back from now (90m, 7d)")
	untilS := fs.String("until", "", "only alerts before this time")
	limit := fs.Int("limit", 100, "at most this many alerts, newest first")
	cursor := fs.String("cursor", "", "continue after the last alert a previous list printed (same filters)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *limit < 1 || *limit > sqlite.MaxReadLimit {
		return fmt.Errorf("%w: --limit must be 1..%d", errUsage, sqlite.MaxReadLimit)
	}
	q := store.AlertQuery{Statuses: statuses, Severities: severities, Rules: rules, Identity: *identity, Cursor: *cursor}
	now := time.Now()
	for _, f := range []struct {
		text string
		to   *time.Time
	}{{*sinceS, &q.Since}, {*untilS, &q.Until}} {
		if f.text == "" {
			continue
		}
		var err error
		if *f.to, err = parseTime(f.text, now); err != nil {
			return err
		}
	}
	st, err := c.openStore(ctx, io, sqlite.KeyRead)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, name := range integrations {
		in, err := integration(ctx, st, name)
		if err != nil {
			return err
		}
		q.Integrations = append(q.Integrations, in.ID)
	}
	var alerts []store.TriagedAlert
	next := ""
	for len(alerts) < *limit {
		q.Limit = min(*limit-len(alerts), store.MaxSearchLimit)
		page, err := st.SearchAlerts(ctx, q)
		if errors.Is(err, store.ErrInvalid) {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		if err != nil {
			return err
		}
		alerts = append(alerts, page.Alerts...)
		if next = page.Next; next == "" {
			break
		}
		q.Cursor = next
	}
	names := integrationNames(ctx, st)
	rows := make([]alertRow, 0, len(alerts))
	for _, a := range alerts {
		rows = append(rows, alertRow{TriagedAlert: a, IntegrationName: names[a.IntegrationID], RuleTitle: ruleTitle(a.Body)})
	}
	if c.json {
		enc := json.NewEncoder(io.out)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
	} else if len(rows) == 0 {
		fmt.Fprintln(io.err, "no alerts")
	} else {
		tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tSEVERITY\tSTATUS\tINTEGRATION\tRULE\tRULE ID\tGROUP\tID")
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Time.UTC().Format(time.RFC3339), r.Severity, r.Status, nameOrID(names, r.IntegrationID),
				orDash(r.RuleTitle), r.RuleID, orDash(r.GroupKey), r.ID)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if next != "" && len(alerts) == *limit {
		fmt.Fprintf(io.err, "more alerts: --cursor %s\n", next)
	}
	return nil
}

// parseWithIDs parses flags around one or more alert ids.
func parseWithIDs(fs *flag.FlagSet, args []string, what string, one bool) ([]string, error) {
	// Ids and flags may come in any order: parse, take the ids up to the next flag, repeat.
	var ids []string
	for {
		for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			ids, args = append(ids, args[0]), args[1:]
		}
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		if args = fs.Args(); len(args) == 0 {
			break
		}
	}
	if len(ids) == 0 || (one && len(ids) != 1) {
		n := "one or more alert ids"
		if one {
			n = "one alert id"
		}
		return nil, fmt.Errorf("%w: idwatch alerts %s needs %s (idwatch alerts list shows them)", errUsage, what, n)
	}
	return ids, nil
}

func alertsShow(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "alerts show", "alerts show ID [--json] [--data-dir DIR]")
	c := addCommon(fs)
	ids, err := parseWithIDs(fs, args, "show", true)
	if err != nil {
		return err
	}
	st, err := c.openStore(ctx, io, sqlite.KeyRead)
	if err != nil {
		return err
	}
	defer st.Close()
	d, err := search.New(st).AlertDetail(ctx, ids[0], search.MaxEvidence)
	if err != nil {
		return err
	}
	if c.json {
		return json.NewEncoder(io.out).Encode(d)
	}
	names := integrationNames(ctx, st)
	w := io.out
	fmt.Fprintf(w, "alert %s\n  rule:        %s (%s)\n  severity:    %s\n  status:      %s", d.ID, orDash(ruleTitle(d.Body)), d.RuleID, d.Severity, d.Status)
	if d.Status == store.AlertSuppressed {
		fmt.Fprintf(w, " (%s", d.Reason)
		if !d.SuppressedUntil.IsZero() {
			fmt.Fprintf(w, ", until %s", d.SuppressedUntil.UTC().Format(time.RFC3339))
		}
		fmt.Fprint(w, ")")
	}
	fmt.Fprintf(w, "\n  time:        %s\n  integration: %s\n  group:       %s\n", d.Time.UTC().Format(time.RFC3339), nameOrID(names, d.IntegrationID), orDash(d.GroupKey))
	if len(d.Attacks) > 0 {
		fmt.Fprintln(w, "ATT&CK:")
		for _, a := range d.Attacks {
			fmt.Fprintf(w, "  %s\n", attackLine(a))
		}
	}
	fmt.Fprintf(w, "evidence (%d events", d.EvidenceTotal)
	if len(d.Missing) > 0 {
		fmt.Fprintf(w, ", %d no longer in the journal", len(d.Missing))
	}
	fmt.Fprintln(w, "):")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, e := range d.Evidence {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%d OCSF records\n", e.Seq, e.EventType, e.UUID, len(e.OCSF))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "history:")
	if len(d.History) == 0 {
		fmt.Fprintln(w, "  (no changes)")
	}
	for _, h := range d.History {
		change := h.From + " → " + h.To
		if h.From == h.To {
			change = "note"
		}
		fmt.Fprintf(w, "  %s  %s  %s", h.At.UTC().Format(time.RFC3339), h.By, change)
		if h.Reason != "" {
			fmt.Fprintf(w, "  reason: %s", h.Reason)
		}
		if !h.Until.IsZero() {
			fmt.Fprintf(w, "  until %s", h.Until.UTC().Format(time.RFC3339))
		}
		if h.Note != "" {
			fmt.Fprintf(w, "  %q", h.Note)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(io.err, "the evidence events in full, raw and OCSF: idwatch alerts show "+d.ID+" --json")
	return nil
}

// attackLine renders one OCSF attack object: technique, sub-technique and tactics.
func attackLine(raw json.RawMessage) string {
	var a struct {
		Technique struct {
			UID string `json:"uid"`
		} `json:"technique"`
		Sub struct {
			UID string `json:"uid"`
		} `json:"sub_technique"`
		Tactics []struct {
			UID  string `json:"uid"`
			Name string `json:"name"`
		} `json:"tactics"`
	}
	if json.Unmarshal(raw, &a) != nil {
		return string(raw)
	}
	parts := []string{orDash(firstNonEmpty(a.Sub.UID, a.Technique.UID))}
	for _, t := range a.Tactics {
		parts = append(parts, t.UID+" "+t.Name)
	}
	return strings.Join(parts, "  ")
}

var statusOf = map[string]string{"ack": store.AlertAcknowledged, "resolve": store.AlertResolved, "suppress": store.AlertSuppressed}

func alertsSetStatus(ctx context.Context, io stdio, verb string, args []string) error {
	synopsis := "alerts " + verb + " ID... [--note TEXT] [--by NAME] [--json] [--data-dir DIR]"
	if verb == "suppress" {
		synopsis = "alerts suppress ID... --reason TEXT [--until T] [--note TEXT] [--by NAME] [--json] [--data-dir DIR]"
	}
	fs := newFlagSet(io, "alerts "+verb, synopsis)
	c := addCommon(fs)
	note := fs.String("note", "", "a note for the alert's history")
	by := fs.String("by", "", "who makes the change (default: the operating-system user)")
	var reason, untilS *string
	if verb == "suppress" {
		reason = fs.String("reason", "", "why the alert is suppressed (required; --note is taken when it is not given)")
		untilS = fs.String("until", "", "end the suppression at this time: RFC 3339 or a duration ahead (90m, 7d)")
	}
	ids, err := parseWithIDs(fs, args, verb, false)
	if err != nil {
		return err
	}
	ch := store.AlertStatusChange{Status: statusOf[verb], By: *by, Note: *note}
	if verb == "suppress" {
		ch.Reason = firstNonEmpty(*reason, *note)
		if ch.Reason == "" {
			return fmt.Errorf("%w: alerts suppress needs --reason (why these alerts do not need attention)", errUsage)
		}
		if *untilS != "" {
			if ch.Until, err = parseUntil(*untilS, time.Now()); err != nil {
				return err
			}
		}
	}
	if ch.By == "" {
		ch.By = "cli"
		if me, err := user.Current(); err == nil && me.Username != "" {
			ch.By = me.Username
		}
	}
	st, err := c.openStore(ctx, io, sqlite.KeyRead)
	if err != nil {
		return err
	}
	defer st.Close()
	out, err := st.SetAlertStatus(ctx, ids, ch)
	if errors.Is(err, store.ErrInvalid) {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if err != nil {
		return err
	}
	for _, a := range out {
		if c.json {
			if err := json.NewEncoder(io.out).Encode(a); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(io.out, "alert %s: %s\n", a.ID, a.Status)
	}
	return nil
}

// parseUntil reads an end time: RFC 3339, or a duration ahead of now (7d, 90m).
func parseUntil(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	d, err := parseAgo(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: --until %q is neither RFC 3339 (2026-03-01T00:00:00Z) nor a duration ahead (90m, 7d)", errUsage, s)
	}
	return now.Add(d), nil
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/normalize"
	"github.com/idwatch/idwatch/internal/search"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

const searchUsage = "events search [--since T] [--until T] [--integration N] [--type T] [--actor A] [--target X] [--ip IP] [--outcome O] [--query Q] [--limit N] [--schema S] [--order newest|oldest] [--cursor C] [--format raw|ocsf] [--json]"

// listFlag is a flag that may be repeated and takes comma-separated values.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// searchOutput is events search --json: one page, as the API returns it.
type searchOutput struct {
	Events  []json.RawMessage `json:"events"`
	Next    string            `json:"next,omitempty"`
	Partial bool              `json:"partial,omitempty"`
	Scanned int               `json:"scanned,omitempty"`
}

func runEventsSearch(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "events search", searchUsage)
	c := addCommon(fs)
	var integrations, types, outcomes, schemas listFlag
	fs.Var(&integrations, "integration", "only these integrations' events (name or id; repeat or comma-separate)")
	fs.Var(&types, "type", "only these event types; a trailing .* matches a family: user.session.* (repeat or comma-separate)")
	fs.Var(&outcomes, "outcome", "only these outcomes: SUCCESS, FAILURE, ALLOW, DENY, CHALLENGE, SKIPPED, UNKNOWN")
	fs.Var(&schemas, "schema", "only events normalized to these schemas: auth, cloudaudit, generic")
	sinceS := fs.String("since", "", "only events published at or after: RFC 3339 or a duration back from now (90m, 7d)")
	untilS := fs.String("until", "", "only events published before: RFC 3339 or a duration back from now")
	actor := fs.String("actor", "", "only events whose actor's id or alternateId (login) is this")
	target := fs.String("target", "", "only events with a target whose id or alternateId is this")
	ip := fs.String("ip", "", "only events from this client IP address")
	text := fs.String("query", "", "only events whose raw JSON contains this text (case-insensitive)")
	limit := fs.Int("limit", store.DefaultSearchLimit, fmt.Sprintf("events per page, 1..%d", store.MaxSearchLimit))
	order := fs.String("order", "newest", "newest: newest first; oldest: oldest first")
	cursor := fs.String("cursor", "", "continue from the next cursor a previous page printed (same filters)")
	format := fs.String("format", "raw", "raw: Okta LogEvent JSON; ocsf: the event's OCSF records (JSON lines, or arrays with --json)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *format != "raw" && *format != "ocsf" {
		return fmt.Errorf("%w: --format %q is not raw or ocsf", errUsage, *format)
	}
	if *order != "newest" && *order != "oldest" {
		return fmt.Errorf("%w: --order %q is not newest or oldest", errUsage, *order)
	}
	if *limit < 1 || *limit > store.MaxSearchLimit {
		return fmt.Errorf("%w: --limit must be 1..%d", errUsage, store.MaxSearchLimit)
	}
	q := search.EventQuery{Types: types, Schemas: schemas}
	q.Actor, q.Target, q.IP, q.Text, q.Outcomes = *actor, *target, *ip, *text, outcomes
	q.Limit, q.Cursor, q.Oldest = *limit, *cursor, *order == "oldest"
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
	page, err := search.New(st).SearchEvents(ctx, q)
	if errors.Is(err, store.ErrInvalid) {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if err != nil {
		return err
	}
	return writeSearchPage(io, page, *format, c.json, integrationNames(ctx, st))
}

// writeSearchPage prints a page: --json as one object (the API's shape), OCSF as JSON lines,
// raw as a table; the next cursor goes to stderr outside --json.
func writeSearchPage(io stdio, page store.EventPage, format string, asJSON bool, names map[int64]string) error {
	w := bufio.NewWriter(io.out)
	var n *normalize.Normalizer
	if format == "ocsf" {
		n = normalize.New()
	}
	switch {
	case asJSON:
		out := searchOutput{Events: make([]json.RawMessage, 0, len(page.Events)), Next: page.Next, Partial: page.Partial, Scanned: page.Scanned}
		for _, e := range page.Events {
			if n == nil {
				out.Events = append(out.Events, search.RawJSON(e.Raw))
				continue
			}
			recs, err := search.OCSF(e, n)
			if err != nil {
				fmt.Fprintf(io.err, "idwatch events search: %v; it has no OCSF records\n", err)
			}
			b, err := json.Marshal(recs)
			if err != nil {
				return err
			}
			out.Events = append(out.Events, b)
		}
		if err := json.NewEncoder(w).Encode(out); err != nil {
			return err
		}
	case n != nil:
		for _, e := range page.Events {
			recs, err := search.OCSF(e, n)
			if err != nil {
				fmt.Fprintf(io.err, "idwatch events search: %v; it has no OCSF records\n", err)
			}
			for _, r := range recs {
				w.Write(r)
				w.WriteByte('\n')
			}
		}
	default:
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		if len(page.Events) > 0 {
			fmt.Fprintln(tw, "PUBLISHED\tINTEGRATION\tEVENT TYPE\tOUTCOME\tACTOR\tIP\tTARGETS\tUUID")
		}
		for _, e := range page.Events {
			outcome, actor, ip, targets := "-", "-", "-", "-"
			if ev, err := event.DecodeOwned(e.Raw); err == nil {
				if ev.Outcome != nil && ev.Outcome.Result != "" {
					outcome = ev.Outcome.Result
				}
				if ev.Actor != nil {
					actor = orDash(firstNonEmpty(ev.Actor.AlternateID, ev.Actor.ID))
				}
				if ev.Client != nil {
					ip = orDash(ev.Client.IPAddress)
				}
				var ts []string
				for _, t := range ev.Target {
					ts = append(ts, firstNonEmpty(t.AlternateID, t.ID))
				}
				if len(ts) > 0 {
					targets = strings.Join(ts, ",")
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Published.UTC().Format(time.RFC3339Nano), nameOrID(names, e.IntegrationID),
				e.EventType, outcome, actor, ip, targets, e.UUID)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if asJSON {
		return nil
	}
	if len(page.Events) == 0 && !page.Partial {
		fmt.Fprintln(io.err, "no events match")
	}
	if page.Partial {
		fmt.Fprintf(io.err, "examined %d events for the text without filling the page; narrow the search or continue with the cursor below\n", page.Scanned)
	}
	if page.Next != "" {
		fmt.Fprintf(io.err, "next page: --cursor %s\n", page.Next)
	}
	return nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/idwatch/idwatch/internal/store/sqlite"
)

func runAlerts(ctx context.Context, io stdio, args []string) error {
	if len(args) == 0 || args[0] != "list" {
		return fmt.Errorf("%w: idwatch alerts list [--since T] [--json] [--limit N] [--data-dir DIR]", errUsage)
	}
	fs := newFlagSet(io, "alerts list", "alerts list [--since T] [--json] [--limit N] [--data-dir DIR]")
	c := addCommon(fs) // --data-dir, --json (one JSON object per alert, with its Detection Finding in body)
	since := fs.String("since", "", "only alerts at or after this time: RFC 3339 or a duration back from now (90m, 7d)")
	limit := fs.Int("limit", 100, "at most this many alerts, newest first")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *limit < 1 || *limit > sqlite.MaxReadLimit {
		return fmt.Errorf("%w: --limit must be 1..%d", errUsage, sqlite.MaxReadLimit)
	}
	var from time.Time
	if *since != "" {
		t, err := parseTime(*since, time.Now())
		if err != nil {
			return err
		}
		from = t
	}
	st, err := c.openStore(ctx, io, sqlite.KeyRead)
	if err != nil {
		return err
	}
	defer st.Close()
	alerts, err := st.ListAlerts(ctx, from, *limit)
	if err != nil {
		return err
	}
	if c.json {
		enc := json.NewEncoder(io.out)
		for _, a := range alerts {
			if err := enc.Encode(a); err != nil {
				return err
			}
		}
		return nil
	}
	if len(alerts) == 0 {
		fmt.Fprintln(io.err, "no alerts")
		return nil
	}
	tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tSEVERITY\tINTEGRATION\tRULE\tTITLE\tGROUP")
	for _, a := range alerts {
		var f struct {
			FindingInfo struct {
				Title string `json:"title"`
			} `json:"finding_info"`
		}
		_ = json.Unmarshal(a.Body, &f) // a body without a title shows an empty column
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", a.Time.UTC().Format(time.RFC3339), a.Severity, a.IntegrationID, a.RuleID,
			f.FindingInfo.Title, a.GroupKey)
	}
	return tw.Flush()
}

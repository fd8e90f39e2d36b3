package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/idwatch/idwatch/internal/store"
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
	names := integrationNames(ctx, st)
	rows := make([]alertRow, 0, len(alerts))
	for _, a := range alerts {
		rows = append(rows, alertRow{Alert: a, IntegrationName: names[a.IntegrationID], RuleTitle: ruleTitle(a.Body)})
	}
	if c.json {
		enc := json.NewEncoder(io.out)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	if len(rows) == 0 {
		fmt.Fprintln(io.err, "no alerts")
		return nil
	}
	tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tSEVERITY\tINTEGRATION\tRULE\tRULE ID\tGROUP")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Time.UTC().Format(time.RFC3339), r.Severity, nameOrID(names, r.IntegrationID),
			orDash(r.RuleTitle), r.RuleID, orDash(r.GroupKey))
	}
	return tw.Flush()
}

// alertRow is one line of alerts list --json: the stored alert with the names a reader needs.
type alertRow struct {
	store.Alert
	IntegrationName string `json:"integrationName,omitempty"`
	RuleTitle       string `json:"ruleTitle,omitempty"`
}

// ruleTitle is the title of the rule behind a Detection Finding ("" when the body has none).
func ruleTitle(body []byte) string {
	var f struct {
		FindingInfo struct {
			Title    string `json:"title"`
			Analytic struct {
				Name string `json:"name"`
			} `json:"analytic"`
		} `json:"finding_info"`
	}
	if json.Unmarshal(body, &f) != nil {
		return ""
	}
	return cmp.Or(f.FindingInfo.Analytic.Name, f.FindingInfo.Title)
}

// integrationNames maps integration ids to names. Listing works for integrations whose
// credentials cannot be opened too; on a failure the tables show ids.
func integrationNames(ctx context.Context, st store.Integrations) map[int64]string {
	names := map[int64]string{}
	if ins, err := st.ListIntegrations(ctx); err == nil {
		for _, in := range ins {
			names[in.ID] = in.Name
		}
	}
	return names
}

// nameOrID is the integration's name, or its id when it has been removed since.
func nameOrID(names map[int64]string, id int64) string {
	if n := names[id]; n != "" {
		return n
	}
	return fmt.Sprintf("%d (removed)", id)
}

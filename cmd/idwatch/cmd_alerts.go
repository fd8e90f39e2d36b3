package main

import (
	"context"
	"fmt"

	"github.com/idwatch/idwatch/internal/search"
	"github.com/idwatch/idwatch/internal/store"
)

func runAlerts(ctx context.Context, io stdio, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, alertsUsage)
	}
	switch args[0] {
	case "list":
		return alertsList(ctx, io, args[1:])
	case "show":
		return alertsShow(ctx, io, args[1:])
	case "ack", "resolve", "suppress":
		return alertsSetStatus(ctx, io, args[0], args[1:])
	}
	return fmt.Errorf("%w: unknown subcommand %q: %s", errUsage, args[0], alertsUsage)
}

// alertRow is one line of alerts list --json: the stored alert with the names a reader needs.
type alertRow struct {
	store.TriagedAlert
	IntegrationName string `json:"integrationName,omitempty"`
	RuleTitle       string `json:"ruleTitle,omitempty"`
}

// ruleTitle is the title of the rule behind a Detection Finding ("" when the body has none).
func ruleTitle(body []byte) string { return search.Summarize(body).Title }

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

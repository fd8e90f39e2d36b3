package okta_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/idwatch/idwatch/internal/okta"
)

// The collector's polling loop in miniature: one governor per org shared by every client, the
// first URL built from a query, then only the server's next links, persisted with each page.
func Example_pollSystemLog() {
	govs, _ := okta.NewGovernorSet(okta.GovernorConfig{Share: 0.5})
	org, err := okta.ParseOrgURL("https://acme.okta.com")
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := okta.New(okta.Config{
		OrgURL:      org.String(),
		Credentials: okta.Credentials{APIToken: "00a…"},
		Governor:    govs.For(org),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	const limit = 1000
	cursor, _ := c.LogsURL(okta.LogsQuery{Since: time.Now().Add(-time.Hour), Limit: limit})
	for ctx.Err() == nil {
		page, err := c.Logs(ctx, cursor)
		var apiErr *okta.APIError
		switch {
		case errors.As(err, &apiErr):
			fmt.Println(apiErr.Kind, apiErr.Fix())
			return
		case err != nil: // network trouble or a malformed page: retry later from the same cursor
			return
		}
		// Store page.Items and page.Next in one transaction, then:
		cursor = page.Next
		if len(page.Items) < limit || page.NextIsSelf {
			return // caught up: the collector waits one poll interval (on its clock) before the next call
		}
	}
}

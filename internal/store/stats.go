package store

import "context"

// AlertCount is how many stored alerts share a severity and a rule.
type AlertCount struct {
	Severity string
	RuleID   string
	Count    int64
}

// Stats are the aggregate counts the metrics endpoint reads at each scrape.
type Stats interface {
	// CountAlerts counts the stored alerts by severity and rule.
	CountAlerts(ctx context.Context) ([]AlertCount, error)
	// CountDeadLetters counts the dead letters of each sink.
	CountDeadLetters(ctx context.Context) (map[string]int64, error)
}

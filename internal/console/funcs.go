package console

import (
	"fmt"
	"html/template"
	"math"
	"net/url"
	"strings"
	"time"
)

// flashes are the fixed confirmations a redirect can show (?done=code); codes, not text, so a
// crafted link cannot put words on the page.
var flashes = map[string]string{
	"enabled":            "Integration enabled; collection starts within seconds.",
	"disabled":           "Integration disabled; collection stopped.",
	"rotated":            "Credentials replaced; the cursor is kept.",
	"backfill":           "Backfill started.",
	"ack":                "Alert acknowledged.",
	"resolve":            "Alert resolved.",
	"suppress":           "Alert suppressed.",
	"note":               "Note added.",
	"incident":           "Incident updated.",
	"suppressed-pattern": "Pattern suppressed: its alerts no longer join incidents.",
	"rule-on":            "Rule enabled.",
	"rule-off":           "Rule disabled.",
	"replayed":           "Dead letters queued for delivery again.",
	"revoked":            "API key revoked; its sessions are signed out.",
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// flash reads the confirmation named by ?done=.
func flash(q url.Values) string { return flashes[q.Get("done")] }

func (c *console) funcs() template.FuncMap {
	return template.FuncMap{
		"url":    c.url,
		"spark":  Sparkline,
		"bars":   Bars,
		"sevbar": SeverityBar,
		"can": func(p Principal, role string) bool {
			return p.Role.rank() >= Role(role).rank()
		},
		"ago": func(t time.Time) string {
			if t.IsZero() {
				return "never"
			}
			return humanDuration(c.o.Now().Sub(t)) + " ago"
		},
		"dur": func(d time.Duration) string {
			if d <= 0 {
				return "0s"
			}
			return humanDuration(d)
		},
		"ts": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04:05Z")
		},
		"iso": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format(time.RFC3339)
		},
		"pct": func(f float64) string {
			if math.IsNaN(f) || f < 0 {
				f = 0
			}
			return fmt.Sprintf("%.0f%%", f*100)
		},
		"stateWord":  stateWord,
		"stateClass": stateClass,
		"authWord": func(a string) string {
			if a == "service_app" {
				return "Service app (JWT + DPoP)"
			}
			return "API token"
		},
		"last": func(vals []float64) float64 {
			if len(vals) == 0 {
				return 0
			}
			return vals[len(vals)-1]
		},
		"join":       strings.Join,
		"list":       func(s ...string) []string { return s },
		"severities": func() []string { return severityOrder },
		"count":      func(m map[string]int, k string) int { return m[k] },
		"lines":      func(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") },
		"inc":        func(i int) int { return i + 1 },
		"sub":        func(a, b int) int { return a - b },
		"tactic":     tacticName,
		"head":       func(n int, s []string) []string { return s[:min(n, len(s))] },
		"hasLine": func(ps []RuleProblem, line int) []RuleProblem {
			var out []RuleProblem
			for _, p := range ps {
				if p.Line == line {
					out = append(out, p)
				}
			}
			return out
		},
		"checkWord": func(s string) string {
			switch s {
			case "pass":
				return "Passed"
			case "fail":
				return "Failed"
			case "warn":
				return "Warning"
			case "skip":
				return "Skipped"
			}
			return "Running"
		},
		"rowsv": func(p Principal, rows []IntegrationRow) rowsView { return rowsView{P: p, Rows: rows} },
		"host": func(u string) string {
			if x, err := url.Parse(u); err == nil && x.Host != "" {
				return x.Host
			}
			return u
		},
		"thousands": thousands,
		"fmtf":      func(v float64) string { return fmt.Sprintf("%.0f", v) },
	}
}

// stateWord names a health state for people.
func stateWord(s string) string {
	switch s {
	case StateCollecting:
		return "Collecting"
	case StateVerifying:
		return "Verifying"
	case StateBackingOff:
		return "Backing off"
	case StateFailing:
		return "Failing"
	case StateDisabled:
		return "Disabled"
	case StateBackfilling:
		return "Backfilling"
	case "":
		return "Unknown"
	}
	return strings.ToUpper(s[:1]) + strings.ReplaceAll(s[1:], "_", " ")
}

// stateClass maps a state to its colour: ok, warn, bad or off. Colour is never the only cue; the
// word is always shown with it.
func stateClass(s string) string {
	switch s {
	case StateCollecting, "delivering", "pass", "open", "done":
		return "ok"
	case StateVerifying, StateBackfilling, StateBackingOff, "retrying", "warn", "acknowledged", "running":
		return "warn"
	case StateFailing, "fail", "failed":
		return "bad"
	}
	return "off"
}

// humanDuration writes d as the one or two largest units.
func humanDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm %ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// pathEsc escapes one path segment.
func pathEsc(s string) string { return url.PathEscape(s) }

// parseWhen reads a time the way the CLI does: RFC 3339, a date, a datetime-local value, or a
// duration back from now (90m, 36h, 7d). An empty string is the zero time.
func parseWhen(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(n, "%d", &days); err == nil && days >= 0 && days <= 36500 && fmt.Sprint(days) == n {
			return now.Add(-time.Duration(days) * 24 * time.Hour), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("time %q: want RFC 3339, a date or a duration like 90m or 7d", s)
	}
	return now.Add(-d), nil
}

// thousands writes n with comma grouping (1,482,113).
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// tacticName writes an ATT&CK tactic as the matrix does: "defense-evasion" → "Defense Evasion".
func tacticName(s string) string {
	words := strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '_' || r == ' ' })
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}

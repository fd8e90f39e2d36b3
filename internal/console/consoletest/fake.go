// Package consoletest is an in-memory console.Backend with a realistic org's worth of data, for
// the console's tests and for trying the pages without a server.
package consoletest

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/idwatch/idwatch/internal/console"
)

// Keys are the API keys the fake accepts, one per role.
const (
	AdminKey   = "idw_admin_0123456789abcdef0123456789abcdef"
	AnalystKey = "idw_analyst_0123456789abcdef0123456789abcd"
	ViewerKey  = "idw_viewer_0123456789abcdef0123456789abcde"
)

// WrongKeyMarker in a pasted private key makes the fake's credential check fail, as a key Okta
// does not know would.
const WrongKeyMarker = "WRONG"

// Backend is the fake. Its fields may be set before use; methods are safe for concurrent use.
type Backend struct {
	// Now is the clock the seeded data is placed around.
	Now func() time.Time
	// CheckGap is how long each verification check takes, so the checklist streams visibly.
	CheckGap time.Duration

	mu           sync.Mutex
	keys         map[string]console.APIKeyRow // by key
	integrations []console.IntegrationDetail
	alerts       []console.AlertDetail
	events       []console.EventRow
	rules        []console.RuleRow
	sinks        []console.SinkRow
	letters      map[string][]console.DeadLetter
	incidents    []console.IncidentDetail
	responses    []console.ResponseDetail
	// Actions records every change made, "who: what", for tests to assert on.
	actions []string
}

// New returns a fake seeded around now.
func New(now func() time.Time) *Backend {
	b := &Backend{Now: now, letters: map[string][]console.DeadLetter{}}
	b.seed()
	return b
}

// Actions returns the changes made so far.
func (b *Backend) Actions() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.actions)
}

func (b *Backend) record(by console.Principal, format string, args ...any) {
	b.actions = append(b.actions, by.Name+": "+fmt.Sprintf(format, args...))
}

// Authenticate implements console.Backend.
func (b *Backend) Authenticate(ctx context.Context, key string) (console.Principal, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	k, ok := b.keys[key]
	if !ok || k.Revoked {
		return console.Principal{}, console.ErrUnauthenticated
	}
	return console.Principal{Name: k.Name, Role: k.Role}, nil
}

// Integrations implements console.Backend.
func (b *Backend) Integrations(ctx context.Context) ([]console.IntegrationRow, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]console.IntegrationRow, len(b.integrations))
	for i, in := range b.integrations {
		out[i] = in.IntegrationRow
	}
	return out, nil
}

// Integration implements console.Backend.
func (b *Backend) Integration(ctx context.Context, id string) (console.IntegrationDetail, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, in := range b.integrations {
		if in.ID == id {
			return in, nil
		}
	}
	return console.IntegrationDetail{}, console.ErrNotFound
}

// Verify implements console.Backend: the checks idwatch's verifier makes, failing the
// credential check for a token "wrong" or a key containing WrongKeyMarker.
func (b *Backend) Verify(ctx context.Context, in console.NewIntegration, emit func(console.VerifyCheck)) error {
	step := func(c console.VerifyCheck) error {
		if b.CheckGap > 0 {
			t := time.NewTimer(b.CheckGap)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
			}
		}
		emit(c)
		return nil
	}
	u, err := url.Parse(in.OrgURL)
	if err != nil || (u.Scheme != "https" && !(u.Scheme == "http" && (u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost"))) || u.Host == "" {
		return step(console.VerifyCheck{Name: "Org URL", Status: "fail", Blocking: true, Detail: fmt.Sprintf("%q is not an https URL of an Okta org", in.OrgURL),
			Fix: "Use your org's address as in the admin console's address bar without -admin, e.g. https://acme.okta.com."})
	}
	if err := step(console.VerifyCheck{Name: "Org URL", Status: "pass", Detail: u.Host + " answers as an Okta org"}); err != nil {
		return err
	}
	wrong := in.APIToken == "wrong" || strings.Contains(in.PrivateKey, WrongKeyMarker)
	if wrong {
		fix := "Security › API › Tokens: the token is revoked or mistyped; create a new one and paste it whole."
		if in.APIToken == "" {
			fix = "Applications › " + in.ClientID + " › General › Public Keys: add the public key of the uploaded private key (or upload the private key whose public key is listed there), and check the Key ID matches."
		}
		if err := step(console.VerifyCheck{Name: "Credentials", Status: "fail", Blocking: true, Detail: "Okta refused the client assertion: invalid_client (E0000011)", Fix: fix}); err != nil {
			return err
		}
		return step(console.VerifyCheck{Name: "System Log access (okta.logs.read)", Status: "skip", Detail: "needs working credentials"})
	}
	checks := []console.VerifyCheck{
		{Name: "Credentials", Status: "pass", Detail: "access token issued (DPoP-bound)"},
		{Name: "System Log access (okta.logs.read)", Status: "pass", Detail: "read 1 event from /api/v1/logs"},
		{Name: "Admin role", Status: "pass", Detail: "Read-Only Administrator"},
		{Name: "Inventory scopes", Status: "pass", Detail: "okta.users.read okta.roles.read okta.schemas.read granted"},
		{Name: "Response scopes (okta.users.manage, okta.sessions.manage)", Status: "warn", Detail: "not granted: response actions will be unavailable",
			Fix: "Applications › your app › Okta API Scopes: grant okta.users.manage and okta.sessions.manage, and assign a custom admin role with \"edit users' lifecycle states\"."},
		{Name: "AD link attributes", Status: "pass", Detail: "ObjectSid, ObjectGuid, DistinguishedName in the user profile schema"},
	}
	if in.APIToken != "" {
		checks[0].Detail = "token accepted (SSWS)"
	}
	for _, c := range checks {
		if err := step(c); err != nil {
			return err
		}
	}
	return nil
}

// AddIntegration implements console.Backend.
func (b *Backend) AddIntegration(ctx context.Context, by console.Principal, in console.NewIntegration) (console.IntegrationRow, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, x := range b.integrations {
		if x.Name == in.Name {
			return console.IntegrationRow{}, &console.Error{Message: fmt.Sprintf("an integration named %q exists", in.Name), Field: "name", Fix: "Choose another name."}
		}
	}
	auth := "service_app"
	if in.APIToken != "" {
		auth = "api_token"
	}
	now := b.Now()
	row := console.IntegrationRow{ID: fmt.Sprint(len(b.integrations) + 1), Name: in.Name, OrgURL: in.OrgURL, AuthType: auth,
		Enabled: true, State: console.StateCollecting, LastEvent: now.Add(-2 * time.Second), Lag: 2 * time.Second,
		EventsPerMin: []float64{0, 0, 4, 11}, BudgetUsed: 0.02, BudgetShare: 0.5}
	b.integrations = append(b.integrations, console.IntegrationDetail{IntegrationRow: row, ClientID: in.ClientID, KeyID: in.KeyID, Scopes: in.Scopes,
		History: []console.HealthChange{{At: now, State: console.StateCollecting, Reason: "added and verified by " + by.Name}}})
	b.record(by, "add integration %s", in.Name)
	return row, nil
}

func (b *Backend) integration(id string) (*console.IntegrationDetail, error) {
	for i := range b.integrations {
		if b.integrations[i].ID == id {
			return &b.integrations[i], nil
		}
	}
	return nil, console.ErrNotFound
}

// SetIntegrationEnabled implements console.Backend.
func (b *Backend) SetIntegrationEnabled(ctx context.Context, by console.Principal, id string, enabled bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	in, err := b.integration(id)
	if err != nil {
		return err
	}
	in.Enabled = enabled
	in.State = console.StateDisabled
	if enabled {
		in.State = console.StateCollecting
	}
	in.History = append([]console.HealthChange{{At: b.Now(), State: in.State, Reason: "set by " + by.Name}}, in.History...)
	b.record(by, "enabled %s=%v", id, enabled)
	return nil
}

// Rotate implements console.Backend.
func (b *Backend) Rotate(ctx context.Context, by console.Principal, id string, c console.Credentials) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	in, err := b.integration(id)
	if err != nil {
		return err
	}
	if strings.Contains(c.PrivateKey, WrongKeyMarker) || c.APIToken == "wrong" {
		return &console.Error{Message: "Okta refused the new credentials", Fix: "Check the key is registered under Applications › your app › General › Public Keys."}
	}
	in.LastError, in.LastFix = "", ""
	b.record(by, "rotate %s", id)
	return nil
}

// StartBackfill implements console.Backend.
func (b *Backend) StartBackfill(ctx context.Context, by console.Principal, id string, since, until time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	in, err := b.integration(id)
	if err != nil {
		return err
	}
	if until.Sub(since) > 90*24*time.Hour {
		return &console.Error{Message: "Okta keeps the System Log for 90 days", Field: "since", Fix: "Start at most 90 days back."}
	}
	in.Backfill = console.Backfill{State: "running", Since: since, Until: until, Reached: since.Add(until.Sub(since) / 3), Events: 1234}
	b.record(by, "backfill %s", id)
	return nil
}

// BackfillProgress implements console.Backend.
func (b *Backend) BackfillProgress(ctx context.Context, id string) (console.Backfill, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	in, err := b.integration(id)
	if err != nil {
		return console.Backfill{}, err
	}
	return in.Backfill, nil
}

// Alerts implements console.Backend.
func (b *Backend) Alerts(ctx context.Context, q console.AlertQuery) (console.AlertPage, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	page := console.AlertPage{BySeverity: map[string]int{}}
	for _, a := range b.alerts {
		switch {
		case q.Severity != "" && a.Severity != q.Severity,
			q.Status != "" && a.Status != q.Status,
			q.Rule != "" && !strings.Contains(a.RuleID, q.Rule),
			q.Integration != "" && a.Integration != q.Integration,
			q.Identity != "" && !strings.Contains(a.Identity, q.Identity),
			!q.Since.IsZero() && a.Time.Before(q.Since):
			continue
		}
		page.Total++
		page.BySeverity[a.Severity]++
		if q.Limit == 0 || len(page.Alerts) < q.Limit {
			page.Alerts = append(page.Alerts, a.AlertRow)
		}
	}
	return page, nil
}

// Alert implements console.Backend.
func (b *Backend) Alert(ctx context.Context, id string) (console.AlertDetail, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, a := range b.alerts {
		if a.ID == id {
			return a, nil
		}
	}
	return console.AlertDetail{}, console.ErrNotFound
}

// AlertAction implements console.Backend.
func (b *Backend) AlertAction(ctx context.Context, by console.Principal, id string, act console.AlertAction) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range b.alerts {
		a := &b.alerts[i]
		if a.ID != id {
			continue
		}
		text := act.Note
		switch act.Kind {
		case console.ActionAck:
			a.Status, text = "acknowledged", "acknowledged"
		case console.ActionResolve:
			a.Status, text = "resolved", "resolved"
		case console.ActionSuppress:
			a.Status, a.SuppressedTil = "suppressed", act.Until
			text = "suppressed until " + act.Until.UTC().Format(time.RFC3339) + ": " + act.Note
		}
		a.Notes = append(a.Notes, console.Note{At: b.Now(), By: by.Name, Text: text})
		b.record(by, "alert %s %s", id, act.Kind)
		return nil
	}
	return console.ErrNotFound
}

// SearchEvents implements console.Backend.
func (b *Backend) SearchEvents(ctx context.Context, q console.EventQuery) (console.EventResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if q.IP != "" && strings.ContainsAny(q.IP, " ;") {
		return console.EventResult{}, &console.Error{Message: "not an IP address: " + q.IP, Field: "ip", Fix: "Give an IPv4 or IPv6 address."}
	}
	var res console.EventResult
	has := func(v, want string) bool {
		return want == "" || strings.Contains(strings.ToLower(v), strings.ToLower(want))
	}
	for _, e := range b.events {
		typeOK := q.Type == "" || e.Type == q.Type || (strings.HasSuffix(q.Type, "*") && strings.HasPrefix(e.Type, strings.TrimSuffix(q.Type, "*")))
		if !typeOK || !has(e.Actor, q.Actor) || !has(e.Target, q.Target) || (q.IP != "" && e.IP != q.IP) ||
			(q.Outcome != "" && e.Outcome != q.Outcome) || !has(e.Integration, q.Integration) || !has(e.Raw, q.Text) ||
			(!q.Since.IsZero() && e.Published.Before(q.Since)) || (!q.Until.IsZero() && e.Published.After(q.Until)) {
			continue
		}
		res.Total++
		if q.Limit == 0 || len(res.Events) < q.Limit {
			res.Events = append(res.Events, e)
		}
	}
	if q.OldestFirst {
		slices.Reverse(res.Events)
	}
	// Hourly buckets over the query's range.
	since, until := q.Since, q.Until
	if until.IsZero() {
		until = b.Now()
	}
	if since.IsZero() {
		since = until.Add(-24 * time.Hour)
	}
	start := since.Truncate(time.Hour)
	for t := start; !t.After(until); t = t.Add(time.Hour) {
		res.Histogram = append(res.Histogram, console.Point{T: t})
	}
	for _, e := range b.events {
		i := int(e.Published.Sub(start) / time.Hour)
		if i >= 0 && i < len(res.Histogram) && slices.ContainsFunc(res.Events, func(x console.EventRow) bool { return x.UUID == e.UUID }) {
			res.Histogram[i].V++
		}
	}
	return res, nil
}

// Rules implements console.Backend.
func (b *Backend) Rules(ctx context.Context) ([]console.RuleRow, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.rules), nil
}

// UploadRule implements console.Backend with the checks a Sigma parser makes first: YAML
// indentation without tabs, a title, and a detection with a condition.
func (b *Backend) UploadRule(ctx context.Context, by console.Principal, filename string, body, tests []byte) (console.RuleUpload, error) {
	var up console.RuleUpload
	lines := strings.Split(string(body), "\n")
	var title string
	hasDetection, hasCondition := false, false
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimLeft(l, " "), "\t") {
			up.Problems = append(up.Problems, console.RuleProblem{Line: i + 1, Column: len(l) - len(strings.TrimLeft(l, " \t")), Message: "tab in indentation: YAML indents with spaces"})
		}
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "title:"):
			title = strings.TrimSpace(strings.TrimPrefix(l, "title:"))
		case strings.HasPrefix(l, "detection:"):
			hasDetection = true
		case strings.HasPrefix(t, "condition:"):
			hasCondition = true
			if c := strings.TrimSpace(strings.TrimPrefix(t, "condition:")); c != "" && !strings.Contains(string(body), "\n    "+strings.Fields(c)[0]+":") && !strings.Contains(string(body), "\n  "+strings.Fields(c)[0]+":") {
				up.Problems = append(up.Problems, console.RuleProblem{Line: i + 1, Column: strings.Index(l, "condition:") + 12,
					Message: fmt.Sprintf("condition names %q, which is not a selection under detection", strings.Fields(c)[0])})
			}
		}
	}
	if title == "" {
		up.Problems = append(up.Problems, console.RuleProblem{Line: 1, Message: "missing title"})
	}
	if !hasDetection || !hasCondition {
		up.Problems = append(up.Problems, console.RuleProblem{Line: len(lines), Message: "missing detection with a condition"})
	}
	if len(up.Problems) > 0 {
		return up, nil
	}
	up.Tests = []console.RuleTest{{Name: "positive: matching event raises an alert", Passed: true}, {Name: "negative: benign event does not", Passed: true}}
	up.ID, up.Stored = "custom."+strings.TrimSuffix(filename, ".yml"), true
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rules = append(b.rules, console.RuleRow{ID: up.ID, Title: title, Level: "medium", Custom: true, Enabled: true})
	b.record(by, "upload rule %s", up.ID)
	return up, nil
}

// SetRuleEnabled implements console.Backend.
func (b *Backend) SetRuleEnabled(ctx context.Context, by console.Principal, id string, enabled bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range b.rules {
		if b.rules[i].ID == id {
			b.rules[i].Enabled = enabled
			b.record(by, "rule %s enabled=%v", id, enabled)
			return nil
		}
	}
	return console.ErrNotFound
}

// Sinks implements console.Backend.
func (b *Backend) Sinks(ctx context.Context) ([]console.SinkRow, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.sinks), nil
}

// DeadLetters implements console.Backend.
func (b *Backend) DeadLetters(ctx context.Context, sink string, limit int) ([]console.DeadLetter, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.letters[sink]
	return slices.Clone(l[:min(limit, len(l))]), nil
}

// ReplayDeadLetters implements console.Backend.
func (b *Backend) ReplayDeadLetters(ctx context.Context, by console.Principal, sink string) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range b.sinks {
		if b.sinks[i].Name == sink {
			n := len(b.letters[sink])
			delete(b.letters, sink)
			b.sinks[i].DeadLetters = 0
			b.record(by, "replay %s (%d)", sink, n)
			return n, nil
		}
	}
	return 0, console.ErrNotFound
}

// APIKeys implements console.Backend.
func (b *Backend) APIKeys(ctx context.Context) ([]console.APIKeyRow, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []console.APIKeyRow
	for _, k := range b.keys {
		out = append(out, k)
	}
	slices.SortFunc(out, func(x, y console.APIKeyRow) int { return strings.Compare(x.Name, y.Name) })
	return out, nil
}

// CreateAPIKey implements console.Backend.
func (b *Backend) CreateAPIKey(ctx context.Context, by console.Principal, name string, role console.Role) (string, console.APIKeyRow, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range b.keys {
		if k.Name == name {
			return "", console.APIKeyRow{}, &console.Error{Message: fmt.Sprintf("a key named %q exists", name), Field: "name", Fix: "Choose another name, or revoke the old key first."}
		}
	}
	key := fmt.Sprintf("idw_%s_%032x", role, len(b.keys)+1000)
	row := console.APIKeyRow{Name: name, Role: role, Created: b.Now()}
	b.keys[key] = row
	b.record(by, "create key %s", name)
	return key, row, nil
}

// RevokeAPIKey implements console.Backend.
func (b *Backend) RevokeAPIKey(ctx context.Context, by console.Principal, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for key, k := range b.keys {
		if k.Name == name {
			k.Revoked = true
			b.keys[key] = k
			b.record(by, "revoke key %s", name)
			return nil
		}
	}
	return console.ErrNotFound
}

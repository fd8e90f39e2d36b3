package consoletest

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/idwatch/idwatch/internal/console"
)

// RaiseAlert adds an alert, as the processor would when a storyline's events arrive.
func (b *Backend) RaiseAlert(a console.AlertDetail) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.alerts = append([]console.AlertDetail{a}, b.alerts...)
}

// PushFatigueAlert is the alert a push-fatigue storyline raises against user, with its evidence.
func PushFatigueAlert(id, user string, at time.Time) console.AlertDetail {
	var ev []console.Evidence
	for i := range 6 {
		t := at.Add(time.Duration(i-6) * 20 * time.Second)
		result, reason := "FAILURE", "User rejected Okta push verify"
		if i == 5 {
			result, reason = "SUCCESS", ""
		}
		raw, ocsf := oktaEvent(fmt.Sprintf("%s-ev%d", id, i), t, "user.authentication.auth_via_mfa", user, "Okta Verify", "185.220.101.47", result, reason)
		ev = append(ev, console.Evidence{UUID: fmt.Sprintf("%s-ev%d", id, i), Published: t, EventType: "user.authentication.auth_via_mfa",
			Actor: user, IP: "185.220.101.47", Outcome: result, Raw: raw, OCSF: ocsf})
	}
	return console.AlertDetail{
		AlertRow: console.AlertRow{ID: id, Time: at, Severity: "high", Title: "MFA push fatigue: push denied 5 times, then accepted",
			RuleID: "okta_mfa_push_fatigue", Integration: "acme-prod", Identity: user, Status: "new", Technique: "T1621"},
		Description: "Five Okta Verify pushes were rejected within two minutes and the sixth was accepted, from an address the user has not used before. An attacker with the password may be flooding the user with prompts until one is approved.",
		Techniques:  []console.Technique{{ID: "T1621", Name: "Multi-Factor Authentication Request Generation", Tactic: "Credential Access", URL: "https://attack.mitre.org/techniques/T1621/"}},
		Evidence:    ev,
		Notes:       []console.Note{{At: at, By: "idwatch", Text: "raised by okta_mfa_push_fatigue"}},
	}
}

// oktaEvent renders a System Log event and its OCSF Authentication record as indented JSON.
func oktaEvent(uuid string, t time.Time, typ, actor, target, ip, result, reason string) (string, string) {
	raw := map[string]any{
		"uuid": uuid, "published": t.UTC().Format(time.RFC3339Nano), "eventType": typ, "severity": "INFO", "version": "0",
		"displayMessage": "Authentication of user via MFA",
		"actor":          map[string]any{"id": "00u" + fmt.Sprint(len(actor)*7919), "type": "User", "alternateId": actor, "displayName": actor},
		"client": map[string]any{"ipAddress": ip, "userAgent": map[string]any{"rawUserAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "os": "Windows 10", "browser": "CHROME"},
			"geographicalContext": map[string]any{"city": "Frankfurt am Main", "country": "Germany"}},
		"outcome":               map[string]any{"result": result, "reason": reason},
		"target":                []any{map[string]any{"type": "AuthenticatorEnrollment", "displayName": target}},
		"authenticationContext": map[string]any{"externalSessionId": "102abcSESSION" + uuid[len(uuid)-3:]},
	}
	status := "Success"
	if result != "SUCCESS" {
		status = "Failure"
	}
	ocsf := map[string]any{
		"class_uid": 3002, "class_name": "Authentication", "category_uid": 3, "activity_id": 1, "time": t.UnixMilli(),
		"status": status, "status_detail": reason, "metadata": map[string]any{"uid": uuid, "product": map[string]any{"name": "Okta System Log", "vendor_name": "Okta"}, "version": "1.3.0"},
		"user": map[string]any{"name": actor, "type": "User"}, "src_endpoint": map[string]any{"ip": ip, "location": map[string]any{"city": "Frankfurt am Main", "country": "DE"}},
		"auth_protocol": "Okta Verify",
	}
	r, _ := json.MarshalIndent(raw, "", "  ")
	o, _ := json.MarshalIndent(ocsf, "", "  ")
	return string(r), string(o)
}

// wave is a plausible daily traffic shape.
func wave(i, n int, base float64) float64 {
	return math.Round(base * (1.2 + math.Sin(float64(i)/float64(n)*2*math.Pi-1.5)) * (0.9 + 0.2*math.Abs(math.Sin(float64(i*7)))))
}

func (b *Backend) seed() {
	now := b.Now()
	b.keys = map[string]console.APIKeyRow{
		AdminKey:   {Name: "first-admin", Role: console.RoleAdmin, Created: now.Add(-72 * time.Hour), LastUsed: now.Add(-time.Minute)},
		AnalystKey: {Name: "soc-analyst", Role: console.RoleAnalyst, Created: now.Add(-48 * time.Hour)},
		ViewerKey:  {Name: "noc-dashboard", Role: console.RoleViewer, Created: now.Add(-24 * time.Hour), LastUsed: now.Add(-3 * time.Hour)},
	}
	perMin := make([]float64, 60)
	for i := range perMin {
		perMin[i] = wave(i, 60, 18)
	}
	hours := func(base float64) []console.Point {
		out := make([]console.Point, 24)
		for i := range out {
			out[i] = console.Point{T: now.Truncate(time.Hour).Add(time.Duration(i-23) * time.Hour), V: wave(i, 24, base)}
		}
		return out
	}
	throttled := hours(0)
	throttled[17].V, throttled[18].V = 3, 1
	b.integrations = []console.IntegrationDetail{
		{IntegrationRow: console.IntegrationRow{ID: "1", Name: "acme-prod", OrgURL: "https://acme.okta.com", AuthType: "service_app", Enabled: true,
			State: console.StateCollecting, LastEvent: now.Add(-4 * time.Second), Lag: 4 * time.Second, EventsPerMin: perMin, BudgetUsed: 0.18, BudgetShare: 0.5},
			ClientID: "0oa8f3kq2hXv9Pz1d5d7", KeyID: "idwatch-2026-11", Scopes: []string{"okta.logs.read", "okta.users.read", "okta.roles.read", "okta.schemas.read"},
			EventsPerHour: hours(1100), Requests: hours(60), Throttled: throttled,
			History: []console.HealthChange{
				{At: now.Add(-5 * time.Hour), State: console.StateCollecting, Reason: "rate limit reset; caught up"},
				{At: now.Add(-6 * time.Hour), State: console.StateBackingOff, Reason: "429 E0000047 on /api/v1/logs; waiting for X-Rate-Limit-Reset"},
				{At: now.Add(-72 * time.Hour), State: console.StateCollecting, Reason: "added and verified by first-admin"},
			},
			Backfill: console.Backfill{State: "done", Since: now.Add(-30 * 24 * time.Hour), Until: now.Add(-71 * time.Hour), Reached: now.Add(-71 * time.Hour), Events: 1_482_113}},
		{IntegrationRow: console.IntegrationRow{ID: "2", Name: "acme-staging", OrgURL: "https://acme-staging.oktapreview.com", AuthType: "api_token", Enabled: true,
			State: console.StateFailing, LastEvent: now.Add(-47 * time.Minute), Lag: 47 * time.Minute, EventsPerMin: make([]float64, 60), BudgetUsed: 0.01, BudgetShare: 0.25,
			LastError: "401 E0000011 Invalid token provided", LastFix: "Security › API › Tokens: the token was revoked or its admin deactivated; create a new token and rotate it on this integration."},
			EventsPerHour: hours(40), Requests: hours(30), Throttled: hours(0),
			History: []console.HealthChange{{At: now.Add(-47 * time.Minute), State: console.StateFailing, Reason: "401 E0000011 Invalid token provided"}}},
	}
	b.alerts = []console.AlertDetail{
		PushFatigueAlert("al-7f3a", "dana.ruiz@acme.com", now.Add(-12*time.Minute)),
		{AlertRow: console.AlertRow{ID: "al-51c0", Time: now.Add(-40 * time.Minute), Severity: "critical", Title: "Super administrator role granted outside change window",
			RuleID: "okta_admin_role_assigned", Integration: "acme-prod", Identity: "svc-sync@acme.com", Status: "new", Technique: "T1098.003"},
			Description: "The SUPER_ADMIN role was assigned to a service account by a user who signed in 4 minutes earlier from a new country.",
			Techniques:  []console.Technique{{ID: "T1098.003", Name: "Account Manipulation: Additional Cloud Roles", Tactic: "Persistence", URL: "https://attack.mitre.org/techniques/T1098/003/"}},
			Card:        &console.IdentityCard{Login: "svc-sync@acme.com", DisplayName: "Directory sync (service)", Status: "ACTIVE", AdminRoles: []string{"SUPER_ADMIN"}, Factors: []string{"none"}, ADLink: "CN=svc-sync,OU=Service,DC=acme,DC=local"}},
		{AlertRow: console.AlertRow{ID: "al-2210", Time: now.Add(-3 * time.Hour), Severity: "medium", Title: "Password spray: 41 users, 1 source",
			RuleID: "okta_password_spray", Integration: "acme-prod", Identity: "41 users", Status: "acknowledged", Technique: "T1110.003"},
			Description: "41 distinct users failed password verification from 203.0.113.77 within 10 minutes.",
			Techniques:  []console.Technique{{ID: "T1110.003", Name: "Brute Force: Password Spraying", Tactic: "Credential Access", URL: "https://attack.mitre.org/techniques/T1110/003/"}}},
		{AlertRow: console.AlertRow{ID: "al-0f9e", Time: now.Add(-9 * time.Hour), Severity: "low", Title: "API token created by a non-service account",
			RuleID: "okta_api_token_created", Integration: "acme-prod", Identity: "lee.chen@acme.com", Status: "resolved", Technique: "T1098"}},
	}
	users := []string{"dana.ruiz@acme.com", "lee.chen@acme.com", "sam.okafor@acme.com", "ari.levi@acme.com", "jo.martin@acme.com"}
	types := []struct{ typ, target, result, reason string }{
		{"user.session.start", "Okta Dashboard", "SUCCESS", ""},
		{"user.authentication.auth_via_mfa", "Okta Verify", "SUCCESS", ""},
		{"user.session.start", "Okta Dashboard", "FAILURE", "INVALID_CREDENTIALS"},
		{"app.oauth2.token.grant", "Salesforce", "SUCCESS", ""},
		{"policy.evaluate_sign_on", "Default Policy", "ALLOW", ""},
	}
	for i := range 120 {
		t := now.Add(-time.Duration(i*i) * 5 * time.Second)
		tt := types[i%len(types)]
		u := users[i%len(users)]
		ip := fmt.Sprintf("198.51.100.%d", 10+i%7)
		id := fmt.Sprintf("e3b0c442-98fc-11ef-%04x-acme0000%04d", i, i)
		raw, ocsf := oktaEvent(id, t, tt.typ, u, tt.target, ip, tt.result, tt.reason)
		row := console.EventRow{UUID: id, Published: t, Integration: "acme-prod", Type: tt.typ, Actor: u, Target: tt.target, IP: ip, Outcome: tt.result, Raw: raw, OCSF: ocsf}
		if i == 7 {
			row.Flagged, row.OCSF = "outcome.result \"PARTIAL\" is not an Okta outcome; kept raw", ""
		}
		b.events = append(b.events, row)
	}
	b.rules = []console.RuleRow{
		{ID: "okta_mfa_push_fatigue", Title: "MFA push fatigue", Level: "high", Enabled: true, Alerts: 3, Tactics: []string{"credential-access"}},
		{ID: "okta_password_spray", Title: "Password spray from one source", Level: "medium", Enabled: true, Alerts: 12, Tactics: []string{"credential-access"}},
		{ID: "okta_admin_role_assigned", Title: "Administrator role assigned", Level: "critical", Enabled: true, Alerts: 1, Tactics: []string{"persistence", "privilege-escalation"}},
		{ID: "okta_api_token_created", Title: "API token created", Level: "low", Enabled: false, Alerts: 0, Tactics: []string{"persistence"}},
	}
	b.sinks = []console.SinkRow{
		{Name: "siem-hec", Type: "splunk_hec", Status: "retrying", Lag: 1840, LagAge: 95 * time.Second, Position: 2_904_112, Since: now.Add(-95 * time.Second), DeadLetters: 3,
			LastError: "POST https://hec.acme.internal:8088/services/collector: 503 Service Unavailable (server busy)"},
		{Name: "archive", Type: "file", Status: "delivering", Lag: 0, Position: 2_905_952},
	}
	for i := range 3 {
		b.letters["siem-hec"] = append(b.letters["siem-hec"], console.DeadLetter{Seq: int64(2_904_000 + i*37), UUID: b.events[i].UUID, At: now.Add(-time.Duration(i+1) * time.Hour),
			Reason: "400 Bad Request: Event field cannot be blank (after 8 attempts)"})
	}
	b.seedIncidents()
	b.seedResponses()
}

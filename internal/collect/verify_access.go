package collect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/idwatch/idwatch/internal/feature"
	"github.com/idwatch/idwatch/internal/okta"
)

// FeatureState is one feature's line in a report.
type FeatureState struct {
	Name feature.Name `json:"name"`
	// On says the integration has the feature turned on; Working that its prerequisites are met.
	On      bool `json:"on"`
	Working bool `json:"working"`
	// Fix is, for a feature that is on but not working, the fix of the check that stopped it; for
	// a feature that is off, what to grant in Okta before turning it on.
	Fix string `json:"fix,omitempty"`
	// Flag is the --features value that turns an off feature on, keeping the others.
	Flag string `json:"flag,omitempty"`
	// Ready says an off feature's prerequisites are already met (an API token's admin has the
	// role): turning it on is all that is left.
	Ready bool `json:"ready,omitempty"`
}

// featureStates builds the per-feature lines from the checks.
func featureStates(r Report, set feature.Set, serviceApp bool) []FeatureState {
	var out []FeatureState
	for _, f := range feature.All() {
		st := FeatureState{Name: f.Name, On: set.Has(f.Name)}
		if !st.On {
			st.Fix, st.Flag = f.Grant(serviceApp), set.With(f.Name).Flag()
			if !serviceApp && slices.Contains(r.rolesAllow, f.Name) {
				st.Fix, st.Ready = "", true
			}
			out = append(out, st)
			continue
		}
		st.Working = !slices.Contains(r.FeaturesOff, f.Title) && (f.Name != feature.Logs || r.Failed() == nil)
		if !st.Working {
			for _, c := range r.Checks {
				if c.Status != CheckOK && c.Status != CheckSkip && slices.Contains(c.FeaturesOff, f.Title) {
					st.Fix = c.Fix
					break
				}
			}
		}
		out = append(out, st)
	}
	return out
}

// titles maps feature names to the titles reports use.
func titles(ns []feature.Name) []string {
	var out []string
	for _, n := range ns {
		if f, ok := feature.Lookup(n); ok {
			out = append(out, f.Title)
		}
	}
	return out
}

// checkScopes asks for a token per scope the integration requests (Okta refuses a token request
// naming any scope the app was not granted), which proves the client assertion and DPoP proof and
// tells which scope is missing. Scopes of features that are off are never asked for. ok is false
// when logs are impossible: any requested scope not granted fails the integration's token request.
func (v *Verifier) checkScopes(ctx context.Context, cfg okta.Config, app *okta.ServiceApp, set feature.Set, r *Report, logsOff []string) (granted []string, ok bool) {
	needed := set.Scopes()
	requested := app.Scopes
	if len(requested) == 0 {
		requested = needed
	}
	var credErr error
	results := map[string]error{}
	for _, s := range requested {
		one := *app
		one.Scopes = []string{s}
		cfg.Credentials.ServiceApp = &one
		c, err := okta.New(cfg)
		if err == nil {
			_, err = c.TokenScopes(ctx)
		}
		var apiErr *okta.APIError
		if err != nil && !(errors.As(err, &apiErr) && apiErr.Kind == okta.KindScope) {
			credErr = err
			break
		}
		results[s] = err
		if err == nil {
			granted = append(granted, s)
		}
	}
	if credErr != nil {
		fix := "check that this host can reach the org and retry; the detail says what failed"
		var apiErr *okta.APIError
		if errors.As(credErr, &apiErr) {
			fix = apiErr.Fix()
		}
		r.add(Check{ID: "credentials", Name: "Credentials", Status: CheckFail, Detail: "token request refused: " + credErr.Error(), Fix: fix, FeaturesOff: logsOff})
		return nil, false
	}
	detail := "client assertion accepted"
	if !app.DisableDPoP {
		detail += "; DPoP proof accepted"
	}
	r.add(Check{ID: "credentials", Name: "Credentials", Status: CheckOK, Detail: detail})
	ok = true
	for _, c := range scopeChecks(app.ClientID, set, needed, requested, results) {
		if c.Status == CheckFail {
			ok = false
		}
		r.add(c)
	}
	return granted, ok
}

// scopeChecks judges each scope needed or requested: granted, missing from the app (which makes
// Okta refuse every token request of the integration), missing from explicit --scopes, or
// requested although no enabled feature uses it. results holds the probe of each requested scope.
func scopeChecks(clientID string, set feature.Set, needed, requested []string, results map[string]error) []Check {
	var out []Check
	all := slices.Clone(needed)
	for _, s := range requested {
		if !slices.Contains(all, s) {
			all = append(all, s)
		}
	}
	grant := fmt.Sprintf("in Admin Console > Applications > Applications > %s > Okta API Scopes, grant %%s", clientID)
	for _, s := range all {
		users := set.NeededBy(s)
		c := Check{ID: "scope:" + s, Name: "Scope " + s, Status: CheckOK, Detail: "granted"}
		if len(users) > 0 {
			c.Detail += " (for " + feature.Join(users) + ")"
		}
		switch isRequested := slices.Contains(requested, s); {
		case isRequested && results[s] != nil:
			c.Status, c.FeaturesOff = CheckFail, []string{FeatureLogs, FeatureInventory, FeatureResponse, FeatureADLink}
			c.Detail = "not granted to the service app, so Okta refuses the integration's token request and nothing can be collected"
			c.Fix = fmt.Sprintf(grant, s)
			switch {
			case len(users) == 0:
				c.Fix += ", or leave it out of --scopes (no enabled feature uses it)"
			case !slices.Contains(users, feature.Logs):
				off := feature.Set{}
				for _, n := range feature.Optional() {
					if set.Has(n) && !slices.Contains(users, n) {
						off = off.With(n)
					}
				}
				c.Fix += fmt.Sprintf(", or turn %s off (--features %q)", feature.Join(users), off.Flag())
			}
		case !isRequested:
			c.Status, c.FeaturesOff = CheckWarn, titles(users)
			c.Detail = "needed by " + feature.Join(users) + " but not in the integration's --scopes"
			c.Fix = "add " + s + " to --scopes, or leave --scopes out so that idwatch requests what the enabled features need"
			if slices.Contains(users, feature.Logs) {
				c.Status, c.FeaturesOff = CheckFail, []string{FeatureLogs, FeatureInventory, FeatureResponse, FeatureADLink}
			}
		case len(users) == 0:
			c.Status = CheckWarn
			c.Detail = "granted and requested, but no enabled feature uses it (more privilege than needed)"
			c.Fix = "leave it out of --scopes, or leave --scopes out so that idwatch requests what the enabled features need"
		}
		out = append(out, c)
	}
	return out
}

// checkRoles reads the admin roles of the token's admin or the service app and judges them
// against the enabled features: too few turn features off, more than needed is a warning.
func (v *Verifier) checkRoles(ctx context.Context, c *okta.Client, app *okta.ServiceApp, set feature.Set, granted []string, r *Report) {
	optional := slices.DeleteFunc(set.Features(), func(f feature.Feature) bool { return f.Name == feature.Logs })
	var optionalTitles []string
	for _, f := range optional {
		optionalTitles = append(optionalTitles, f.Title)
	}
	who, where := "the token's admin", "Security > Administrators > the admin who owns the API token > Edit"
	if app != nil {
		who, where = "the service app", "Applications > Applications > the app > Admin roles"
	}
	if app != nil && !slices.Contains(granted, "okta.roles.read") {
		r.add(Check{ID: "roles", Name: "Admin roles", Status: CheckSkip,
			Detail: "not checked: reading the service app's admin roles needs okta.roles.read, which only inventory and response request; the System Log check shows its role allows logs"})
		return
	}
	var roles []okta.Role
	var err error
	if app == nil {
		var me *okta.User
		if me, err = c.GetUser(ctx, "me"); err == nil {
			roles, err = c.ListUserRoles(ctx, me.ID)
		}
	} else {
		var page *okta.Page
		if page, err = c.GetPage(ctx, "/oauth2/v1/clients/"+app.ClientID+"/roles"); err == nil {
			for _, raw := range page.Items {
				var role okta.Role
				if json.Unmarshal(raw, &role) == nil {
					roles = append(roles, role)
				}
			}
		}
	}
	if err != nil {
		if len(optional) == 0 {
			r.add(Check{ID: "roles", Name: "Admin roles", Status: CheckSkip,
				Detail: "not checked: the roles could not be read (" + err.Error() + "); logs need none beyond what the System Log check shows"})
			return
		}
		r.add(Check{ID: "roles", Name: "Admin roles", Status: CheckWarn, Detail: "admin roles could not be read: " + err.Error(),
			Fix: roleFix(optional, who, where), FeaturesOff: optionalTitles})
		return
	}
	has := func(t ...string) bool {
		return slices.ContainsFunc(roles, func(x okta.Role) bool { return slices.Contains(t, x.Type) && (x.Status == "" || x.Status == "ACTIVE") })
	}
	var labels []string
	for _, x := range roles {
		labels = append(labels, x.Type)
	}
	detail := "roles: " + strings.Join(labels, ", ")
	if len(labels) == 0 {
		detail = "no admin roles"
	}
	for _, n := range feature.Optional() {
		if has("SUPER_ADMIN", "ORG_ADMIN") || (n == feature.Inventory && has("READ_ONLY_ADMIN")) || (n == feature.Response && has("CUSTOM")) {
			r.rolesAllow = append(r.rolesAllow, n)
		}
	}
	if has("SUPER_ADMIN", "ORG_ADMIN") {
		r.add(Check{ID: "roles", Name: "Admin roles", Status: CheckWarn, Detail: detail + " (more privilege than idwatch needs)",
			Fix: "replace it with what the enabled features need: " + roleFix(set.Features(), who, where)})
		return
	}
	var missing []feature.Feature
	for _, f := range optional {
		if !slices.Contains(r.rolesAllow, f.Name) {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		r.add(Check{ID: "roles", Name: "Admin roles", Status: CheckOK, Detail: detail})
		return
	}
	var off []string
	for _, f := range missing {
		off = append(off, f.Title)
	}
	r.add(Check{ID: "roles", Name: "Admin roles", Status: CheckWarn, Detail: detail + "; not enough for " + strings.Join(off, " and "),
		Fix: roleFix(missing, who, where), FeaturesOff: off})
}

// roleFix says which role each feature needs and where to assign it.
func roleFix(fs []feature.Feature, who, where string) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, fmt.Sprintf("for %s, %s", f.Name, f.Role))
	}
	return fmt.Sprintf("assign to %s in %s: %s", who, where, strings.Join(parts, "; "))
}

package collect

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/feature"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/store"
)

// CheckStatus is the outcome of one verification check.
type CheckStatus string

// Check outcomes. A failed check stops log collection; a warning turns features off.
const (
	CheckOK   CheckStatus = "ok"
	CheckWarn CheckStatus = "warn"
	CheckFail CheckStatus = "fail"
	CheckSkip CheckStatus = "skip"
)

// Features that verification can find unavailable.
const (
	FeatureLogs      = "log collection"
	FeatureInventory = "identity inventory and posture"
	FeatureResponse  = "response actions"
	FeatureADLink    = "Active Directory identity link"
)

// Check is one verified prerequisite.
type Check struct {
	// ID is stable for scripts: org-url, reachability, credentials, scope:<name>, logs, roles,
	// attribute:<name>.
	ID     string      `json:"id"`
	Name   string      `json:"name"`
	Status CheckStatus `json:"status"`
	Detail string      `json:"detail,omitempty"`
	// Fix is what to change in the Okta admin console (or in idwatch) when the check did not pass.
	Fix string `json:"fix,omitempty"`
	// FeaturesOff are the features that stay off because of this check.
	FeaturesOff []string `json:"featuresOff,omitempty"`
}

// Report is the result of verifying an integration.
type Report struct {
	OrgURL string  `json:"orgUrl"`
	Checks []Check `json:"checks"`
	// CanCollectLogs is false when any check failed: the System Log can't be collected.
	CanCollectLogs bool `json:"canCollectLogs"`
	// FeaturesOff lists every feature a failed or warned check turns off.
	FeaturesOff []string `json:"featuresOff"`
	// GrantedScopes are the scopes the integration requests that the service app holds.
	GrantedScopes []string `json:"grantedScopes,omitempty"`
	// Integration names the stored integration verified ("" for credentials not stored).
	Integration string `json:"integration,omitempty"`
	// Features says, per feature, whether it is on and working, and what turns it on.
	Features []FeatureState `json:"features"`

	// rolesAllow are the optional features the admin roles read allow.
	rolesAllow []feature.Name
}

// Failed returns the first failed check, or nil.
func (r *Report) Failed() *Check {
	for i := range r.Checks {
		if r.Checks[i].Status == CheckFail {
			return &r.Checks[i]
		}
	}
	return nil
}

func (r *Report) add(c Check) {
	r.Checks = append(r.Checks, c)
	for _, f := range c.FeaturesOff {
		if !slices.Contains(r.FeaturesOff, f) {
			r.FeaturesOff = append(r.FeaturesOff, f)
		}
	}
}

// Target is what to verify: an org URL and credentials, before or after they are stored.
type Target struct {
	OrgURL        string
	CustomDomains []string
	Credentials   okta.Credentials
	// Attributes are the custom user attribute names that link users to AD (default ObjectSid,
	// ObjectGuid, DistinguishedName).
	Attributes store.AttributeNames
	// DPoPKey keeps a stored integration's DPoP key; nil generates one.
	DPoPKey *ecdsa.PrivateKey
	// Features are the integration's enabled features; only their prerequisites are checked and
	// only their scopes requested (the zero value is logs only).
	Features feature.Set
}

// Verifier checks an integration's prerequisites one by one. The console calls Verify; the CLI
// prints the report.
type Verifier struct {
	// HTTPClient, Clock and Logger are used for every request (nil: defaults).
	HTTPClient *http.Client
	Clock      clock.Clock
	Logger     *slog.Logger
	// Governors, when set, makes verification share each org's rate budget with collection.
	Governors *okta.GovernorSet
}

// VerifyIntegration verifies a stored integration.
func (v *Verifier) VerifyIntegration(ctx context.Context, in store.Integration) Report {
	set, err := feature.FromList(in.Features)
	if err != nil {
		r := Report{OrgURL: in.OrgURL, Integration: in.Name, FeaturesOff: []string{}}
		r.add(Check{ID: "features", Name: "Features", Status: CheckFail, Detail: err.Error(),
			Fix: "name known features only: idwatch integrations update " + in.Name + " --features " + feature.Every().Flag() + " (or fewer)", FeaturesOff: []string{FeatureLogs}})
		r.Features = featureStates(r, set, in.AuthKind == store.AuthOAuth)
		return r
	}
	creds, err := Credentials(in)
	if err != nil {
		r := Report{OrgURL: in.OrgURL, Integration: in.Name, FeaturesOff: []string{}}
		r.add(Check{ID: "credentials", Name: "Credentials", Status: CheckFail, Detail: err.Error(),
			Fix: "remove the integration and add it again with an API token or a service app", FeaturesOff: []string{FeatureLogs}})
		r.Features = featureStates(r, set, in.AuthKind == store.AuthOAuth)
		return r
	}
	t := Target{OrgURL: in.OrgURL, Credentials: creds, Attributes: in.CustomAttributes, Features: set}
	if !in.Credentials.DPoPKeyPEM.IsZero() {
		t.DPoPKey, _ = ParseDPoPKey(in.Credentials.DPoPKeyPEM.Reveal()) // unreadable: a fresh key still verifies
	}
	r := v.Verify(ctx, t)
	r.Integration = in.Name
	return r
}

// Verify runs every check against the org and reports each result with its fix.
func (v *Verifier) Verify(ctx context.Context, t Target) (r Report) {
	clk := v.Clock
	if clk == nil {
		clk = clock.System{}
	}
	r = Report{OrgURL: t.OrgURL, FeaturesOff: []string{}}
	defer func() {
		r.CanCollectLogs = r.Failed() == nil
		r.Features = featureStates(r, t.Features, t.Credentials.ServiceApp != nil)
	}()
	logsOff := []string{FeatureLogs, FeatureInventory, FeatureResponse, FeatureADLink}

	org, err := okta.ParseOrgURL(t.OrgURL, t.CustomDomains...)
	if err != nil {
		r.add(Check{ID: "org-url", Name: "Org URL", Status: CheckFail, Detail: err.Error(),
			Fix: "use the org's base URL as shown in the browser when signed in to the end-user dashboard, e.g. https://acme.okta.com (not the -admin host)", FeaturesOff: logsOff})
		return r
	}
	r.OrgURL = org.String()
	r.add(Check{ID: "org-url", Name: "Org URL", Status: CheckOK, Detail: org.String()})

	if err := v.reach(ctx, org); err != nil {
		r.add(Check{ID: "reachability", Name: "Reachability", Status: CheckFail, Detail: err.Error(),
			Fix: fmt.Sprintf("make sure this host resolves and can open HTTPS connections to %s (DNS, proxy, firewall, TLS inspection)", org.Host()), FeaturesOff: logsOff})
		return r
	}
	r.add(Check{ID: "reachability", Name: "Reachability", Status: CheckOK, Detail: org.String() + " answers"})

	if err := t.Credentials.Validate(); err != nil {
		r.add(Check{ID: "credentials", Name: "Credentials", Status: CheckFail, Detail: err.Error(), Fix: err.Error(), FeaturesOff: logsOff})
		return r
	}
	cfg := okta.Config{OrgURL: org.String(), CustomDomains: t.CustomDomains, Credentials: t.Credentials, HTTPClient: v.HTTPClient,
		Clock: v.Clock, Logger: v.Logger, Retry: okta.RetryConfig{MaxRetries: 1, MaxRateLimitWaits: 2}}
	cfg.DPoPKey = t.DPoPKey
	if v.Governors != nil {
		cfg.Governor = v.Governors.For(org)
	}
	app := t.Credentials.ServiceApp
	if app != nil {
		granted, ok := v.checkScopes(ctx, cfg, app, t.Features, &r, logsOff)
		if !ok {
			return r
		}
		scoped := *app
		scoped.Scopes = granted
		cfg.Credentials.ServiceApp = &scoped
		r.GrantedScopes = granted
	}
	c, err := okta.New(cfg)
	if err != nil {
		r.add(Check{ID: "credentials", Name: "Credentials", Status: CheckFail, Detail: err.Error(), Fix: err.Error(), FeaturesOff: logsOff})
		return r
	}

	// The System Log probe proves the credentials (for a token) and log access in one request.
	u, err := c.LogsURL(okta.LogsQuery{Since: clk.Now().Add(-5 * time.Minute), Limit: 1})
	if err == nil {
		_, err = c.Logs(ctx, u)
	}
	var apiErr *okta.APIError
	switch {
	case err == nil:
		if app == nil {
			r.add(Check{ID: "credentials", Name: "Credentials", Status: CheckOK, Detail: "API token accepted"})
		}
		detail := "System Log readable"
		if c.DPoPThumbprint() != "" {
			detail += " with a DPoP-bound token"
		}
		r.add(Check{ID: "logs", Name: "System Log access", Status: CheckOK, Detail: detail})
	case errors.As(err, &apiErr) && apiErr.Kind == okta.KindInvalidToken && app == nil:
		r.add(Check{ID: "credentials", Name: "Credentials", Status: CheckFail, Detail: apiErr.Error(), Fix: apiErr.Fix(), FeaturesOff: logsOff})
		return r
	default:
		if app == nil && errors.As(err, &apiErr) {
			r.add(Check{ID: "credentials", Name: "Credentials", Status: CheckOK, Detail: "API token accepted"})
		}
		fix := "check that this host can reach the org and retry; the detail says what failed"
		if errors.As(err, &apiErr) {
			fix = apiErr.Fix()
		}
		r.add(Check{ID: "logs", Name: "System Log access", Status: CheckFail, Detail: err.Error(), Fix: fix, FeaturesOff: logsOff})
		return r
	}

	v.checkRoles(ctx, c, app, t.Features, r.GrantedScopes, &r)
	if t.Features.Has(feature.Inventory) {
		v.checkAttributes(ctx, c, t.Attributes, &r)
	}
	return r
}

// reach makes one unauthenticated request to the org: any HTTP answer proves the network path.
func (v *Verifier) reach(ctx context.Context, org okta.OrgURL) error {
	hc := v.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, org.URL("/.well-known/okta-organization", nil).String(), nil)
	if err != nil {
		return err
	}
	hc2 := *hc
	hc2.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc2.Do(req)
	if err != nil {
		return fmt.Errorf("%s is unreachable: %w", org.Host(), errors.Unwrap(err))
	}
	resp.Body.Close()
	return nil
}

// checkAttributes looks for the AD link attributes in the default user schema.
func (v *Verifier) checkAttributes(ctx context.Context, c *okta.Client, names store.AttributeNames, r *Report) {
	def := store.DefaultAttributeNames
	list := []string{or(names.ObjectSID, def.ObjectSID), or(names.ObjectGUID, def.ObjectGUID), or(names.DistinguishedName, def.DistinguishedName)}
	schema, err := c.GetUserSchema(ctx, "default")
	if err != nil {
		r.add(Check{ID: "attributes", Name: "AD link attributes", Status: CheckWarn, Detail: "user schema could not be read: " + err.Error(),
			Fix: "grant okta.schemas.read (service app) or Read-Only Administrator (API token's admin)", FeaturesOff: []string{FeatureADLink}})
		return
	}
	for _, name := range list {
		c := Check{ID: "attribute:" + name, Name: "Attribute " + name, Status: CheckOK, Detail: "defined in the user profile"}
		if !schema.HasCustom(name) {
			c.Status, c.FeaturesOff = CheckWarn, []string{FeatureADLink}
			c.Detail = "not in the default user profile (names are case-sensitive)"
			c.Fix = fmt.Sprintf("in Directory > Profile Editor > User (default) > Add Attribute, create a string attribute with variable name %s; then in the Active Directory app's profile mappings (AD to Okta User) map it from the AD attribute, or set the attribute name idwatch uses to the one your org already has", name)
		}
		r.add(c)
	}
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

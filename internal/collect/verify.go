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
	// emit, when set, is told of each check as it is added.
	emit func(Check)
	// OrgID is the id the org published at /.well-known/okta-organization (empty if unreached).
	OrgID string `json:"orgId,omitempty"`
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
	if r.emit != nil {
		r.emit(c)
	}
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
	// CustomDomain accepts any https host as the org URL (the org's custom URL domain); the org
	// identity check then confirms that an Okta org answers there.
	CustomDomain bool
	// CAPEM is a PEM bundle trusted on top of the system roots (an inspecting proxy's CA).
	CAPEM string
	// OrgID, when set, is the org id the integration was added for: an org URL that now answers
	// as another org fails verification.
	OrgID       string
	Credentials okta.Credentials
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
	// Dial, when set, opens every connection (nil: the transport's own dialer).
	Dial DialFunc
}

// VerifyIntegration verifies a stored integration.
func (v *Verifier) VerifyIntegration(ctx context.Context, in store.Integration) Report {
	return v.VerifyIntegrationEach(ctx, in, nil)
}

// VerifyIntegrationEach verifies an integration, stored or not, telling emit (when not nil) of
// each check as soon as it completes, so a page can show the checklist filling in.
func (v *Verifier) VerifyIntegrationEach(ctx context.Context, in store.Integration, emit func(Check)) Report {
	set, err := feature.FromList(in.Features)
	if err != nil {
		r := Report{OrgURL: in.OrgURL, Integration: in.Name, FeaturesOff: []string{}, emit: emit}
		r.add(Check{ID: "features", Name: "Features", Status: CheckFail, Detail: err.Error(),
			Fix: "name known features only: idwatch integrations update " + in.Name + " --features " + feature.Every().Flag() + " (or fewer)", FeaturesOff: []string{FeatureLogs}})
		r.Features = featureStates(r, set, in.AuthKind == store.AuthOAuth)
		return r
	}
	creds, err := Credentials(in)
	if err != nil {
		r := Report{OrgURL: in.OrgURL, Integration: in.Name, FeaturesOff: []string{}, emit: emit}
		r.add(Check{ID: "credentials", Name: "Credentials", Status: CheckFail, Detail: err.Error(),
			Fix: "remove the integration and add it again with an API token or a service app", FeaturesOff: []string{FeatureLogs}})
		r.Features = featureStates(r, set, in.AuthKind == store.AuthOAuth)
		return r
	}
	t := Target{OrgURL: in.OrgURL, Credentials: creds, Attributes: in.CustomAttributes, Features: set, CustomDomain: in.CustomDomain, CAPEM: in.CAPEM, OrgID: in.OrgID}
	if !in.Credentials.DPoPKeyPEM.IsZero() {
		t.DPoPKey, _ = ParseDPoPKey(in.Credentials.DPoPKeyPEM.Reveal()) // unreadable: a fresh key still verifies
	}
	r := v.verify(ctx, t, emit)
	r.Integration = in.Name
	return r
}

// Verify runs every check against the org and reports each result with its fix.
func (v *Verifier) Verify(ctx context.Context, t Target) Report { return v.verify(ctx, t, nil) }

func (v *Verifier) verify(ctx context.Context, t Target, emit func(Check)) (r Report) {
	clk := v.Clock
	if clk == nil {
		clk = clock.System{}
	}
	r = Report{OrgURL: t.OrgURL, FeaturesOff: []string{}, emit: emit}
	defer func() {
		r.emit = nil
		r.CanCollectLogs = r.Failed() == nil
		r.Features = featureStates(r, t.Features, t.Credentials.ServiceApp != nil)
	}()
	logsOff := []string{FeatureLogs, FeatureInventory, FeatureResponse, FeatureADLink}

	org, domains, err := orgURLOf(store.Integration{OrgURL: t.OrgURL, CustomDomain: t.CustomDomain})
	if err != nil && !t.CustomDomain && len(t.CustomDomains) > 0 {
		org, err = okta.ParseOrgURL(t.OrgURL, t.CustomDomains...)
		domains = t.CustomDomains
	}
	if err != nil {
		r.add(Check{ID: "org-url", Name: "Org URL", Status: CheckFail, Detail: err.Error(),
			Fix: "use the org's base URL as shown in the browser when signed in to the end-user dashboard, e.g. https://acme.okta.com (not the -admin host)", FeaturesOff: logsOff})
		return r
	}
	r.OrgURL = org.String()
	r.add(Check{ID: "org-url", Name: "Org URL", Status: CheckOK, Detail: org.String()})

	hc, err := httpClientFor(v.HTTPClient, v.Dial, t.CAPEM)
	if err != nil {
		r.add(Check{ID: "reachability", Name: "Reachability", Status: CheckFail, Detail: err.Error(),
			Fix: "give a PEM file of CA certificates with --ca-file (idwatch integrations update N --ca-file F)", FeaturesOff: logsOff})
		return r
	}
	id, reach := v.identify(ctx, hc, org, t.CustomDomain)
	if reach.Status == CheckFail {
		reach.FeaturesOff = logsOff
		r.add(reach)
		return r
	}
	r.OrgID = id.ID
	if t.OrgID != "" && id.ID != t.OrgID {
		r.add(Check{ID: "reachability", Name: "Reachability", Status: CheckFail, FeaturesOff: logsOff,
			Detail: fmt.Sprintf("%s now answers as Okta org %s, not org %s the integration was added for", org, id.ID, t.OrgID),
			Fix:    fmt.Sprintf("if %s really moved to another org, remove the integration and add the new org; otherwise check this host's DNS and proxy, which lead to a different org", org.Host())})
		return r
	}
	r.add(reach)

	if err := t.Credentials.Validate(); err != nil {
		r.add(Check{ID: "credentials", Name: "Credentials", Status: CheckFail, Detail: err.Error(), Fix: err.Error(), FeaturesOff: logsOff})
		return r
	}
	cfg := okta.Config{OrgURL: org.String(), CustomDomains: domains, Credentials: t.Credentials, HTTPClient: hc,
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

// identify asks the org who it is (GET /.well-known/okta-organization, unauthenticated): the
// answer proves the network path and TLS trust, and its org id tells one org from another
// whichever URL reaches it. The returned check is the reachability check, failed with the fix
// when the host cannot be reached, its certificate is refused, or it is not an Okta org.
func (v *Verifier) identify(ctx context.Context, hc *http.Client, org okta.OrgURL, customDomain bool) (okta.Organization, Check) {
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c := Check{ID: "reachability", Name: "Reachability", Status: CheckFail}
	id, err := okta.FetchOrganization(ctx, hc, org)
	var notOkta *okta.NotOktaError
	switch {
	case err == nil:
		c.Status, c.Detail = CheckOK, fmt.Sprintf("%s answers as Okta org %s", org, id.ID)
		return id, c
	case errors.As(err, &notOkta) && customDomain:
		c.Detail = err.Error()
		c.Fix = fmt.Sprintf("check that %s is a custom URL domain of your Okta org (Admin Console > Customizations > Domain) and that its DNS points to Okta; or use the org's Okta domain, https://<your-org>.okta.com, without --custom-domain", org.Host())
	case errors.As(err, &notOkta):
		c.Detail = err.Error()
		c.Fix = fmt.Sprintf("check the org name in %s (sign in to the end-user dashboard and copy the URL), or, if a proxy answers for Okta on this network, let %s through to Okta", org, org.Host())
	default:
		if p, ok := okta.ExplainTLSError(err, org.Hostname()); ok {
			c.Detail, c.Fix = p.Detail, p.Fix
			break
		}
		cause := errors.Unwrap(err)
		if cause == nil {
			cause = err
		}
		c.Detail = fmt.Sprintf("%s is unreachable: %v", org.Host(), cause)
		c.Fix = fmt.Sprintf("make sure this host resolves and can open HTTPS connections to %s (DNS, proxy, firewall, TLS inspection)", org.Host())
	}
	return okta.Organization{}, c
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

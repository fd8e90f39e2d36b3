package collect

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/feature"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/store"
)

// verifyOrg is an org whose token's admin is a directory user with roles (plus the custom response
// role when custom is set) and whose user schema declares attrs as custom attributes (nil: the
// AD link attributes). Verification reads them through oktasim's own users/me, roles and schema
// endpoints.
func verifyOrg(t *testing.T, roles []oktasim.Role, custom bool, attrs ...string) (*sim, string) {
	t.Helper()
	s := newSim(t, simOptions{noLimit: true, cfg: oktasim.Config{SchemaCustomAttributes: attrs}})
	admin := oktasim.User{AdminRoles: roles}
	if custom {
		admin.Permissions = []oktasim.Permission{oktasim.PermUsersManage, oktasim.PermSessionsManage, oktasim.PermFactorsManage}
	}
	_, _, tok, err := s.srv.AddAdmin(admin, "verify")
	if err != nil {
		t.Fatal(err)
	}
	return s, tok
}

// verify verifies an API token with the given features on (none: logs only).
func verify(t *testing.T, s *sim, orgURL, token string, on ...feature.Name) Report {
	t.Helper()
	var set feature.Set
	for _, n := range on {
		set = set.With(n)
	}
	v := &Verifier{HTTPClient: s.ts.Client(), Clock: s.clock}
	return v.Verify(context.Background(), Target{OrgURL: orgURL, Credentials: okta.Credentials{APIToken: okta.Secret(token)}, Features: set})
}

// featureLine returns a report's state of one feature.
func featureLine(t *testing.T, r Report, n feature.Name) FeatureState {
	t.Helper()
	for _, f := range r.Features {
		if f.Name == n {
			return f
		}
	}
	t.Fatalf("no feature %s in %+v", n, r.Features)
	return FeatureState{}
}

var allFeatures = []feature.Name{feature.Inventory, feature.Response}

func findCheck(t *testing.T, r Report, id string) Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no check %s in %+v", id, r.Checks)
	return Check{}
}

var allAttrs = []string{"ObjectSid", "ObjectGuid", "DistinguishedName"}

func TestVerifyAllPass(t *testing.T) {
	s, tok := verifyOrg(t, []oktasim.Role{oktasim.RoleReadOnlyAdmin}, true, allAttrs...)
	r := verify(t, s, s.ts.URL, tok, allFeatures...)
	for _, c := range r.Checks {
		if c.Status != CheckOK {
			t.Fatalf("check %s: %s %s (%s)", c.ID, c.Status, c.Detail, c.Fix)
		}
	}
	if !r.CanCollectLogs || len(r.FeaturesOff) != 0 || len(r.Checks) != 8 {
		t.Fatalf("report %+v", r)
	}
	if c := findCheck(t, r, "roles"); c.Detail != "roles: READ_ONLY_ADMIN, CUSTOM" {
		t.Fatalf("roles %+v", c)
	}
	for _, f := range r.Features {
		if !f.On || !f.Working || f.Fix != "" {
			t.Fatalf("feature %+v", f)
		}
	}
}

func TestVerifyOrgURL(t *testing.T) {
	s, tok := verifyOrg(t, []oktasim.Role{oktasim.RoleReadOnlyAdmin}, true, allAttrs...)
	r := verify(t, s, "https://acme-admin.okta.com", tok)
	c := findCheck(t, r, "org-url")
	if c.Status != CheckFail || c.Fix == "" || r.CanCollectLogs || len(r.Checks) != 1 {
		t.Fatalf("report %+v", r)
	}
}

func TestVerifyUnreachable(t *testing.T) {
	s, tok := verifyOrg(t, nil, false)
	r := verify(t, s, "http://127.0.0.1:1", tok)
	if c := findCheck(t, r, "reachability"); c.Status != CheckFail || !strings.Contains(c.Fix, "127.0.0.1:1") || r.CanCollectLogs {
		t.Fatalf("report %+v", r)
	}
}

func TestVerifyInvalidToken(t *testing.T) {
	s, _ := verifyOrg(t, nil, false)
	r := verify(t, s, s.ts.URL, "00bogus-token")
	c := findCheck(t, r, "credentials")
	if c.Status != CheckFail || !strings.Contains(c.Fix, "Security > API > Tokens") || r.CanCollectLogs {
		t.Fatalf("report %+v", r)
	}
	if strings.Contains(c.Detail+c.Fix, "00bogus-token") {
		t.Fatal("the token appears in the report")
	}
}

func TestVerifyNoLogAccess(t *testing.T) {
	s, tok := verifyOrg(t, []oktasim.Role{oktasim.RoleUserAdmin}, false, allAttrs...)
	r := verify(t, s, s.ts.URL, tok)
	if c := findCheck(t, r, "credentials"); c.Status != CheckOK {
		t.Fatalf("credentials %+v", c)
	}
	c := findCheck(t, r, "logs")
	if c.Status != CheckFail || !strings.Contains(c.Fix, "Read-Only Administrator") || r.CanCollectLogs || !slices.Contains(r.FeaturesOff, FeatureLogs) {
		t.Fatalf("report %+v", r)
	}
}

// TestVerifyReportAdminIsLogsOnly: Report Administrator is all logs need. With logs only, roles
// it cannot read are not a problem; with inventory and response on, both are off until fixed.
func TestVerifyReportAdminIsLogsOnly(t *testing.T) {
	s, tok := verifyOrg(t, []oktasim.Role{oktasim.RoleReportAdmin}, false, allAttrs...)
	r := verify(t, s, s.ts.URL, tok)
	if c := findCheck(t, r, "roles"); c.Status != CheckSkip || !r.CanCollectLogs || len(r.FeaturesOff) != 0 || len(r.Checks) != 5 {
		t.Fatalf("logs only: roles %+v, report %+v", c, r)
	}
	if f := featureLine(t, r, feature.Inventory); f.On || f.Ready || !strings.Contains(f.Fix, "Read-Only Administrator") || f.Flag != "inventory" {
		t.Fatalf("inventory %+v", f)
	}
	r = verify(t, s, s.ts.URL, tok, allFeatures...)
	c := findCheck(t, r, "roles")
	if c.Status != CheckWarn || !slices.Equal(c.FeaturesOff, []string{FeatureInventory, FeatureResponse}) || !strings.Contains(c.Fix, "for inventory, Read-Only Administrator") || !r.CanCollectLogs {
		t.Fatalf("roles %+v, off %v", c, r.FeaturesOff)
	}
	if f := featureLine(t, r, feature.Response); !f.On || f.Working || f.Fix != c.Fix {
		t.Fatalf("response %+v", f)
	}
}

func TestVerifyReadOnlyWithoutCustomRole(t *testing.T) {
	s, tok := verifyOrg(t, []oktasim.Role{oktasim.RoleReadOnlyAdmin}, false, allAttrs...)
	r := verify(t, s, s.ts.URL, tok, allFeatures...)
	c := findCheck(t, r, "roles")
	if c.Status != CheckWarn || !strings.Contains(c.Fix, "Edit users' lifecycle states") || !slices.Equal(r.FeaturesOff, []string{FeatureResponse}) || !r.CanCollectLogs {
		t.Fatalf("roles %+v, off %v", c, r.FeaturesOff)
	}
	// Logs only: the roles are enough; inventory only needs turning on, response a custom role.
	r = verify(t, s, s.ts.URL, tok)
	if c := findCheck(t, r, "roles"); c.Status != CheckOK || len(r.FeaturesOff) != 0 {
		t.Fatalf("logs only: roles %+v", c)
	}
	if f := featureLine(t, r, feature.Inventory); f.On || !f.Ready || f.Fix != "" {
		t.Fatalf("inventory %+v", f)
	}
	if f := featureLine(t, r, feature.Response); f.On || f.Ready || !strings.Contains(f.Fix, "custom admin role") || f.Flag != "response" {
		t.Fatalf("response %+v", f)
	}
}

func TestVerifySuperAdminIsOverprivileged(t *testing.T) {
	s, tok := verifyOrg(t, []oktasim.Role{oktasim.RoleSuperAdmin}, false, allAttrs...)
	r := verify(t, s, s.ts.URL, tok)
	if c := findCheck(t, r, "roles"); c.Status != CheckWarn || !strings.Contains(c.Detail, "more privilege") || len(r.FeaturesOff) != 0 ||
		!strings.Contains(c.Fix, "for logs, Report Administrator") || strings.Contains(c.Fix, "inventory") {
		t.Fatalf("roles %+v", c)
	}
}

func TestVerifyMissingAttribute(t *testing.T) {
	s, tok := verifyOrg(t, []oktasim.Role{oktasim.RoleReadOnlyAdmin}, true, "ObjectSid", "DistinguishedName", "adGuid")
	r := verify(t, s, s.ts.URL, tok, feature.Inventory)
	c := findCheck(t, r, "attribute:ObjectGuid")
	if c.Status != CheckWarn || !strings.Contains(c.Fix, "Profile Editor") || !slices.Equal(r.FeaturesOff, []string{FeatureADLink}) {
		t.Fatalf("attribute %+v, off %v", c, r.FeaturesOff)
	}
	// The AD link is part of inventory: with inventory off it is not checked.
	if r := verify(t, s, s.ts.URL, tok); slices.ContainsFunc(r.Checks, func(c Check) bool { return strings.HasPrefix(c.ID, "attribute") }) {
		t.Fatalf("attributes checked with inventory off: %+v", r.Checks)
	}
	// Configured names are honoured.
	v := &Verifier{HTTPClient: s.ts.Client(), Clock: s.clock}
	r = v.Verify(context.Background(), Target{OrgURL: s.ts.URL, Credentials: okta.Credentials{APIToken: okta.Secret(tok)},
		Attributes: storeAttrs("ObjectSid", "adGuid", "DistinguishedName"), Features: feature.Set{}.With(feature.Inventory)})
	if len(r.FeaturesOff) != 0 {
		t.Fatalf("configured names: %+v", r)
	}
}

// TestFeatureTitles keeps the report's feature names those of the feature table.
func TestFeatureTitles(t *testing.T) {
	if got := titles([]feature.Name{feature.Logs, feature.Inventory, feature.Response}); !slices.Equal(got, []string{FeatureLogs, FeatureInventory, FeatureResponse}) {
		t.Fatalf("titles %v", got)
	}
}

func storeAttrs(sid, guid, dn string) store.AttributeNames {
	return store.AttributeNames{ObjectSID: sid, ObjectGUID: guid, DistinguishedName: dn}
}

// TestVerifyUnknownStoredFeature refuses a stored feature this idwatch does not know, naming the fix,
// without contacting the org.
func TestVerifyUnknownStoredFeature(t *testing.T) {
	in := store.Integration{Name: "acme", OrgURL: "http://127.0.0.1:1", AuthKind: store.AuthAPIToken, Features: []string{"posture"}}
	r := (&Verifier{}).VerifyIntegration(context.Background(), in)
	c := findCheck(t, r, "features")
	if c.Status != CheckFail || r.CanCollectLogs || !strings.Contains(c.Detail, `unknown feature "posture"`) ||
		c.Fix != "name known features only: idwatch integrations update acme --features inventory,response (or fewer)" || len(r.Checks) != 1 {
		t.Fatalf("report %+v", r)
	}
}

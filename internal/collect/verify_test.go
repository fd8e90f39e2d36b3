package collect

import (
	"context"
	"slices"
	"strings"
	"testing"

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

func verify(t *testing.T, s *sim, orgURL, token string) Report {
	t.Helper()
	v := &Verifier{HTTPClient: s.ts.Client(), Clock: s.clock}
	return v.Verify(context.Background(), Target{OrgURL: orgURL, Credentials: okta.Credentials{APIToken: okta.Secret(token)}})
}

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
	r := verify(t, s, s.ts.URL, tok)
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

func TestVerifyReportAdminIsLogsOnly(t *testing.T) {
	s, tok := verifyOrg(t, []oktasim.Role{oktasim.RoleReportAdmin}, false, allAttrs...)
	r := verify(t, s, s.ts.URL, tok)
	if !r.CanCollectLogs {
		t.Fatalf("report %+v", r)
	}
	c := findCheck(t, r, "roles")
	if c.Status != CheckWarn || !slices.Contains(r.FeaturesOff, FeatureInventory) || !slices.Contains(r.FeaturesOff, FeatureResponse) || c.Fix == "" {
		t.Fatalf("roles %+v, off %v", c, r.FeaturesOff)
	}
}

func TestVerifyReadOnlyWithoutCustomRole(t *testing.T) {
	s, tok := verifyOrg(t, []oktasim.Role{oktasim.RoleReadOnlyAdmin}, false, allAttrs...)
	r := verify(t, s, s.ts.URL, tok)
	c := findCheck(t, r, "roles")
	if c.Status != CheckWarn || !strings.Contains(c.Fix, "Edit users' lifecycle states") || !slices.Equal(r.FeaturesOff, []string{FeatureResponse}) || !r.CanCollectLogs {
		t.Fatalf("roles %+v, off %v", c, r.FeaturesOff)
	}
}

func TestVerifySuperAdminIsOverprivileged(t *testing.T) {
	s, tok := verifyOrg(t, []oktasim.Role{oktasim.RoleSuperAdmin}, false, allAttrs...)
	r := verify(t, s, s.ts.URL, tok)
	if c := findCheck(t, r, "roles"); c.Status != CheckWarn || !strings.Contains(c.Detail, "more privilege") || len(r.FeaturesOff) != 0 {
		t.Fatalf("roles %+v", c)
	}
}

func TestVerifyMissingAttribute(t *testing.T) {
	s, tok := verifyOrg(t, []oktasim.Role{oktasim.RoleReadOnlyAdmin}, true, "ObjectSid", "DistinguishedName", "adGuid")
	r := verify(t, s, s.ts.URL, tok)
	c := findCheck(t, r, "attribute:ObjectGuid")
	if c.Status != CheckWarn || !strings.Contains(c.Fix, "Profile Editor") || !slices.Equal(r.FeaturesOff, []string{FeatureADLink}) {
		t.Fatalf("attribute %+v, off %v", c, r.FeaturesOff)
	}
	// Configured names are honoured.
	v := &Verifier{HTTPClient: s.ts.Client(), Clock: s.clock}
	r = v.Verify(context.Background(), Target{OrgURL: s.ts.URL, Credentials: okta.Credentials{APIToken: okta.Secret(tok)},
		Attributes: storeAttrs("ObjectSid", "adGuid", "DistinguishedName")})
	if len(r.FeaturesOff) != 0 {
		t.Fatalf("configured names: %+v", r)
	}
}

func storeAttrs(sid, guid, dn string) store.AttributeNames {
	return store.AttributeNames{ObjectSID: sid, ObjectGUID: guid, DistinguishedName: dn}
}

package scenario

import (
	"slices"

	"github.com/idwatch/idwatch/internal/event"
)

// Sign-on modes of App.
const (
	SignOnSAML      = "SAML_2_0"
	SignOnOIDC      = "OPENID_CONNECT"
	SignOnAutoLogin = "AUTO_LOGIN"
	SignOnBuiltIn   = "BUILT_IN"
	SignOnService   = "CLIENT_CREDENTIALS"
)

// App is an application instance in the org.
type App struct {
	ID           string   // 0oa… id; for OIDC and service apps also the OAuth client id
	Name         string   // technical name, e.g. "salesforce"
	Label        string   // display name, e.g. "Salesforce.com"
	SignOnMode   string   // one of the SignOn* constants
	Provisioning bool     // provisioning (SCIM/API) enabled
	Departments  []string // departments assigned by default; empty = everyone
	Scopes       []string // service apps: granted Okta API scopes

	sso uriValues // the app's SSO path
}

// Group is an Okta group.
type Group struct {
	ID, Name, Description string
	Type                  string // OKTA_GROUP, APP_GROUP (AD-sourced) or BUILT_IN
}

// Policy is a sign-on or authentication policy with its rules.
type Policy struct {
	ID, Name, Type string // Type: OKTA_SIGN_ON or ACCESS_POLICY
	Status         string
	Rules          []PolicyRule

	evalTargets []event.Target // policy and first rule, shared read-only by evaluation events
}

// PolicyRule is one rule of a Policy.
type PolicyRule struct {
	ID, Name string
	Factor   string // "2FA" or "1FA": what the rule requires
}

// org holds the org's fixed objects; workforce planning mutates policies only through admin tasks.
type org struct {
	dashboard, adminConsole *App
	apps                    []*App // end-user apps
	services                []*App // OAuth service apps
	groups                  []*Group
	deptGroup               map[string]*Group
	policies                []*Policy
	adAgentID, adInstance   string
	hookID, hookName        string
	tokenSeq                int
	policySeq               int
	initialPolicies         int
}

func newOrg(r *rng) *org {
	o := &org{deptGroup: map[string]*Group{}}
	app := func(name, label, mode string, prov bool, depts ...string) *App {
		a := &App{ID: r.oktaID("0oa"), Name: name, Label: label, SignOnMode: mode, Provisioning: prov, Departments: depts}
		a.sso = newURIValues("/app/" + a.Name + "/" + a.ID + "/sso/saml")
		return a
	}
	o.dashboard = app("okta_enduser", "Okta Dashboard", SignOnBuiltIn, false)
	o.adminConsole = app("saasure", "Okta Admin Console", SignOnBuiltIn, false)
	o.apps = []*App{
		app("slack", "Slack", SignOnSAML, true),
		app("google", "Google Workspace", SignOnSAML, true),
		app("office365", "Microsoft Office 365", SignOnSAML, true),
		app("zoomus", "Zoom", SignOnSAML, false),
		app("workday", "Workday", SignOnSAML, false),
		app("salesforce", "Salesforce.com", SignOnSAML, true, "Sales", "Customer Success", "Marketing"),
		app("githubcloud", "GitHub Enterprise Cloud", SignOnSAML, true, "Engineering", "Security", "IT", "Product"),
		app("atlassian", "Atlassian Cloud", SignOnSAML, true, "Engineering", "Product", "Customer Success", "IT", "Security"),
		app("amazon_aws_sso", "AWS IAM Identity Center", SignOnSAML, true, "Engineering", "IT", "Security"),
		app("netsuite", "NetSuite", SignOnSAML, false, "Finance"),
		app("greenhouse", "Greenhouse", SignOnSAML, false, "People"),
		app("zendesk", "Zendesk", SignOnSAML, true, "Customer Success"),
		app("servicenow_ud", "ServiceNow", SignOnSAML, false, "IT", "Customer Success", "Security"),
		app("figma", "Figma", SignOnSAML, false, "Product", "Marketing", "Engineering"),
		app("oidc_client", "Expense Portal", SignOnOIDC, false),
		app("oidc_client", "Engineering Wiki", SignOnOIDC, false, "Engineering", "Product", "Security", "IT"),
		app("tableau_online", "Tableau Online", SignOnAutoLogin, false, "Finance", "Sales"),
		app("template_swa", "Payroll Vendor Portal", SignOnAutoLogin, false, "Finance", "People"),
	}
	o.services = []*App{
		{ID: r.oktaID("0oa"), Name: "oidc_client", Label: "HR Sync Service", SignOnMode: SignOnService, Scopes: []string{"okta.users.manage", "okta.groups.manage"}},
		{ID: r.oktaID("0oa"), Name: "oidc_client", Label: "Service Desk Integration", SignOnMode: SignOnService, Scopes: []string{"okta.users.read", "okta.groups.read"}},
		{ID: r.oktaID("0oa"), Name: "oidc_client", Label: "Access Review Automation", SignOnMode: SignOnService, Scopes: []string{"okta.users.read", "okta.apps.read"}},
	}
	grp := func(name, desc, typ string) *Group {
		g := &Group{ID: r.oktaID("00g"), Name: name, Description: desc, Type: typ}
		o.groups = append(o.groups, g)
		return g
	}
	grp("Everyone", "All users in your organization", "BUILT_IN")
	for _, d := range departments {
		o.deptGroup[d.Name] = grp("dept-"+slugify(d.Name), d.Name+" department", "APP_GROUP")
	}
	grp("All Employees", "Every employee", "OKTA_GROUP")
	grp("Contractors", "Contractors and temporary staff", "OKTA_GROUP")
	grp("VPN Users", "Remote access VPN", "OKTA_GROUP")
	grp("AWS Production Access", "Break-glass production roles", "OKTA_GROUP")
	grp("Okta Administrators", "Members hold an Okta admin role", "OKTA_GROUP")
	grp("Project Falcon", "Cross-functional project team", "OKTA_GROUP")
	grp("Managers", "People managers", "OKTA_GROUP")

	rule := func(name, factor string) PolicyRule {
		return PolicyRule{ID: r.oktaID("0pr"), Name: name, Factor: factor}
	}
	o.policies = []*Policy{
		{ID: r.oktaID("00p"), Name: "Default Policy", Type: "OKTA_SIGN_ON", Status: "ACTIVE", Rules: []PolicyRule{rule("Default Rule", "2FA")}},
		{ID: r.oktaID("00p"), Name: "Workforce MFA", Type: "ACCESS_POLICY", Status: "ACTIVE", Rules: []PolicyRule{rule("Require MFA for all apps", "2FA"), rule("Catch-all Rule", "2FA")}},
		{ID: r.oktaID("00p"), Name: "Okta Admin Console", Type: "ACCESS_POLICY", Status: "ACTIVE", Rules: []PolicyRule{rule("Admins: phishing-resistant MFA", "2FA")}},
		{ID: r.oktaID("00p"), Name: "Legacy VPN Access", Type: "ACCESS_POLICY", Status: "ACTIVE", Rules: []PolicyRule{rule("VPN users from managed devices", "2FA")}},
	}
	o.initialPolicies = len(o.policies)
	o.adAgentID = r.oktaID("0oa")
	o.hookID, o.hookName = r.oktaID("cal"), "Token claims enrichment"
	return o
}

// appsFor returns the apps a person in dept is assigned by default.
func (o *org) appsFor(dept string) []*App {
	var out []*App
	for _, a := range o.apps {
		if len(a.Departments) == 0 || slices.Contains(a.Departments, dept) {
			out = append(out, a)
		}
	}
	return out
}

func (o *org) appByID(id string) *App {
	for _, a := range o.apps {
		if a.ID == id {
			return a
		}
	}
	return nil
}

func slugify(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'A' && c <= 'Z':
			b[i] = c + 'a' - 'A'
		case c == ' ':
			b[i] = '-'
		}
	}
	return string(b)
}

// Okta admin role types, as the roles API names them.
const (
	RoleSuperAdmin    = "SUPER_ADMIN"
	RoleOrgAdmin      = "ORG_ADMIN"
	RoleReadOnlyAdmin = "READ_ONLY_ADMIN"
	RoleHelpDeskAdmin = "HELP_DESK_ADMIN"
	RoleAppAdmin      = "APP_ADMIN"
	RoleGroupAdmin    = "USER_ADMIN"
)

// RoleLabel returns the label Okta shows (and writes into debugData.privilegeGranted) for a role type.
func RoleLabel(role string) string {
	switch role {
	case RoleSuperAdmin:
		return "Super administrator"
	case RoleOrgAdmin:
		return "Organization administrator"
	case RoleReadOnlyAdmin:
		return "Read only admin"
	case RoleHelpDeskAdmin:
		return "Help Desk administrator"
	case RoleAppAdmin:
		return "Application administrator"
	case RoleGroupAdmin:
		return "Group administrator"
	}
	return role
}

// Package normalize routes Okta System Log events to idwatch's schemas (auth, cloudaudit,
// generic) and maps each (event, schema) pair to an OCSF 1.8.0 record. It is pure: no I/O, no
// clock, no globals that change.
package normalize

//go:generate go run ./ocsfschema/gen -out testdata/ocsf

import "strings"

// Schema is one of idwatch's three normalized schemas.
type Schema string

// The schemas of docs/normalization.md.
const (
	Auth       Schema = "auth"
	CloudAudit Schema = "cloudaudit"
	Generic    Schema = "generic"
)

// Schemas lists the schemas in their documented order.
var Schemas = []Schema{Auth, CloudAudit, Generic}

// Routing says whether an event type's schema came from the listed table or was inferred from its
// family.
type Routing string

// Routing values.
const (
	Listed   Routing = "listed"
	Inferred Routing = "inferred"
)

// ListedRow is one row of the required routing table: an event type the source integration guide
// lists under a schema.
type ListedRow struct {
	Schema Schema
	Type   string
	Note   string // why the row reads as it does, when that is not obvious
}

// FamilyRow routes unlisted event types whose name starts with Prefix.
type FamilyRow struct {
	Prefix string
	Schema Schema
	Note   string
}

// ListedTable is the required routing table (schemas.md §1), in its order: 53 rows over 50
// distinct types, three of which are listed under two schemas.
var ListedTable = []ListedRow{
	{Auth, "app.oauth2.as.authorize.code", ""},
	{Auth, "app.oauth2.as.token.grant.access_token", ""},
	{Auth, "app.oauth2.as.token.grant.id_token", ""},
	{Auth, "app.oauth2.as.token.grant.refresh_token", ""},
	{Auth, "inline_hook.response.processed", ""},
	{Auth, "policy.evaluate_sign_on", "also generic"},
	{Auth, "policy.lifecycle.activate", ""},
	{Auth, "policy.lifecycle.create", ""},
	{Auth, "policy.lifecycle.deactivate", ""},
	{Auth, "policy.lifecycle.update", ""},
	{Auth, "policy.rule.add", ""},
	{Auth, "policy.rule.deactivate", ""},
	{Auth, "policy.rule.update", ""},
	{Auth, "user.account.privilege.grant", ""},
	{Auth, "user.account.reset_password", ""},
	{Auth, "user.account.update_password", "also generic"},
	{Auth, "user.account.update_profile", ""},
	{Auth, "user.authentication.auth_via_mfa", ""},
	{Auth, "user.authentication.sso", "also generic"},
	{Auth, "user.authentication.verify", ""},
	{Auth, "user.mfa.factor.activate", ""},
	{Auth, "user.mfa.factor.deactivate", ""},
	{Auth, "user.mfa.factor.reset_all", ""},
	{Auth, "user.session.clear", ""},
	{Auth, "user.session.end", ""},
	{Auth, "user.session.start", ""},
	{Auth, "system.sms.send_phone_verification_message", ""},
	{Auth, "system.voice.send_phone_verification_call", ""},

	{CloudAudit, "system.api_token.create", ""},
	{CloudAudit, "system.api_token.create.revoke", "spelled so in the source guide; kept"},
	{CloudAudit, "system.api_token.revoke", "the real Okta type, routed with its misspelled twin"},
	{CloudAudit, "application.user_membership.add", ""},
	{CloudAudit, "application.user_membership.change_password", ""},
	{CloudAudit, "application.user_membership.remove", ""},
	{CloudAudit, "user.session.access_admin_app", ""},
	{CloudAudit, "user.lifecycle.activate", ""},
	{CloudAudit, "user.lifecycle.create", ""},
	{CloudAudit, "user.lifecycle.deactivate", ""},

	{Generic, "application.provision.user.sync", ""},
	{Generic, "group.user_membership.add", ""},
	{Generic, "group.user_membership.remove", ""},
	{Generic, "policy.evaluate_sign_on", "also auth"},
	{Generic, "system.import.complete", ""},
	{Generic, "system.import.start", ""},
	{Generic, "user.account.report_suspicious_activity_by_enduser", ""},
	{Generic, "user.account.update_password", "also auth"},
	{Generic, "user.authentication.authenticate", ""},
	{Generic, "user.credential.enroll", ""},
	{Generic, "user.lifecycle.delete.initiated", ""},
	{Generic, "user.lifecycle.reactivate", ""},
	{Generic, "user.lifecycle.suspend", ""},
	{Generic, "user.lifecycle.unsuspend", ""},
	{Generic, "user.authentication.sso", "also auth"},
}

// FamilyTable routes every event type the listed table does not name, first matching prefix
// wins; a type matching none is generic. The rows of schemas.md §1 come first, then idwatch's
// own additions (marked in Note).
var FamilyTable = []FamilyRow{
	{"user.authentication.", Auth, ""},
	{"user.session.", Auth, ""},
	{"user.mfa.", Auth, ""},
	{"user.account.lock", Auth, "user.account.lock*"},
	{"user.account.unlock", Auth, "added: the counterpart of user.account.lock*"},
	{"user.account.privilege.", Auth, "added: follows the listed user.account.privilege.grant"},
	{"app.oauth2.", Auth, "added: follows the listed app.oauth2.as.* grants"},
	{"system.push.", Auth, "added: factor verification pushes, like the listed sms/voice sends"},
	{"system.api_token.", CloudAudit, ""},
	{"application.lifecycle.", CloudAudit, ""},
	{"policy.", CloudAudit, ""},
	{"zone.", CloudAudit, ""},
	{"system.idp.lifecycle.", CloudAudit, ""},
	{"iam.", CloudAudit, ""},
	{"group.privilege.", CloudAudit, ""},
	{"user.lifecycle.", CloudAudit, ""},
	{"application.user_membership.", CloudAudit, "added: follows the listed application.user_membership.*"},
	{"group.lifecycle.", CloudAudit, "added: group creation and deletion are admin configuration"},
}

// Route is where one event type goes.
type Route struct {
	Schemas []Schema // one, or two for the types listed under two schemas
	Routing Routing
	Family  string // the FamilyTable prefix that matched ("" when listed or when no family matched)
}

// Router routes event types with the tables compiled into a map.
type Router struct {
	listed map[string][]Schema
}

// NewRouter compiles ListedTable.
func NewRouter() *Router {
	r := &Router{listed: map[string][]Schema{}}
	for _, row := range ListedTable {
		r.listed[row.Type] = append(r.listed[row.Type], row.Schema)
	}
	return r
}

// Route returns the schemas for an event type. The listed table always wins over the families;
// every type gets at least one schema.
func (r *Router) Route(eventType string) Route {
	if s, ok := r.listed[eventType]; ok {
		return Route{Schemas: s, Routing: Listed}
	}
	for _, f := range FamilyTable {
		if strings.HasPrefix(eventType, f.Prefix) {
			return Route{Schemas: schemaSlices[f.Schema], Routing: Inferred, Family: f.Prefix}
		}
	}
	return Route{Schemas: schemaSlices[Generic], Routing: Inferred}
}

// schemaSlices holds one-element slices so Route does not allocate.
var schemaSlices = map[Schema][]Schema{Auth: {Auth}, CloudAudit: {CloudAudit}, Generic: {Generic}}

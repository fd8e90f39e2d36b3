package normalize

import "strings"

// OCSF class uids idwatch emits.
const (
	ClassAccountChange    = 3001
	ClassAuthentication   = 3002
	ClassAuthorizeSession = 3003
	ClassEntityManagement = 3004
	ClassUserAccess       = 3005
	ClassGroupManagement  = 3006
	ClassDetectionFinding = 2004
	ClassAPIActivity      = 6003
)

// ActivityOther is OCSF's "Other" activity; the record's activity_name then holds the event type.
const ActivityOther = 99

// classInfo is what a record needs to know about its OCSF class.
type classInfo struct {
	name       string
	category   int
	catName    string
	activities map[int]string // captions of activity_id
	verbs      map[string]int // last segment of an unlisted event type → activity_id
}

var crudVerbs = map[string]int{"create": 1, "add": 1, "read": 2, "update": 3, "delete": 4, "remove": 4}

var classes = map[int]classInfo{
	ClassAccountChange: {"Account Change", 3, "Identity & Access Management", map[int]string{
		1: "Create", 2: "Enable", 3: "Password Change", 4: "Password Reset", 5: "Disable", 6: "Delete",
		7: "Attach Policy", 8: "Detach Policy", 9: "Lock", 10: "MFA Factor Enable", 11: "MFA Factor Disable", 12: "Unlock",
	}, map[string]int{"create": 1, "activate": 2, "reactivate": 2, "unsuspend": 2, "deactivate": 5, "suspend": 5,
		"delete": 6, "lock": 9, "unlock": 12}},
	ClassAuthentication: {"Authentication", 3, "Identity & Access Management", map[int]string{
		1: "Logon", 2: "Logoff", 3: "Authentication Ticket", 4: "Service Ticket Request", 5: "Service Ticket Renew",
		6: "Preauth", 7: "Account Switch",
	}, map[string]int{"start": 1, "end": 2, "clear": 2, "expire": 2}},
	ClassAuthorizeSession: {"Authorize Session", 3, "Identity & Access Management", map[int]string{
		1: "Assign Privileges", 2: "Assign Groups",
	}, nil},
	ClassEntityManagement: {"Entity Management", 3, "Identity & Access Management", map[int]string{
		1: "Create", 2: "Read", 3: "Update", 4: "Delete", 5: "Move", 6: "Enroll", 7: "Unenroll", 8: "Enable",
		9: "Disable", 10: "Activate", 11: "Deactivate", 12: "Suspend", 13: "Resume",
	}, map[string]int{"create": 1, "add": 1, "read": 2, "update": 3, "delete": 4, "remove": 4, "enroll": 6,
		"unenroll": 7, "enable": 8, "disable": 9, "activate": 10, "deactivate": 11, "suspend": 12, "unsuspend": 13, "resume": 13}},
	ClassUserAccess: {"User Access Management", 3, "Identity & Access Management", map[int]string{
		1: "Assign Privileges", 2: "Revoke Privileges",
	}, map[string]int{"grant": 1, "add": 1, "assign": 1, "revoke": 2, "remove": 2, "unassign": 2}},
	ClassGroupManagement: {"Group Management", 3, "Identity & Access Management", map[int]string{
		1: "Assign Privileges", 2: "Revoke Privileges", 3: "Add User", 4: "Remove User", 5: "Delete", 6: "Create",
		7: "Add Subgroup", 8: "Remove Subgroup",
	}, map[string]int{"grant": 1, "revoke": 2, "create": 6, "delete": 5}},
	ClassDetectionFinding: {"Detection Finding", 2, "Findings", map[int]string{
		1: "Create", 2: "Update", 3: "Close",
	}, nil},
	ClassAPIActivity: {"API Activity", 6, "Application Activity", map[int]string{
		1: "Create", 2: "Read", 3: "Update", 4: "Delete",
	}, crudVerbs},
}

// ClassRow assigns an OCSF class (and activity) to an event type. Match is an exact event type,
// or a prefix when it ends in "*". Activity 0 means "from the type's last segment" (the class's
// verb table, else Other).
type ClassRow struct {
	Match    string
	Class    int
	Activity int
}

// ClassTable is the OCSF routing (ocsf.md §2.4): exact types first, then prefixes in order; an
// event type matching nothing is API Activity.
var ClassTable = []ClassRow{
	// Authentication
	{"user.session.start", ClassAuthentication, 1},
	{"user.session.end", ClassAuthentication, 2},
	{"user.session.clear", ClassAuthentication, 2},
	{"user.session.access_admin_app", ClassAuthentication, 1},
	{"user.authentication.sso", ClassAuthentication, 1},
	{"user.authentication.auth_via_mfa", ClassAuthentication, 1},
	{"user.authentication.verify", ClassAuthentication, 1},
	{"user.authentication.authenticate", ClassAuthentication, 1},
	// A sign-on policy decision is a stage of a sign-in, not a logon of its own (Preauth: one
	// sign-in is one Logon record, from user.session.start or user.authentication.sso).
	{"policy.evaluate_sign_on", ClassAuthentication, 6},
	{"app.oauth2.as.authorize.code", ClassAuthentication, ActivityOther},
	{"app.oauth2.as.token.grant.access_token", ClassAuthentication, ActivityOther},
	{"app.oauth2.as.token.grant.id_token", ClassAuthentication, ActivityOther},
	{"app.oauth2.as.token.grant.refresh_token", ClassAuthentication, ActivityOther},
	{"system.push.send_factor_verify_push", ClassAuthentication, 6},
	{"system.sms.send_phone_verification_message", ClassAuthentication, 6},
	{"system.voice.send_phone_verification_call", ClassAuthentication, 6},
	// Account Change
	{"user.lifecycle.create", ClassAccountChange, 1},
	{"user.lifecycle.activate", ClassAccountChange, 2},
	{"user.lifecycle.reactivate", ClassAccountChange, 2},
	{"user.lifecycle.unsuspend", ClassAccountChange, 2},
	{"user.lifecycle.deactivate", ClassAccountChange, 5},
	{"user.lifecycle.suspend", ClassAccountChange, 5},
	{"user.lifecycle.delete.initiated", ClassAccountChange, 6},
	{"user.account.reset_password", ClassAccountChange, 4},
	{"user.account.update_password", ClassAccountChange, 3},
	{"application.user_membership.change_password", ClassAccountChange, 3},
	{"user.account.update_profile", ClassAccountChange, ActivityOther},
	{"user.mfa.factor.activate", ClassAccountChange, 10},
	{"user.mfa.factor.deactivate", ClassAccountChange, 11},
	{"user.mfa.factor.reset_all", ClassAccountChange, 11},
	{"user.credential.enroll", ClassAccountChange, 10},
	// User Access Management
	{"user.account.privilege.grant", ClassUserAccess, 1},
	{"user.account.privilege.revoke", ClassUserAccess, 2},
	{"application.user_membership.add", ClassUserAccess, 1},
	{"application.user_membership.remove", ClassUserAccess, 2},
	// Group Management
	{"group.user_membership.add", ClassGroupManagement, 3},
	{"group.user_membership.remove", ClassGroupManagement, 4},
	// Entity Management
	{"policy.lifecycle.activate", ClassEntityManagement, 10},
	{"policy.lifecycle.create", ClassEntityManagement, 1},
	{"policy.lifecycle.deactivate", ClassEntityManagement, 11},
	{"policy.lifecycle.update", ClassEntityManagement, 3},
	{"policy.rule.add", ClassEntityManagement, 1},
	{"policy.rule.deactivate", ClassEntityManagement, 11},
	{"policy.rule.update", ClassEntityManagement, 3},
	// Detection Finding (Okta-native findings)
	{"security.threat.detected", ClassDetectionFinding, 1},
	{"user.account.report_suspicious_activity_by_enduser", ClassDetectionFinding, 1},
	// API Activity
	{"system.api_token.create", ClassAPIActivity, 1},
	{"system.api_token.create.revoke", ClassAPIActivity, 4},
	{"system.api_token.revoke", ClassAPIActivity, 4},
	{"inline_hook.response.processed", ClassAPIActivity, ActivityOther},
	{"system.import.start", ClassAPIActivity, ActivityOther},
	{"system.import.complete", ClassAPIActivity, ActivityOther},
	{"application.provision.user.sync", ClassAPIActivity, 3},

	// Families (prefixes), most specific first.
	{"user.session.impersonation.*", ClassAuthentication, 7},
	{"user.session.*", ClassAuthentication, 0},
	{"user.authentication.*", ClassAuthentication, 1},
	{"user.mfa.okta_verify.*", ClassAuthentication, 1},
	{"user.mfa.factor.*", ClassAccountChange, 0},
	{"user.mfa.*", ClassAuthentication, 0},
	{"app.oauth2.*", ClassAuthentication, ActivityOther},
	{"system.push.*", ClassAuthentication, 6},
	{"user.account.lock*", ClassAccountChange, 9},
	{"user.account.unlock*", ClassAccountChange, 12},
	{"user.account.privilege.*", ClassUserAccess, 0},
	{"user.lifecycle.*", ClassAccountChange, 0},
	{"application.user_membership.*", ClassUserAccess, 0},
	{"group.user_membership.*", ClassGroupManagement, 0},
	{"group.lifecycle.*", ClassGroupManagement, 0},
	{"group.privilege.*", ClassGroupManagement, 0},
	{"iam.role.*", ClassUserAccess, 0},
	{"policy.lifecycle.*", ClassEntityManagement, 0},
	{"policy.rule.*", ClassEntityManagement, 0},
	{"application.lifecycle.*", ClassEntityManagement, 0},
	{"zone.*", ClassEntityManagement, 0},
	{"network_zone.*", ClassEntityManagement, 0},
	{"system.idp.lifecycle.*", ClassEntityManagement, 0},
	{"device.*", ClassEntityManagement, 0},
	{"security.*", ClassDetectionFinding, 1},
}

// classifier looks event types up in ClassTable.
type classifier struct {
	exact    map[string]ClassRow
	prefixes []ClassRow
}

func newClassifier() classifier {
	c := classifier{exact: map[string]ClassRow{}}
	for _, row := range ClassTable {
		if p, ok := strings.CutSuffix(row.Match, "*"); ok {
			c.prefixes = append(c.prefixes, ClassRow{Match: p, Class: row.Class, Activity: row.Activity})
		} else {
			c.exact[row.Match] = row
		}
	}
	return c
}

// classify returns the class and activity of an event type.
func (c classifier) classify(eventType string) (class, activity int) {
	row, ok := c.exact[eventType]
	if !ok {
		row = ClassRow{Class: ClassAPIActivity}
		for _, p := range c.prefixes {
			if strings.HasPrefix(eventType, p.Match) {
				row = p
				break
			}
		}
	}
	activity = row.Activity
	if activity == 0 {
		verb := eventType[strings.LastIndexByte(eventType, '.')+1:]
		if a, ok := classes[row.Class].verbs[verb]; ok {
			activity = a
		} else {
			activity = ActivityOther
		}
	}
	return row.Class, activity
}

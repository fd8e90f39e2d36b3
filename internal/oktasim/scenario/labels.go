package scenario

// DetectionLabel names a detection a storyline should trigger and says what it keys on, so rule
// authors can map their rules to the storylines' ground truth.
type DetectionLabel struct {
	Name        string
	Description string
}

// DetectionLabels lists every label the storylines use, in a stable order.
func DetectionLabels() []DetectionLabel {
	return []DetectionLabel{
		{"okta_mfa_push_fatigue", "One user gets five or more Okta Verify pushes and four or more rejections within minutes, then an approval (system.push.send_factor_verify_push, auth_via_mfa FAILURE or user.mfa.okta_verify.deny_push, auth_via_mfa SUCCESS)."},
		{"okta_mfa_push_deny_multiple", "Two or more rejected pushes for one user within 10 minutes."},
		{"okta_session_via_proxy", "A successful user.session.start with securityContext.isProxy true (VPN, Tor or other anonymizer)."},
		{"okta_password_spray", "One source address fails sign-ins for ten or more users within 15 minutes, a few attempts per user."},
		{"okta_password_spray_multi_source", "Within 15 minutes, five or more addresses fail 25 or more sign-ins against eight or more users, at most five per user."},
		{"okta_credential_stuffing", "One address tries 15 or more distinct usernames, at most two attempts each, 25 or more attempts, at least 80% failing."},
		{"okta_brute_force", "Fifteen or more failed sign-ins for one user within 10 minutes."},
		{"okta_account_locked", "user.account.lock: Okta locked an account after too many failed attempts."},
		{"okta_session_cookie_replay", "One externalSessionId used from two or more addresses with a different ASN, User-Agent or dtHash."},
		{"okta_impossible_travel", "Consecutive successful sign-ins of one user more than 500 km apart at a speed above 1,000 km/h."},
		{"okta_new_country", "Successful sign-ins of one user from two countries within three hours."},
		{"okta_high_risk_sign_in", "A successful user.session.start whose debugData.risk says level=HIGH."},
		{"okta_admin_privilege_grant", "user.account.privilege.grant of Super or Organization administrator (debugData.privilegeGranted)."},
		{"okta_high_risk_session_admin_activity", "Admin Console access or admin changes in a session that started with HIGH risk."},
		{"okta_api_token_created", "system.api_token.create."},
		{"okta_api_token_new_location", "system.api_token.create from an ASN and address the admin does not use (not home, not office)."},
		{"okta_api_token_unrestricted", "system.api_token.create with debugData.networkConnection ANYWHERE."},
		{"okta_mfa_reset_all", "user.mfa.factor.reset_all."},
		{"okta_password_and_mfa_reset", "user.account.reset_password and a factor reset or deactivation for the same user within 30 minutes."},
		{"okta_policy_rule_modified", "policy.rule.update."},
		{"okta_auth_policy_mfa_downgrade", "policy.rule.update whose changeDetails turn factorMode 2FA into 1FA."},
		{"okta_idp_created", "system.idp.lifecycle.create."},
		{"okta_user_reported_suspicious_activity", "user.account.report_suspicious_activity_by_enduser."},
		{"okta_threatinsight_detection", "security.threat.detected."},
		{"okta_threat_suspected", "Any event with debugData.threatSuspected \"true\"."},
		{"okta_log_stream_tampering", "system.log_stream.lifecycle.deactivate or .delete."},
	}
}

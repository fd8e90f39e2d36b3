package main

import (
	"fmt"
	"io"
	"slices"
)

// subcommand is one subcommand of a command that has them (integrations add, rules test, …).
type subcommand struct {
	name    string
	summary string
}

// subcommands lists, for each command made of subcommands, the subcommands its dispatcher
// accepts; 'idwatch <command> -h' prints them. A subcommand added to a dispatcher belongs here
// too: the CLI test walks this table and checks each one's -h.
func subcommands() map[string][]subcommand {
	return map[string][]subcommand{
		"sinks": {
			{"types", "the sink types and their options"},
			{"list", "the configured sinks with their delivery lag and dead letters"},
			{"remove", "release a sink's offsets so it no longer holds back journal retention"},
		},
		"deadletter": {
			{"list", "records a sink gave up on, with the reason"},
			{"replay", "send a sink's dead letters again"},
		},
		"integrations": {
			{"add", "verify an Okta org's credentials and store them as an integration"},
			{"list", "the integrations with their state and lag"},
			{"show", "one integration in full: credentials described (never shown), state, lag, cursor"},
			{"update", "replace an integration's credentials, keeping its cursor and history"},
			{"remove", "delete an integration"},
			{"enable", "collect from an integration again"},
			{"disable", "stop collecting from an integration"},
		},
		"hooks": {
			{"register", "create and verify an Okta event hook for an integration, or print the admin console steps"},
			{"list", "the event hooks with state, last delivery, deliveries/min and events polled first"},
			{"remove", "delete an integration's event hook in Okta and in idwatch"},
		},
		"masterkey": {
			{"rotate", "re-seal every stored credential under a new master key"},
		},
		"events": {
			{"export", "collected events as JSON lines, raw or OCSF"},
			{"search", "find events by time, type, actor, target, IP, outcome, schema or text, a page at a time"},
		},
		"rules": {
			{"test", "run the rules' own tests"},
			{"lint", "check rule files"},
			{"list", "the rules that would run"},
		},
		"alerts": {
			{"list", "stored alerts (Detection Findings) with their status, filtered"},
			{"show", "an alert with its evidence events, ATT&CK and history"},
			{"ack", "acknowledge alerts"},
			{"resolve", "resolve alerts"},
			{"suppress", "suppress alerts, with a reason and optionally an end time"},
		},
		"apikeys": {
			{"create", "create a key with a role; the key is printed once"},
			{"list", "the keys, their roles and when each was last used"},
			{"revoke", "revoke a key by name"},
		},
		"incidents": {
			{"list", "incidents, highest risk first"},
			{"show", "an incident's timeline, risk contributions and history"},
			{"update", "set status or assignee, add a note"},
			{"suppress", "stop a rule's alerts about an incident's entity from joining incidents"},
			{"suppressions", "list alert-pattern suppressions"},
			{"unsuppress", "remove a suppression"},
		},
		"respond": {
			{"suspend", "suspend a user (reversible with unsuspend)"},
			{"unsuspend", "return a suspended user to active"},
			{"deactivate", "deprovision a user from every app (needs --confirm)"},
			{"clear-sessions", "end a user's Okta sessions, optionally revoking OAuth tokens"},
			{"reset-factors", "unenroll every MFA factor of a user"},
			{"expire-password", "force a password change at next sign-in"},
			{"list", "response actions, newest first"},
			{"show", "an action with its audit trail"},
			{"approve", "approve a proposed action and execute it"},
			{"reject", "reject a proposed action"},
		},
		"inventory": {
			{"sync", "read an integration's users, groups, admin roles and factors from Okta"},
			{"users", "inventoried users, optionally only admins"},
			{"user", "one user's identity: status, AD link, roles, factors, groups"},
		},
	}
}

// isHelpArg reports whether arg asks for help, as the flag package reads it.
func isHelpArg(arg string) bool {
	return slices.Contains([]string{"-h", "--h", "-help", "--help", "help"}, arg)
}

// helpArgs turns 'idwatch help CMD [SUB]' into 'idwatch CMD [SUB] -h', so it prints exactly what
// the command's own -h prints; other arguments are returned as they are.
func helpArgs(args []string) []string {
	if len(args) < 2 || args[0] != "help" {
		return args
	}
	return slices.Concat(args[1:], []string{"-h"})
}

// groupUsage prints the subcommands of c.
func groupUsage(w io.Writer, c command, subs []subcommand) {
	fmt.Fprintf(w, "Usage: idwatch %s <subcommand> [flags]\n\nidwatch %s: %s\n\nSubcommands:\n", c.name, c.name, c.summary)
	for _, s := range subs {
		fmt.Fprintf(w, "  %-10s %s\n", s.name, s.summary)
	}
	fmt.Fprintf(w, "\nRun 'idwatch %s <subcommand> -h' for a subcommand's flags.\n", c.name)
}

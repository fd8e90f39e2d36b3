package store

import (
	"context"
	"time"
)

// IdentityFactor is one enrolled MFA factor of a user.
type IdentityFactor struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Provider string `json:"provider"`
	Status   string `json:"status"`
}

// RoleAssignment is one admin role a user or group holds. Custom roles name their role and
// resource set; GroupID is set when the role reaches a user through a group.
type RoleAssignment struct {
	ID             string `json:"id"`
	Type           string `json:"type"`
	Label          string `json:"label"`
	Status         string `json:"status"`
	AssignmentType string `json:"assignmentType"`
	CustomRole     string `json:"customRole,omitempty"`
	ResourceSet    string `json:"resourceSet,omitempty"`
	GroupID        string `json:"groupId,omitempty"`
}

// InventoryUser is an Okta user as the inventory knows it: status, profile essentials, the AD
// link, direct role assignments and (for admins and changed users) enrolled factors.
type InventoryUser struct {
	ID              string    `json:"id"`
	Login           string    `json:"login"`
	Email           string    `json:"email"`
	DisplayName     string    `json:"displayName"`
	Status          string    `json:"status"`
	Created         time.Time `json:"created"`
	StatusChanged   time.Time `json:"statusChanged"`
	LastLogin       time.Time `json:"lastLogin"`
	LastUpdated     time.Time `json:"lastUpdated"`
	PasswordChanged time.Time `json:"passwordChanged"`
	// ProviderType is where the user is mastered: OKTA, ACTIVE_DIRECTORY, LDAP, FEDERATION, SOCIAL.
	ProviderType string `json:"providerType"`
	ProviderName string `json:"providerName"`
	Department   string `json:"department,omitempty"`
	Title        string `json:"title,omitempty"`
	// ObjectSid, ObjectGuid and DistinguishedName are the AD link (empty when the user has none).
	ObjectSid         string `json:"objectSid,omitempty"`
	ObjectGuid        string `json:"objectGuid,omitempty"`
	DistinguishedName string `json:"distinguishedName,omitempty"`
	// Roles are the user's direct role assignments (assignmentType USER).
	Roles []RoleAssignment `json:"roles,omitempty"`
	// Factors are the enrolled factors; FactorsKnown says they were fetched (admins, changed users).
	Factors      []IdentityFactor `json:"factors,omitempty"`
	FactorsKnown bool             `json:"factorsKnown"`
	// SyncedAt is when this user was last fetched from Okta.
	SyncedAt time.Time `json:"syncedAt"`
}

// InventoryGroup is an Okta group with its members and the admin roles assigned to it.
type InventoryGroup struct {
	ID                    string           `json:"id"`
	Name                  string           `json:"name"`
	Type                  string           `json:"type"`
	LastMembershipUpdated time.Time        `json:"lastMembershipUpdated"`
	Members               []string         `json:"members"`
	Roles                 []RoleAssignment `json:"roles,omitempty"`
	SyncedAt              time.Time        `json:"syncedAt"`
}

// InventorySync describes the last full sync of an integration.
type InventorySync struct {
	IntegrationID int64     `json:"integrationId"`
	StartedAt     time.Time `json:"startedAt"`
	FinishedAt    time.Time `json:"finishedAt"`
	Users         int       `json:"users"`
	Groups        int       `json:"groups"`
	// APICalls counts the Okta requests the sync made, by kind (users, groups, members, ...).
	APICalls map[string]int `json:"apiCalls"`
	// Connector is the account idwatch reads Okta as, and the roles it holds.
	Connector ConnectorAccount `json:"connector"`
	// APITokens are the org's SSWS tokens; TokensVisible is false when the integration may not
	// list them (okta.apiTokens.read missing), so no token finding can be computed.
	APITokens     []APITokenInfo `json:"apiTokens,omitempty"`
	TokensVisible bool           `json:"tokensVisible"`
	// FactorsDenied is true when Okta refused to list factors (the admin role may not view users' factors).
	FactorsDenied bool `json:"factorsDenied,omitempty"`
}

// ConnectorAccount is the Okta principal an integration acts as: a user (SSWS token) or a
// service app (OAuth client id).
type ConnectorAccount struct {
	UserID   string           `json:"userId,omitempty"`
	Login    string           `json:"login,omitempty"`
	ClientID string           `json:"clientId,omitempty"`
	Roles    []RoleAssignment `json:"roles"`
}

// APITokenInfo is an SSWS API token's metadata: who it acts as, never its value.
type APITokenInfo struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	UserID string `json:"userId"`
}

// InventorySnapshot is an integration's whole inventory.
type InventorySnapshot struct {
	Sync   InventorySync    `json:"sync"`
	Users  []InventoryUser  `json:"users"`
	Groups []InventoryGroup `json:"groups"`
}

// PostureFinding is one identity posture problem found in an integration's inventory.
type PostureFinding struct {
	// ID is stable for the same kind and subject, so a finding keeps its id across syncs.
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Severity string `json:"severity"`
	Title    string `json:"title"`
	// Accounts are the users (login or id) or groups concerned.
	Accounts []string `json:"accounts"`
	Why      string   `json:"why"`
	Fix      string   `json:"fix"`
	// FirstSeen is when the finding first appeared; LastSeen when it was last computed.
	FirstSeen time.Time `json:"firstSeen"`
	LastSeen  time.Time `json:"lastSeen"`
}

// Inventory keeps each integration's identity inventory and posture findings.
type Inventory interface {
	// ReplaceInventory stores a full sync's result, replacing the integration's users and groups.
	ReplaceInventory(ctx context.Context, integrationID int64, snap InventorySnapshot) error
	// PutInventoryUser inserts or replaces one user (an incremental update).
	PutInventoryUser(ctx context.Context, integrationID int64, u InventoryUser) error
	// DeleteInventoryUser removes a user Okta no longer has; a missing user is not an error.
	DeleteInventoryUser(ctx context.Context, integrationID int64, userID string) error
	// PutInventoryGroup inserts or replaces one group (an incremental update).
	PutInventoryGroup(ctx context.Context, integrationID int64, g InventoryGroup) error
	// DeleteInventoryGroup removes a group Okta no longer has; a missing group is not an error.
	DeleteInventoryGroup(ctx context.Context, integrationID int64, groupID string) error
	// SaveInventorySync replaces the integration's sync record (tokens, connector) only.
	SaveInventorySync(ctx context.Context, integrationID int64, sync InventorySync) error
	// LoadInventory returns the integration's inventory; ErrNotFound when it was never synced.
	LoadInventory(ctx context.Context, integrationID int64) (InventorySnapshot, error)
	// InventoryUser finds a user by id or (case-insensitively) login; ErrNotFound when absent.
	InventoryUser(ctx context.Context, integrationID int64, idOrLogin string) (InventoryUser, error)
	// SavePosture replaces the integration's findings, keeping FirstSeen of those already known.
	SavePosture(ctx context.Context, integrationID int64, findings []PostureFinding) error
	// Posture returns the integration's current findings by severity then id.
	Posture(ctx context.Context, integrationID int64) ([]PostureFinding, error)
}

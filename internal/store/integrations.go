package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/secret"
)

// AuthKind is how an integration authenticates to Okta.
type AuthKind string

// The supported authentication kinds.
const (
	AuthAPIToken AuthKind = "api_token"
	AuthOAuth    AuthKind = "oauth"
)

// AttributeNames are the Okta user profile attributes that link a user to Active Directory.
type AttributeNames struct {
	ObjectSID         string `json:"objectSid"`
	ObjectGUID        string `json:"objectGuid"`
	DistinguishedName string `json:"distinguishedName"`
}

// DefaultAttributeNames are Okta's conventional names for the AD link attributes.
var DefaultAttributeNames = AttributeNames{ObjectSID: "ObjectSid", ObjectGUID: "ObjectGuid", DistinguishedName: "DistinguishedName"}

// Credentials are an integration's secrets. The store encrypts each at rest; secret.Value keeps
// them out of logs, errors and JSON.
type Credentials struct {
	// APIToken is the SSWS token (AuthAPIToken).
	APIToken secret.Value `json:"apiToken"`
	// PrivateKeyPEM is the service app's private key (AuthOAuth).
	PrivateKeyPEM secret.Value `json:"privateKeyPem"`
	// DPoPKeyPEM is the DPoP proof key, persisted so tokens stay bound across restarts.
	DPoPKeyPEM secret.Value `json:"dpopKeyPem"`
}

// Integration is one connected Okta org.
type Integration struct {
	ID       int64    `json:"id"`
	Name     string   `json:"name"`
	OrgURL   string   `json:"orgUrl"`
	AuthKind AuthKind `json:"authKind"`
	// ClientID, KeyID and Scopes describe an OAuth service app.
	ClientID string   `json:"clientId,omitempty"`
	KeyID    string   `json:"keyId,omitempty"`
	Scopes   []string `json:"scopes,omitempty"`
	// Features are the optional features turned on (internal/feature names); log collection is
	// always on. A service app without Scopes requests what they need.
	Features         []string       `json:"features"`
	CustomAttributes AttributeNames `json:"customAttributes"`
	Enabled          bool           `json:"enabled"`
	// OrgID is the id the org publishes at /.well-known/okta-organization; empty until looked up.
	OrgID string `json:"orgId,omitempty"`
	// CustomDomain marks an OrgURL on the org's custom URL domain (any https host is accepted).
	CustomDomain bool `json:"customDomain,omitempty"`
	// CAPEM is a PEM bundle of CA certificates trusted in addition to the system roots, e.g. a
	// TLS-inspecting proxy's CA. Not a secret.
	CAPEM       string      `json:"caPem,omitempty"`
	Credentials Credentials `json:"credentials"`
	// CredentialsError says why the stored secrets could not be opened (the master key that sealed
	// them is not loaded, or they are damaged); Credentials are then empty. Only ListIntegrations
	// returns such records, so that one unreadable integration does not hide the others.
	CredentialsError string `json:"credentialsError,omitempty"`
	// CreatedAt and UpdatedAt are set by the store.
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// ErrChanged is returned (wrapped) by a conditional write to a record that changed meanwhile.
var ErrChanged = errors.New("changed meanwhile")

// ErrCredentialsUnreadable is returned (wrapped) when an integration's stored secrets cannot be
// opened: the master key that sealed them is not loaded, or the ciphertext is damaged.
var ErrCredentialsUnreadable = errors.New("credentials unreadable")

// CredentialsFix says how to make an integration's unreadable credentials usable again.
func CredentialsFix(name string) string {
	return "restore the master key that sealed them (the backed-up master.key, or the right " + secret.EnvMasterKey +
		"), or enter new credentials: idwatch integrations update " + name +
		" --api-token-file F (or --client-id C --key-id K --private-key-file P)"
}

// Validate checks the record's shape (URL policy is the Okta client's business, not the store's).
func (i Integration) Validate() error {
	var errs []error
	if strings.TrimSpace(i.Name) == "" {
		errs = append(errs, errors.New("name is empty"))
	}
	if strings.TrimSpace(i.OrgURL) == "" {
		errs = append(errs, errors.New("org URL is empty"))
	}
	switch i.AuthKind {
	case AuthAPIToken:
		if i.Credentials.APIToken.IsZero() {
			errs = append(errs, errors.New("auth kind api_token needs an API token"))
		}
	case AuthOAuth:
		if i.ClientID == "" || i.Credentials.PrivateKeyPEM.IsZero() {
			errs = append(errs, errors.New("auth kind oauth needs a client id and a private key"))
		}
	default:
		errs = append(errs, fmt.Errorf("auth kind %q is not %q or %q", i.AuthKind, AuthAPIToken, AuthOAuth))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: integration %q: %w", ErrInvalid, i.Name, err)
	}
	return nil
}

// Integrations stores integration records; secrets are sealed before they reach the database.
type Integrations interface {
	// CreateIntegration stores a new integration and returns it with its id and times set; a
	// duplicate name is ErrConflict.
	CreateIntegration(ctx context.Context, in Integration) (Integration, error)
	// UpdateIntegration replaces the record with in.ID (name included); ErrNotFound if absent.
	UpdateIntegration(ctx context.Context, in Integration) (Integration, error)
	// SetDPoPKey stores the integration's DPoP key only if its UpdatedAt is still
	// unchangedSince (ErrChanged otherwise, so that credentials updated meanwhile are never
	// overwritten with older ones) and returns the new UpdatedAt.
	SetDPoPKey(ctx context.Context, id int64, key secret.Value, unchangedSince time.Time) (time.Time, error)
	// Integration returns one integration with its secrets decrypted; secrets that cannot be
	// opened are ErrCredentialsUnreadable, with the fix.
	Integration(ctx context.Context, id int64) (Integration, error)
	// IntegrationByName returns the integration with that name, like Integration.
	IntegrationByName(ctx context.Context, name string) (Integration, error)
	// ListIntegrations returns every integration by id. One whose secrets cannot be opened is
	// listed with empty Credentials and CredentialsError set, never failing the whole list.
	ListIntegrations(ctx context.Context) ([]Integration, error)
	// IntegrationVersions returns every integration's UpdatedAt by id without opening secrets.
	// Every write to a record moves it forward, even within one clock tick.
	IntegrationVersions(ctx context.Context) (map[int64]time.Time, error)
	// SetIntegrationEnabled switches collection for an integration on or off.
	SetIntegrationEnabled(ctx context.Context, id int64, enabled bool) error
	// SetIntegrationOrgID records the org id an integration's org published, leaving UpdatedAt
	// alone (it is what the org is, not a change of configuration); ErrNotFound if absent.
	SetIntegrationOrgID(ctx context.Context, id int64, orgID string) error
	// DeleteIntegration removes the record, its cursor and its health; its journal entries stay
	// until retention removes them.
	DeleteIntegration(ctx context.Context, id int64) error
	// ResealSecrets re-encrypts every secret not sealed under the current primary key (after key
	// rotation) and returns how many integrations it rewrote.
	ResealSecrets(ctx context.Context) (int, error)
	// SealedKeyIDs counts the stored secrets by the id of the master key that sealed them.
	SealedKeyIDs(ctx context.Context) (map[uint32]int, error)
}

// Package event is the Okta System Log LogEvent model: typed fields, tolerant decoding, and field
// access by dotted path with the semantics detection rules rely on.
package event

import (
	"encoding/json"
	"time"
)

// LogEvent is one Okta System Log event. Every field Okta documents is typed; anything else Okta
// adds later is kept verbatim in Extra so that nothing is lost on a round trip.
type LogEvent struct {
	UUID                  string                 `json:"uuid"`
	Published             time.Time              `json:"published"`
	EventType             string                 `json:"eventType"`
	Version               string                 `json:"version"`
	Severity              string                 `json:"severity"`
	LegacyEventType       string                 `json:"legacyEventType,omitempty"`
	DisplayMessage        string                 `json:"displayMessage,omitempty"`
	Actor                 *Actor                 `json:"actor,omitempty"`
	Client                *Client                `json:"client,omitempty"`
	Device                *Device                `json:"device,omitempty"`
	Outcome               *Outcome               `json:"outcome,omitempty"`
	Target                []Target               `json:"target,omitempty"`
	Transaction           *Transaction           `json:"transaction,omitempty"`
	DebugContext          *DebugContext          `json:"debugContext,omitempty"`
	AuthenticationContext *AuthenticationContext `json:"authenticationContext,omitempty"`
	SecurityContext       *SecurityContext       `json:"securityContext,omitempty"`
	Request               *Request               `json:"request,omitempty"`

	// Extra holds top-level fields this model does not know, exactly as received.
	Extra map[string]json.RawMessage `json:"-"`

	// Flaws lists what could not be read into the model (a field of the wrong type, a missing
	// or unreadable uuid, eventType or published), each with the value as received. An event
	// with flaws is still an event: it is kept, and its flaws travel with it.
	Flaws []Flaw `json:"-"`
}

// Flaw is one part of an event the model could not hold.
type Flaw struct {
	Path    string          // where, e.g. debugContext.debugData or target[1].detailEntry
	Problem string          // what was wrong, e.g. "want an object, got a string"
	Value   json.RawMessage // the value as received (compact JSON); nil for a missing field
}

// String renders the flaw for a log line.
func (f Flaw) String() string {
	if f.Value == nil {
		return f.Path + ": " + f.Problem
	}
	return f.Path + ": " + f.Problem + ": " + clip(string(f.Value), 200)
}

// Actor is the entity that performed the action.
type Actor struct {
	ID          string         `json:"id"`
	Type        string         `json:"type"`
	AlternateID string         `json:"alternateId,omitempty"`
	DisplayName string         `json:"displayName,omitempty"`
	DetailEntry map[string]any `json:"detailEntry,omitempty"`
}

// Target is an entity the action was performed on; find targets by Type, not position.
type Target struct {
	ID            string         `json:"id"`
	Type          string         `json:"type"`
	AlternateID   string         `json:"alternateId,omitempty"`
	DisplayName   string         `json:"displayName,omitempty"`
	DetailEntry   map[string]any `json:"detailEntry,omitempty"`
	ChangeDetails *ChangeDetails `json:"changeDetails,omitempty"`
}

// ChangeDetails holds a target's attributes before and after the change.
type ChangeDetails struct {
	From map[string]any `json:"from,omitempty"`
	To   map[string]any `json:"to,omitempty"`
}

// Client is the HTTP client that made the request, as Okta saw it.
type Client struct {
	UserAgent           *UserAgent           `json:"userAgent,omitempty"`
	Zone                string               `json:"zone,omitempty"`
	Device              string               `json:"device,omitempty"`
	ID                  string               `json:"id,omitempty"`
	IPAddress           string               `json:"ipAddress,omitempty"`
	GeographicalContext *GeographicalContext `json:"geographicalContext,omitempty"`
}

// UserAgent is Okta's parse of the client's User-Agent header.
type UserAgent struct {
	RawUserAgent string `json:"rawUserAgent,omitempty"`
	OS           string `json:"os,omitempty"`
	Browser      string `json:"browser,omitempty"`
}

// GeographicalContext is Okta's geolocation of an IP address.
type GeographicalContext struct {
	City        string       `json:"city,omitempty"`
	State       string       `json:"state,omitempty"`
	Country     string       `json:"country,omitempty"`
	PostalCode  string       `json:"postalCode,omitempty"`
	Geolocation *Geolocation `json:"geolocation,omitempty"`
}

// Geolocation is a latitude/longitude pair in degrees.
type Geolocation struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Device is the Okta Verify / OIE device the event was tied to.
type Device struct {
	ID                    string `json:"id,omitempty"`
	Name                  string `json:"name,omitempty"`
	OSPlatform            string `json:"os_platform,omitempty"`
	OSVersion             string `json:"os_version,omitempty"`
	Managed               *bool  `json:"managed,omitempty"`
	Registered            *bool  `json:"registered,omitempty"`
	DeviceIntegrator      any    `json:"device_integrator,omitempty"`
	DiskEncryptionType    string `json:"disk_encryption_type,omitempty"`
	ScreenLockType        string `json:"screen_lock_type,omitempty"`
	Jailbreak             *bool  `json:"jailbreak,omitempty"`
	SecureHardwarePresent *bool  `json:"secure_hardware_present,omitempty"`
}

// Outcome is the result of the action and why.
type Outcome struct {
	Result string `json:"result,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Transaction groups the events of one request or job.
type Transaction struct {
	Type   string         `json:"type,omitempty"`
	ID     string         `json:"id,omitempty"`
	Detail map[string]any `json:"detail,omitempty"`
}

// DebugContext carries free-form, event-type-specific debug data (not a stable contract).
type DebugContext struct {
	DebugData map[string]any `json:"debugData,omitempty"`
}

// AuthenticationContext describes how the actor authenticated.
type AuthenticationContext struct {
	AuthenticationProvider string  `json:"authenticationProvider,omitempty"`
	CredentialProvider     string  `json:"credentialProvider,omitempty"`
	CredentialType         string  `json:"credentialType,omitempty"`
	Issuer                 *Issuer `json:"issuer,omitempty"`
	Interface              string  `json:"interface,omitempty"`
	AuthenticationStep     int     `json:"authenticationStep"`
	ExternalSessionID      string  `json:"externalSessionId,omitempty"`
	RootSessionID          string  `json:"rootSessionId,omitempty"`
}

// Issuer identifies who issued the credential.
type Issuer struct {
	ID   string `json:"id,omitempty"`
	Type string `json:"type,omitempty"`
}

// SecurityContext is what Okta knows about the source IP.
type SecurityContext struct {
	AsNumber      *int64         `json:"asNumber,omitempty"`
	AsOrg         string         `json:"asOrg,omitempty"`
	ISP           string         `json:"isp,omitempty"`
	Domain        string         `json:"domain,omitempty"`
	IsProxy       *bool          `json:"isProxy,omitempty"`
	IPDetails     map[string]any `json:"ipDetails,omitempty"`
	Risk          map[string]any `json:"risk,omitempty"`
	UserBehaviors []any          `json:"userBehaviors,omitempty"`
	BotProtection map[string]any `json:"botProtection,omitempty"`
}

// Request carries the chain of IPs the request passed through (client first, then proxies).
type Request struct {
	IPChain []IPChainEntry `json:"ipChain,omitempty"`
}

// IPChainEntry is one hop of Request.IPChain.
type IPChainEntry struct {
	IP                  string               `json:"ip,omitempty"`
	GeographicalContext *GeographicalContext `json:"geographicalContext,omitempty"`
	Version             string               `json:"version,omitempty"`
	Source              string               `json:"source,omitempty"`
	IPDetails           map[string]any       `json:"ipDetails,omitempty"`
}

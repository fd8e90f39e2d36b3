package normalize

import (
	"slices"
	"time"

	"github.com/idwatch/idwatch/internal/event"
)

// OCSF is one OCSF 1.8.0 event as idwatch emits it: the base event, the IAM / API / finding
// attributes idwatch fills, and unmapped for every Okta field without an OCSF home. Zero values
// are left out of the encoding.
type OCSF struct {
	ActivityID   int
	ActivityName string
	CategoryUID  int
	CategoryName string
	ClassUID     int
	ClassName    string
	TypeUID      int
	TypeName     string
	SeverityID   int
	Severity     string
	Time         int64 // epoch milliseconds of Okta's published
	Message      string
	StatusID     int
	Status       string
	StatusCode   string // Okta's outcome.result, verbatim
	StatusDetail string // Okta's outcome.reason
	Metadata     Metadata

	Actor       *Actor
	User        *User
	SrcEndpoint *Endpoint
	HTTPRequest *HTTPRequest
	Device      *Device

	// Authentication (3002)
	Session             *Session
	IsMFA               *bool
	AuthFactors         []AuthFactor
	AuthProtocolID      int
	AuthProtocol        string
	AccountSwitchTypeID int
	AccountSwitchType   string
	Service             *Named

	// User Access (3005), Group Management (3006)
	Privileges []string
	Group      *Named
	Resources  []Resource

	// Entity Management (3004)
	Entity *Entity

	// API Activity (6003)
	API *API

	// Detection Finding (2004)
	FindingInfo   *FindingInfo
	ActionID      int
	Action        string
	DispositionID int
	Disposition   string
	Evidences     []Evidence

	// Source is the Okta event; its fields without an OCSF home are written as unmapped.
	Source *event.LogEvent
}

// Metadata is OCSF metadata; Labels carries "schema:…" and "routing:…".
type Metadata struct {
	UID            string
	EventCode      string
	ProductVersion string
	TenantUID      string
	CorrelationUID string
	OriginalTime   time.Time
	LoggedTime     int64
	ProcessedTime  int64
	Labels         []string
	Profiles       []string
}

// Product constants of metadata.product (schemas.md §2).
const (
	ProductName   = "Okta System Log"
	ProductVendor = "Okta"
	OCSFVersion   = "1.8.0"
)

// Actor is OCSF actor.
type Actor struct {
	User    *User
	Session *Session
	AppName string
	AppUID  string
}

// User is OCSF user.
type User struct {
	UID       string
	Name      string
	FullName  string
	EmailAddr string
	TypeID    int
	Type      string

	// Enrichment (enrich.go), set only for a user the inventory knows: uid_alt is the AD
	// objectSid, ldap_person.ldap_dn the distinguishedName, account the AD account.
	UIDAlt  string
	LDAPDN  string
	Groups  []string
	HasMFA  *bool
	Account *Account
	// Info is the inventory's answer, for rules (actor.isAdmin …); not encoded as such.
	Info *Identity
}

// Session is OCSF session.
type Session struct {
	UID    string
	UIDAlt string
	Issuer string
}

// Endpoint is OCSF network_endpoint (src_endpoint).
type Endpoint struct {
	IP              string
	Name            string
	Domain          string
	Zone            string
	ISP             string
	IntermediateIPs []string
	Location        *Location
	ASNumber        *int64
	ASName          string
	OS              *OS
}

// Location is OCSF location. Country is the ISO 3166-1 alpha-2 code of the country Okta names.
type Location struct {
	City, Region, Country, Continent, PostalCode string
	Lat, Long                                    *float64
}

// OS is OCSF os.
type OS struct {
	Name    string
	Version string
	TypeID  int
	Type    string
}

// HTTPRequest is OCSF http_request.
type HTTPRequest struct {
	UID       string
	UserAgent string
	URLPath   string
}

// Device is OCSF device, from Okta's top-level device (Okta Verify / OIE).
type Device struct {
	UID       string
	Name      string
	TypeID    int
	Type      string
	IsManaged *bool
	OS        *OS
}

// AuthFactor is OCSF auth_factor.
type AuthFactor struct {
	FactorTypeID int
	FactorType   string
	Provider     string
}

// Named is an OCSF object identified by uid and name (service, group).
type Named struct {
	UID  string
	Name string
	Type string
}

// Resource is OCSF resource_details.
type Resource struct {
	UID  string
	Name string
	Type string
}

// Entity is OCSF managed_entity.
type Entity struct {
	UID    string
	Name   string
	TypeID int
	Type   string
	Policy *Named
	Data   map[string]any
}

// API is OCSF api.
type API struct {
	Operation  string
	RequestUID string
	Service    string
}

// FindingInfo is OCSF finding_info.
type FindingInfo struct {
	UID         string
	Title       string
	Desc        string
	Types       []string
	CreatedTime int64
}

// Evidence is OCSF evidences (the actor and source of an Okta-native finding; the finding class
// has no top-level src_endpoint or http_request).
type Evidence struct {
	Actor       *Actor
	SrcEndpoint *Endpoint
	HTTPRequest *HTTPRequest
}

// appendJSON writes the OCSF object (rawData, when not empty, becomes raw_data) and returns
// where its metadata.labels value begins and ends in w.B (the only part the records of one event
// do not share).
func (o *OCSF) appendJSON(w *event.JSONWriter, rawData []byte) (labelsAt, labelsEnd int) {
	w.Open()
	w.Int("activity_id", int64(o.ActivityID))
	w.Str("activity_name", o.ActivityName)
	w.Int("category_uid", int64(o.CategoryUID))
	w.Str("category_name", o.CategoryName)
	w.Int("class_uid", int64(o.ClassUID))
	w.Str("class_name", o.ClassName)
	w.Int("type_uid", int64(o.TypeUID))
	w.Str("type_name", o.TypeName)
	w.Int("severity_id", int64(o.SeverityID))
	w.Str("severity", o.Severity)
	w.Int("time", o.Time)
	w.Str("message", o.Message)
	w.Int("status_id", int64(o.StatusID))
	w.Str("status", o.Status)
	w.Str("status_code", o.StatusCode)
	w.Str("status_detail", o.StatusDetail)
	labelsAt, labelsEnd = o.Metadata.appendJSON(w)
	metadataEnd := len(w.B) - 1 // metadata's closing brace
	b := bounded{w: w}
	if o.Actor != nil {
		w.Key("actor")
		o.Actor.appendJSON(w)
	}
	if o.User != nil {
		w.Key("user")
		o.User.appendJSON(w)
	}
	if o.SrcEndpoint != nil {
		w.Key("src_endpoint")
		o.SrcEndpoint.appendJSON(w)
	}
	if o.HTTPRequest != nil {
		w.Key("http_request")
		o.HTTPRequest.appendJSON(w)
	}
	if d := o.Device; d != nil {
		w.Key("device")
		w.Open()
		w.Str("uid", d.UID)
		w.Str("name", d.Name)
		w.Int("type_id", int64(d.TypeID))
		w.Str("type", d.Type)
		w.Bool("is_managed", d.IsManaged)
		if d.OS != nil {
			w.Key("os")
			d.OS.appendJSON(w)
		}
		w.Close()
	}
	if o.Session != nil {
		w.Key("session")
		o.Session.appendJSON(w)
	}
	w.Bool("is_mfa", o.IsMFA)
	if len(o.AuthFactors) > 0 {
		w.Array("auth_factors", len(o.AuthFactors), func(i int) {
			f := o.AuthFactors[i]
			w.Open()
			w.Int("factor_type_id", int64(f.FactorTypeID))
			w.Str("factor_type", f.FactorType)
			w.Str("provider", f.Provider)
			w.Close()
		})
	}
	if o.AuthProtocolID != 0 {
		w.Int("auth_protocol_id", int64(o.AuthProtocolID))
		w.Str("auth_protocol", o.AuthProtocol)
	}
	if o.AccountSwitchTypeID != 0 {
		w.Int("account_switch_type_id", int64(o.AccountSwitchTypeID))
		w.Str("account_switch_type", o.AccountSwitchType)
	}
	if o.Service != nil {
		w.Key("service")
		o.Service.appendJSON(w, false)
	}
	if o.Privileges != nil {
		w.Array("privileges", len(o.Privileges), func(i int) { w.B = event.AppendString(w.B, o.Privileges[i]) })
	}
	if o.Group != nil {
		w.Key("group")
		o.Group.appendJSON(w, true)
	}
	if len(o.Resources) > 0 {
		w.Array("resources", len(o.Resources), func(i int) {
			r := o.Resources[i]
			w.Open()
			w.Str("uid", r.UID)
			w.Str("name", r.Name)
			w.Str("type", r.Type)
			w.Close()
		})
	}
	if e := o.Entity; e != nil {
		w.Key("entity")
		w.Open()
		w.Str("uid", e.UID)
		w.Str("name", e.Name)
		w.Int("type_id", int64(e.TypeID))
		w.Str("type", e.Type)
		if e.Policy != nil {
			w.Key("policy")
			e.Policy.appendJSON(w, true)
		}
		b.mapMember("data", e.Data, 3)
		w.Close()
	}
	if a := o.API; a != nil {
		w.Key("api")
		w.Open()
		w.Str("operation", a.Operation)
		if a.RequestUID != "" {
			w.Key("request")
			w.Open()
			w.Str("uid", a.RequestUID)
			w.Close()
		}
		if a.Service != "" {
			w.Key("service")
			w.Open()
			w.Str("name", a.Service)
			w.Close()
		}
		w.Close()
	}
	if f := o.FindingInfo; f != nil {
		w.Key("finding_info")
		w.Open()
		w.Str("uid", f.UID)
		w.Str("title", f.Title)
		w.Str("desc", f.Desc)
		if f.CreatedTime != 0 {
			w.Int("created_time", f.CreatedTime)
		}
		if len(f.Types) > 0 {
			writeStrings(w, "types", f.Types)
		}
		w.Close()
	}
	if o.ActionID != 0 {
		w.Int("action_id", int64(o.ActionID))
		w.Str("action", o.Action)
	}
	if o.DispositionID != 0 {
		w.Int("disposition_id", int64(o.DispositionID))
		w.Str("disposition", o.Disposition)
	}
	if len(o.Evidences) > 0 {
		w.Array("evidences", len(o.Evidences), func(i int) {
			e := o.Evidences[i]
			w.Open()
			if e.Actor != nil {
				w.Key("actor")
				e.Actor.appendJSON(w)
			}
			if e.SrcEndpoint != nil {
				w.Key("src_endpoint")
				e.SrcEndpoint.appendJSON(w)
			}
			if e.HTTPRequest != nil {
				w.Key("http_request")
				e.HTTPRequest.appendJSON(w)
			}
			w.Close()
		})
	}
	if o.Source != nil {
		writeUnmapped(&b, o)
	}
	if b.truncated {
		// Known only now: say so at the end of metadata (after labels, whose offsets stand).
		const flag = `,"is_truncated":true`
		w.B = slices.Insert(w.B, metadataEnd, []byte(flag)...)
	}
	if len(rawData) > 0 {
		w.Key("raw_data")
		w.B = event.AppendStringBytes(w.B, rawData)
	}
	w.Close()
	return labelsAt, labelsEnd
}

// writeStrings writes member k as an array of strings ("[]" when s is empty).
func writeStrings(w *event.JSONWriter, k string, s []string) {
	w.Key(k)
	w.B = appendStrings(w.B, s)
}

// appendStrings appends s as a JSON array of strings.
func appendStrings(b []byte, s []string) []byte {
	b = append(b, '[')
	for i, v := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = event.AppendString(b, v)
	}
	return append(b, ']')
}

// appendJSON writes the metadata member and returns where its labels value begins and ends.
func (m *Metadata) appendJSON(w *event.JSONWriter) (labelsAt, labelsEnd int) {
	w.Key("metadata")
	w.Open()
	w.Str("uid", m.UID)
	w.Str("event_code", m.EventCode)
	w.Key("product")
	w.Open()
	w.Str("name", ProductName)
	w.Str("vendor_name", ProductVendor)
	w.Str("version", m.ProductVersion)
	w.Close()
	w.Str("version", OCSFVersion)
	w.Str("tenant_uid", m.TenantUID)
	w.Str("correlation_uid", m.CorrelationUID)
	w.Time("original_time", m.OriginalTime)
	if m.LoggedTime != 0 {
		w.Int("logged_time", m.LoggedTime)
	}
	if m.ProcessedTime != 0 {
		w.Int("processed_time", m.ProcessedTime)
	}
	w.Str("log_provider", ProductVendor)
	w.Str("log_name", "System Log")
	w.Key("labels")
	labelsAt = len(w.B)
	w.B = appendStrings(w.B, m.Labels)
	labelsEnd = len(w.B)
	if len(m.Profiles) > 0 {
		writeStrings(w, "profiles", m.Profiles)
	}
	w.Close()
	return labelsAt, labelsEnd
}

func (a *Actor) appendJSON(w *event.JSONWriter) {
	w.Open()
	if a.User != nil {
		w.Key("user")
		a.User.appendJSON(w)
	}
	if a.Session != nil {
		w.Key("session")
		a.Session.appendJSON(w)
	}
	w.Str("app_name", a.AppName)
	w.Str("app_uid", a.AppUID)
	w.Close()
}

func (u *User) appendJSON(w *event.JSONWriter) {
	w.Open()
	w.Str("uid", u.UID)
	w.Str("name", u.Name)
	w.Str("full_name", u.FullName)
	w.Str("email_addr", u.EmailAddr)
	w.Int("type_id", int64(u.TypeID))
	w.Str("type", u.Type)
	if u.Info != nil {
		u.appendEnrichment(w)
	}
	w.Close()
}

func (s *Session) appendJSON(w *event.JSONWriter) {
	w.Open()
	w.Str("uid", s.UID)
	w.Str("uid_alt", s.UIDAlt)
	w.Str("issuer", s.Issuer)
	w.Close()
}

func (n *Named) appendJSON(w *event.JSONWriter, withType bool) {
	w.Open()
	w.Str("uid", n.UID)
	w.Str("name", n.Name)
	if withType {
		w.Str("type", n.Type)
	}
	w.Close()
}

func (h *HTTPRequest) appendJSON(w *event.JSONWriter) {
	w.Open()
	w.Str("uid", h.UID)
	w.Str("user_agent", h.UserAgent)
	if h.URLPath != "" {
		w.Key("url")
		w.Open()
		w.Str("path", h.URLPath)
		w.Close()
	}
	w.Close()
}

func (o *OS) appendJSON(w *event.JSONWriter) {
	w.Open()
	w.Str("name", o.Name)
	w.Str("version", o.Version)
	w.Int("type_id", int64(o.TypeID))
	w.Str("type", o.Type)
	w.Close()
}

func (e *Endpoint) appendJSON(w *event.JSONWriter) {
	w.Open()
	w.Str("ip", e.IP)
	w.Str("name", e.Name)
	w.Str("domain", e.Domain)
	w.Str("zone", e.Zone)
	w.Str("isp", e.ISP)
	if len(e.IntermediateIPs) > 0 {
		writeStrings(w, "intermediate_ips", e.IntermediateIPs)
	}
	if l := e.Location; l != nil {
		w.Key("location")
		w.Open()
		w.Str("city", l.City)
		w.Str("region", l.Region)
		w.Str("country", l.Country)
		w.Str("continent", l.Continent)
		w.Str("postal_code", l.PostalCode)
		if l.Lat != nil {
			w.Float("lat", *l.Lat)
		}
		if l.Long != nil {
			w.Float("long", *l.Long)
		}
		w.Close()
	}
	if e.ASNumber != nil || e.ASName != "" {
		w.Key("autonomous_system")
		w.Open()
		w.Str("name", e.ASName)
		if e.ASNumber != nil {
			w.Int("number", *e.ASNumber)
		}
		w.Close()
	}
	if e.OS != nil {
		w.Key("os")
		e.OS.appendJSON(w)
	}
	w.Close()
}

package scenario

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/event"
)

// Okta user statuses.
const (
	StatusActive          = "ACTIVE"
	StatusSuspended       = "SUSPENDED"
	StatusDeprovisioned   = "DEPROVISIONED"
	StatusLockedOut       = "LOCKED_OUT"
	StatusPasswordExpired = "PASSWORD_EXPIRED"
	StatusStaged          = "STAGED"
	StatusProvisioned     = "PROVISIONED"
)

// Person is one user of the org with everything the simulation needs to make their traffic.
type Person struct {
	ID                    string // "00u" + 17 base62 characters
	Login, Email          string
	FirstName, LastName   string
	Status                string
	Created, Activated    time.Time // Activated is zero for STAGED users
	StatusChanged         time.Time
	LastLogin             time.Time // zero if never signed in
	PasswordChanged       time.Time // zero if no password was ever set
	Department, Title     string
	ManagerID             string // "" for the top of the org chart
	EmployeeNumber        string
	MobilePhone           string // a fictional number
	ADSourced             bool
	ObjectSid, ObjectGuid string // AD-sourced users only
	DistinguishedName     string // AD-sourced users only
	SamAccountName        string // AD-sourced users only

	// Home location and home network.
	City, State, Country, PostalCode string
	Lat, Lon                         float64
	UTCOffset                        int // minutes east of UTC (standard time)
	HomeIP                           string
	ASN                              int64
	ASOrg, ISP                       string
	OfficeIP                         string // corporate egress when working from an office; "" if fully remote

	Devices    []Device // Devices[0] is the work computer; a Mobile device, if any, follows
	Factors    []Factor // enrolled MFA factors, preferred first
	AdminRoles []string // Role* constants; empty for non-admins
	Hours      WorkHours
	Apps       []string // ids of the apps the person is assigned and signs in to
	Groups     []string // ids of the groups the person belongs to

	home    *city
	homeNet *network
	office  int   // index into cities of the office, or -1
	trip    *trip // planning state: the person is travelling
	actor   *event.Actor
}

// DisplayName is "First Last".
func (p *Person) DisplayName() string { return p.FirstName + " " + p.LastName }

// IsAdmin reports whether the person holds any admin role.
func (p *Person) IsAdmin() bool { return len(p.AdminRoles) > 0 }

// WorkHours is when a person usually works, in their home timezone.
type WorkHours struct {
	StartMinute int  // minutes after local midnight
	Minutes     int  // length of the working day
	Weekends    bool // sometimes works on weekends
}

// Device is a device a person signs in from.
type Device struct {
	Kind           string // client.device: "Computer" or "Mobile"
	UserAgent      string // raw User-Agent header
	OS, Browser    string // Okta's parse: "Mac OS X", "CHROME"
	Name           string // device name, e.g. "Mac15,6" or "DESKTOP-4F9K2QZ"
	Platform       string // OIE device os_platform: OSX, WINDOWS, LINUX, IOS, ANDROID
	OSVersion      string
	OktaDeviceID   string // Okta Verify / OIE device id ("guo…")
	DTHash         string // debugData.dtHash: device token hash
	Fingerprint    string // debugData.deviceFingerprint
	Managed        bool
	ScreenLock     string
	DiskEncryption string
}

// Factor is an enrolled MFA factor (authenticator enrollment).
type Factor struct {
	ID         string // factor / AuthenticatorEnrollment id
	FactorType string // push, token:software:totp, webauthn, sms, call
	Provider   string // OKTA, GOOGLE, FIDO
	Name       string // authenticator display name ("Okta Verify")
	DebugName  string // debugData.factor ("OKTA_VERIFY_PUSH")
	Method     string // detailEntry.methodTypeUsed
	Enrolled   time.Time

	detail map[string]any // the enrollment target's detailEntry, shared read-only by events
}

var (
	factorPush     = Factor{FactorType: "push", Provider: "OKTA", Name: "Okta Verify", DebugName: "OKTA_VERIFY_PUSH", Method: "Get a push notification"}
	factorTOTP     = Factor{FactorType: "token:software:totp", Provider: "OKTA", Name: "Okta Verify", DebugName: "OKTA_VERIFY_TOTP", Method: "Enter a code"}
	factorGoogle   = Factor{FactorType: "token:software:totp", Provider: "GOOGLE", Name: "Google Authenticator", DebugName: "GOOGLE_OTP", Method: "Enter a code"}
	factorWebAuthn = Factor{FactorType: "webauthn", Provider: "FIDO", Name: "Security Key or Biometric", DebugName: "FIDO_WEBAUTHN", Method: "Use Security Key or Biometric"}
	factorSMS      = Factor{FactorType: "sms", Provider: "OKTA", Name: "Phone", DebugName: "SMS_FACTOR", Method: "Receive a code via SMS"}
	factorCall     = Factor{FactorType: "call", Provider: "OKTA", Name: "Phone", DebugName: "CALL_FACTOR", Method: "Receive a voice call"}
)

func factorPrefix(t string) string {
	switch t {
	case "push":
		return "opf"
	case "token:software:totp":
		return "ost"
	case "webauthn":
		return "fwf"
	case "sms":
		return "mbl"
	case "call":
		return "clf"
	}
	return "fct"
}

func newFactor(r *rng, tmpl Factor, at time.Time) Factor {
	f := tmpl
	f.ID = r.oktaID(factorPrefix(f.FactorType))
	f.Enrolled = at
	f.detail = map[string]any{"methodTypeUsed": f.Method, "methodUsedVerifiedProperties": "[DEVICE_BOUND]"}
	return f
}

// factor returns the person's first factor of the given type, if any.
func (p *Person) factor(factorType string) (Factor, bool) {
	for _, f := range p.Factors {
		if f.FactorType == factorType {
			return f, true
		}
	}
	return Factor{}, false
}

func (p *Person) mobile() *Device {
	for i := range p.Devices {
		if p.Devices[i].Kind == "Mobile" {
			return &p.Devices[i]
		}
	}
	return nil
}

// clone returns a deep copy, so callers can't reach the generator's state.
func (p *Person) clone() Person {
	c := *p
	c.Devices = slices.Clone(p.Devices)
	c.Factors = slices.Clone(p.Factors)
	c.AdminRoles = slices.Clone(p.AdminRoles)
	c.Apps = slices.Clone(p.Apps)
	c.Groups = slices.Clone(p.Groups)
	c.trip = nil
	return c
}

// population generates people and keeps logins unique.
type population struct {
	cfg      Config
	org      *org
	logins   map[string]bool
	sidBase  string
	dnSuffix string
	rid      int
	empNo    int
}

func newPopulation(cfg Config, o *org, r *rng) *population {
	labels := strings.Split(cfg.OrgDomain, ".")
	dc := "DC=corp"
	for _, l := range labels {
		dc += ",DC=" + l
	}
	return &population{
		cfg: cfg, org: o, logins: map[string]bool{},
		sidBase:  fmt.Sprintf("S-1-5-21-%d-%d-%d", 1000000000+r.IntN(999999999), 1000000000+r.IntN(999999999), 1000000000+r.IntN(999999999)),
		dnSuffix: dc, rid: 1103, empNo: 10000,
	}
}

// initial generates the workforce at cfg.Start.
func (pop *population) initial(r *rng) []*Person {
	cfg := pop.cfg
	people := make([]*Person, 0, cfg.Users)
	for i := 0; i < cfg.Users; i++ {
		created := cfg.Start.Add(-time.Duration(30+r.IntN(1500)) * 24 * time.Hour).Add(-time.Duration(r.IntN(86400)) * time.Second)
		people = append(people, pop.newPerson(r, created, initialStatus(r)))
	}
	pop.assignManagers(people)
	pop.assignAdmins(r, people)
	return people
}

func initialStatus(r *rng) string {
	switch i := r.weighted([]float64{92, 2, 2, 1, 1, 1, 1}); i {
	case 1:
		return StatusSuspended
	case 2:
		return StatusDeprovisioned
	case 3:
		return StatusLockedOut
	case 4:
		return StatusPasswordExpired
	case 5:
		return StatusStaged
	case 6:
		return StatusProvisioned
	}
	return StatusActive
}

// newPerson generates one person created at the given time with the given status.
func (pop *population) newPerson(r *rng, created time.Time, status string) *Person {
	cfg := pop.cfg
	p := &Person{ID: r.oktaID("00u"), Status: status, Created: created, office: -1}
	for {
		p.FirstName, p.LastName = pick(r, firstNames), pick(r, lastNames)
		login := strings.ToLower(p.FirstName + "." + p.LastName)
		for n := 2; pop.logins[login]; n++ {
			login = strings.ToLower(p.FirstName+"."+p.LastName) + strconv.Itoa(n)
		}
		if len(login) < 64 {
			pop.logins[login] = true
			p.Login = login + "@" + cfg.OrgDomain
			break
		}
	}
	p.Email = p.Login
	dw := make([]float64, len(departments))
	for i, d := range departments {
		dw[i] = d.Weight
	}
	dept := departments[r.weighted(dw)]
	p.Department, p.Title = dept.Name, pick(r, dept.Titles)
	pop.empNo++
	p.EmployeeNumber = strconv.Itoa(pop.empNo)
	p.MobilePhone = fmt.Sprintf("+1 555-01%02d-%04d", r.IntN(100), r.IntN(10000))

	ci := hqCity
	if r.chance(cfg.RemoteShare) {
		ci = pick(r, homeCities[1:])
	} else if r.chance(0.25) {
		ci = 3 // Seattle shares the HQ timezone
	}
	p.home = &cities[ci]
	p.City, p.State, p.Country, p.PostalCode = p.home.Name, p.home.State, p.home.Country, p.home.Postal
	p.Lat, p.Lon, p.UTCOffset = p.home.Lat, p.home.Lon, p.home.Offset
	p.homeNet = &networks[pick(r, p.home.ISPs)]
	p.HomeIP, p.ASN, p.ASOrg, p.ISP = ipIn(r, p.homeNet), p.homeNet.ASN, p.homeNet.Org, p.homeNet.ISP
	if off := officeFor(ci); off >= 0 && r.chance(0.7) {
		p.office = off
		p.OfficeIP = officeIP(off, r.IntN(egressPool(cfg.Users)))
	}

	start := cfg.WorkdayStartHour*60 + int(math.Round(r.NormFloat64()*40))
	p.Hours = WorkHours{StartMinute: max(5*60, min(11*60, start/5*5)), Minutes: cfg.WorkdayHours*60 + r.between(-60, 45), Weekends: r.chance(0.3)}

	p.Devices = append(p.Devices, newComputer(r, p))
	if r.chance(0.92) {
		p.Devices = append(p.Devices, newMobile(r))
	}
	enrolled := created.Add(time.Duration(1+r.IntN(48)) * time.Hour)
	if p.mobile() != nil {
		p.Factors = append(p.Factors, newFactor(r, factorPush, enrolled))
		p.Factors = append(p.Factors, newFactor(r, factorTOTP, enrolled))
	}
	if r.chance(0.25) || p.mobile() == nil {
		p.Factors = append(p.Factors, newFactor(r, factorWebAuthn, enrolled.Add(time.Hour)))
	}
	if r.chance(0.15) || p.mobile() == nil {
		p.Factors = append(p.Factors, newFactor(r, factorSMS, enrolled))
	}
	if r.chance(0.05) {
		p.Factors = append(p.Factors, newFactor(r, factorGoogle, enrolled))
	}
	if r.chance(0.03) {
		p.Factors = append(p.Factors, newFactor(r, factorCall, enrolled))
	}

	if r.chance(cfg.ADShare) {
		p.ADSourced = true
		pop.rid++
		p.ObjectSid = pop.sidBase + "-" + strconv.Itoa(pop.rid)
		p.ObjectGuid = r.uuid()
		p.SamAccountName = strings.ToLower(p.FirstName[:1] + p.LastName)
		if len(p.SamAccountName) > 20 {
			p.SamAccountName = p.SamAccountName[:20]
		}
		p.DistinguishedName = "CN=" + p.DisplayName() + ",OU=" + p.Department + ",OU=Users," + pop.dnSuffix
	}

	for _, a := range pop.org.appsFor(p.Department) {
		p.Apps = append(p.Apps, a.ID)
	}
	p.Groups = append(p.Groups, pop.org.groups[0].ID, pop.org.deptGroup[p.Department].ID, pop.org.groups[len(departments)+1].ID)
	if r.chance(0.4) {
		p.Groups = append(p.Groups, pop.groupNamed("VPN Users").ID)
	}

	pop.setLifecycleTimes(r, p)
	p.actor = userActor(p)
	return p
}

// setLifecycleTimes fills the timestamps consistent with p.Status and p.Created.
func (pop *population) setLifecycleTimes(r *rng, p *Person) {
	start := pop.cfg.Start
	since := func(t time.Time) time.Duration { return max(time.Hour, start.Sub(t)) }
	p.StatusChanged = p.Created
	if p.Status == StatusStaged {
		return
	}
	p.Activated = p.Created.Add(time.Duration(1+r.IntN(72)) * time.Hour)
	p.StatusChanged = p.Activated
	if p.Status == StatusProvisioned || !p.Activated.Before(start) {
		return
	}
	p.PasswordChanged = p.Activated.Add(time.Duration(r.Int64N(int64(since(p.Activated)))))
	p.LastLogin = start.Add(-time.Duration(r.Int64N(int64(min(since(p.Activated), 72*time.Hour)))))
	if p.Status != StatusActive {
		p.StatusChanged = start.Add(-time.Duration(r.Int64N(int64(since(p.Activated)))))
		if p.LastLogin.After(p.StatusChanged) {
			p.LastLogin = p.StatusChanged.Add(-time.Hour)
		}
	}
}

func (pop *population) groupNamed(name string) *Group {
	for _, g := range pop.org.groups {
		if g.Name == name {
			return g
		}
	}
	panic("scenario: unknown built-in group " + name) // only reachable through a programming error
}

// assignManagers makes the first person the CEO, the first of each department its head, and has
// everyone else report to their department head.
func (pop *population) assignManagers(people []*Person) {
	if len(people) == 0 {
		return
	}
	ceo := people[0]
	ceo.Title = "Chief Executive Officer"
	heads := map[string]*Person{}
	for _, p := range people[1:] {
		h := heads[p.Department]
		if h == nil {
			heads[p.Department] = p
			p.Title = "Head of " + p.Department
			p.ManagerID = ceo.ID
			continue
		}
		p.ManagerID = h.ID
	}
}

// assignAdmins gives admin roles, preferring IT and Security staff who are active.
func (pop *population) assignAdmins(r *rng, people []*Person) {
	n := max(2, int(math.Round(float64(len(people))*pop.cfg.AdminShare)))
	roles := []string{RoleSuperAdmin, RoleOrgAdmin, RoleHelpDeskAdmin, RoleReadOnlyAdmin, RoleSuperAdmin, RoleAppAdmin, RoleHelpDeskAdmin, RoleGroupAdmin}
	var cands []*Person
	for _, p := range people {
		if p.Department == "IT" || p.Department == "Security" {
			cands = append(cands, p)
		}
	}
	for _, p := range people {
		if len(cands) >= n {
			break
		}
		if p.Department != "IT" && p.Department != "Security" {
			cands = append(cands, p)
		}
	}
	adminGroup := pop.groupNamed("Okta Administrators").ID
	for i := 0; i < n && i < len(cands); i++ {
		p := cands[i]
		p.AdminRoles = []string{roles[i%len(roles)]}
		if p.Status != StatusActive {
			p.Status = StatusActive
			pop.setLifecycleTimes(r, p)
		}
		p.Groups = append(p.Groups, adminGroup)
		if _, ok := p.factor("webauthn"); !ok {
			p.Factors = append(p.Factors, newFactor(r, factorWebAuthn, p.Activated))
		}
	}
}

// officeFor returns the office a person living in city ci commutes to, or -1.
func officeFor(ci int) int {
	if slices.Contains(officeCities, ci) {
		return ci
	}
	return -1
}

// egressPool is how many NAT addresses each office egresses through: about one per 150 people, so
// that a shared address does not collect other people's mistyped passwords like an attack would.
func egressPool(users int) int { return max(4, min(250, users/150)) }

// officeIP is egress address n of an office: the first ten in the documentation range
// 198.51.100.0/24, more in the office ISP's synthetic range.
func officeIP(office, n int) string {
	i := slices.Index(officeCities, office)
	if n < 10 {
		return ipv4(198, 51, 100, byte(10+10*i+n))
	}
	return ipv4(128, 241, byte(100+i), byte(n))
}

func newComputer(r *rng, p *Person) Device {
	d := Device{Kind: "Computer", OktaDeviceID: r.oktaID("guo"), DTHash: r.hex(64), Fingerprint: r.hex(32), Managed: r.chance(0.85), ScreenLock: "PASSCODE", DiskEncryption: "FULL"}
	chrome := fmt.Sprintf("Chrome/%d.0.0.0", pick(r, []int{128, 129, 130, 131}))
	linux := p.Department == "Engineering" && r.chance(0.15)
	switch {
	case linux:
		d.Platform, d.OS, d.OSVersion, d.Name = "LINUX", "Linux", "6.8.0", "ubuntu-"+strings.ToLower(r.base62(6))
		d.Browser = "FIREFOX"
		d.UserAgent = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0"
		d.DiskEncryption, d.Managed = "USER", false
	case r.chance(0.55):
		d.Platform, d.OS, d.OSVersion = "OSX", "Mac OS X", pick(r, []string{"14.6.1", "14.7.0", "15.1.0"})
		d.Name, d.ScreenLock, d.DiskEncryption = pick(r, []string{"Mac15,6", "Mac14,9", "Mac15,3", "MacBookPro18,3"}), "BIOMETRIC", "ALL_INTERNAL_VOLUMES"
		if r.chance(0.2) {
			d.Browser = "SAFARI"
			d.UserAgent = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15"
		} else {
			d.Browser = "CHROME"
			d.UserAgent = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) " + chrome + " Safari/537.36"
		}
	default:
		d.Platform, d.OS, d.OSVersion = "WINDOWS", "Windows 10", pick(r, []string{"10.0.22631", "10.0.26100", "10.0.19045"})
		d.Name = "DESKTOP-" + strings.ToUpper(r.base62(7))
		switch {
		case r.chance(0.3):
			d.Browser = "EDGE"
			d.UserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) " + chrome + " Safari/537.36 Edg/130.0.0.0"
		case r.chance(0.15):
			d.Browser = "FIREFOX"
			d.UserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0"
		default:
			d.Browser = "CHROME"
			d.UserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) " + chrome + " Safari/537.36"
		}
	}
	return d
}

func newMobile(r *rng) Device {
	d := Device{Kind: "Mobile", OktaDeviceID: r.oktaID("guo"), DTHash: r.hex(64), Fingerprint: r.hex(32), ScreenLock: "BIOMETRIC", DiskEncryption: "FULL"}
	if r.chance(0.6) {
		d.Platform, d.OS, d.Browser, d.OSVersion = "IOS", "iOS", "SAFARI", pick(r, []string{"17.6.1", "18.0.1", "18.1"})
		d.Name = pick(r, []string{"iPhone15,2", "iPhone16,1", "iPhone17,3"})
		d.UserAgent = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
	} else {
		d.Platform, d.OS, d.Browser, d.OSVersion = "ANDROID", "Android", "CHROME", pick(r, []string{"14", "15"})
		d.Name = pick(r, []string{"Pixel 8", "Pixel 9", "SM-S921B"})
		d.UserAgent = "Mozilla/5.0 (Linux; Android 14; " + d.Name + ") AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36"
	}
	return d
}

// countryCodes are the ISO 3166-1 alpha-2 codes of the countries in the city table.
var countryCodes = map[string]string{
	"United States": "US", "Canada": "CA", "United Kingdom": "GB", "Ireland": "IE", "Germany": "DE", "France": "FR",
	"Netherlands": "NL", "Spain": "ES", "Japan": "JP", "Australia": "AU", "India": "IN", "Singapore": "SG",
	"Brazil": "BR", "Romania": "RO", "Nigeria": "NG", "Russia": "RU", "Vietnam": "VN", "Switzerland": "CH",
}

// Profile returns the person's Okta user profile: base attributes under Okta's names plus, for
// AD-sourced people, the custom attributes ObjectSid, ObjectGuid and DistinguishedName.
func (p *Person) Profile() map[string]any {
	prof := map[string]any{
		"login": p.Login, "email": p.Email, "firstName": p.FirstName, "lastName": p.LastName,
		"displayName": p.DisplayName(), "department": p.Department, "title": p.Title,
		"employeeNumber": p.EmployeeNumber, "mobilePhone": p.MobilePhone, "city": p.City, "state": p.State,
		"countryCode": countryCodes[p.Country], "zipCode": p.PostalCode, "managerId": p.ManagerID,
	}
	if p.ManagerID == "" {
		delete(prof, "managerId")
	}
	if p.ADSourced {
		prof["ObjectSid"] = p.ObjectSid
		prof["ObjectGuid"] = p.ObjectGuid
		prof["DistinguishedName"] = p.DistinguishedName
		prof["samAccountName"] = p.SamAccountName
	}
	return prof
}

// Provider returns the credential provider type and name of the person's account, as the users
// API reports them: ACTIVE_DIRECTORY with the AD domain (from the DN's DC parts), or OKTA.
func (p *Person) Provider() (typ, name string) {
	if !p.ADSourced {
		return "OKTA", "OKTA"
	}
	var dcs []string
	for _, part := range strings.Split(p.DistinguishedName, ",") {
		if v, ok := strings.CutPrefix(part, "DC="); ok {
			dcs = append(dcs, v)
		}
	}
	return "ACTIVE_DIRECTORY", strings.Join(dcs, ".")
}

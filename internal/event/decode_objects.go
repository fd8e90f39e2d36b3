package event

// Decoders of the LogEvent's objects. Each accepts null (as nil), matches member names in any
// case, skips members it does not know, and takes its object from the event's block (see take).

import (
	"errors"
	"strings"
)

// errUnknown is returned by a member reader of the event model (see object), without consuming
// the value, for a name it does not know: object then retries the name as Okta spells it, or
// skips the value.
var errUnknown = errors.New("unknown member")

// unknown handles a member fn did not know: the same name in Okta's case if it is one of the
// model's, else the value is skipped.
func (d *scanner) unknown(k string, fn func(k string) error) error {
	if n, ok := knownKeys[strings.ToLower(k)]; ok && n != k {
		if err := fn(n); err != errUnknown {
			return err
		}
	}
	_, err := d.skip()
	return err
}

// knownKeys maps every member name of the event model, lower-cased, to Okta's spelling. No two
// of Okta's names differ only in case, so one table serves every object.
var knownKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"uuid", "published", "eventType", "version", "severity", "legacyEventType", "displayMessage",
		"actor", "client", "device", "outcome", "target", "transaction", "debugContext",
		"authenticationContext", "securityContext", "request",
		"id", "type", "alternateId", "displayName", "detailEntry", "changeDetails", "from", "to",
		"userAgent", "zone", "ipAddress", "geographicalContext", "rawUserAgent", "os", "browser",
		"city", "state", "country", "postalCode", "geolocation", "lat", "lon",
		"name", "os_platform", "os_version", "managed", "registered", "device_integrator",
		"disk_encryption_type", "screen_lock_type", "jailbreak", "secure_hardware_present",
		"result", "reason", "detail", "debugData",
		"authenticationProvider", "credentialProvider", "credentialType", "issuer", "interface",
		"authenticationStep", "externalSessionId", "rootSessionId",
		"asNumber", "asOrg", "isp", "domain", "isProxy", "ipDetails", "risk", "userBehaviors", "botProtection",
		"ipChain", "ip", "source",
	} {
		m[strings.ToLower(k)] = k
	}
	return m
}()

func (d *scanner) actor() (*Actor, error) {
	if null, err := d.nullOr('{'); null {
		return nil, err
	}
	a := take(d, &d.blk.actor, bActor)
	return a, d.object(func(k string) error {
		var err error
		switch k {
		case "id":
			a.ID, err = d.text()
		case "type":
			a.Type, err = d.text()
		case "alternateId":
			a.AlternateID, err = d.text()
		case "displayName":
			a.DisplayName, err = d.text()
		case "detailEntry":
			a.DetailEntry, err = d.freeMap()
		default:
			err = errUnknown
		}
		return err
	})
}

func (d *scanner) targets() ([]Target, error) {
	if null, err := d.nullOr('['); null {
		return nil, err
	}
	ts := make([]Target, 0, 4)
	err := d.array(func() error { return d.index(len(ts), func() error { return d.target(&ts) }) })
	return ts, err
}

// target reads one element of the target array and appends it to ts.
func (d *scanner) target(ts *[]Target) error {
	if null, err := d.nullOr('{'); null {
		return err
	}
	var t Target
	err := d.object(func(k string) error {
		var err error
		switch k {
		case "id":
			t.ID, err = d.text()
		case "type":
			t.Type, err = d.text()
		case "alternateId":
			t.AlternateID, err = d.text()
		case "displayName":
			t.DisplayName, err = d.text()
		case "detailEntry":
			t.DetailEntry, err = d.freeMap()
		case "changeDetails":
			t.ChangeDetails, err = d.changeDetails()
		default:
			err = errUnknown
		}
		return err
	})
	*ts = append(*ts, t)
	return err
}

func (d *scanner) changeDetails() (*ChangeDetails, error) {
	if null, err := d.nullOr('{'); null {
		return nil, err
	}
	c := new(ChangeDetails)
	return c, d.object(func(k string) error {
		var err error
		switch k {
		case "from":
			c.From, err = d.freeMap()
		case "to":
			c.To, err = d.freeMap()
		default:
			err = errUnknown
		}
		return err
	})
}

func (d *scanner) client() (*Client, error) {
	if null, err := d.nullOr('{'); null {
		return nil, err
	}
	c := take(d, &d.blk.client, bClient)
	return c, d.object(func(k string) error {
		var err error
		switch k {
		case "userAgent":
			c.UserAgent, err = d.userAgent()
		case "zone":
			c.Zone, err = d.text()
		case "device":
			c.Device, err = d.text()
		case "id":
			c.ID, err = d.text()
		case "ipAddress":
			c.IPAddress, err = d.text()
		case "geographicalContext":
			c.GeographicalContext, err = d.geo()
		default:
			err = errUnknown
		}
		return err
	})
}

func (d *scanner) userAgent() (*UserAgent, error) {
	if null, err := d.nullOr('{'); null {
		return nil, err
	}
	u := take(d, &d.blk.ua, bUA)
	return u, d.object(func(k string) error {
		var err error
		switch k {
		case "rawUserAgent":
			u.RawUserAgent, err = d.text()
		case "os":
			u.OS, err = d.text()
		case "browser":
			u.Browser, err = d.text()
		default:
			err = errUnknown
		}
		return err
	})
}

func (d *scanner) geo() (*GeographicalContext, error) {
	if null, err := d.nullOr('{'); null {
		return nil, err
	}
	g := take(d, &d.blk.geo[0], bGeo0)
	if g == nil {
		g = take(d, &d.blk.geo[1], bGeo1)
	}
	return g, d.object(func(k string) error {
		var err error
		switch k {
		case "city":
			g.City, err = d.text()
		case "state":
			g.State, err = d.text()
		case "country":
			g.Country, err = d.text()
		case "postalCode":
			g.PostalCode, err = d.text()
		case "geolocation":
			if null, nerr := d.nullOr('{'); null {
				return nerr
			}
			l := take(d, &d.blk.gl[0], bGl0)
			if l == nil {
				l = take(d, &d.blk.gl[1], bGl1)
			}
			g.Geolocation = l
			err = d.object(func(k string) error {
				var err error
				switch k {
				case "lat":
					l.Lat, err = d.float()
				case "lon":
					l.Lon, err = d.float()
				default:
					err = errUnknown
				}
				return err
			})
		default:
			err = errUnknown
		}
		return err
	})
}

func (d *scanner) device() (*Device, error) {
	if null, err := d.nullOr('{'); null {
		return nil, err
	}
	v := take(d, &d.blk.device, bDevice)
	return v, d.object(func(k string) error {
		var err error
		switch k {
		case "id":
			v.ID, err = d.text()
		case "name":
			v.Name, err = d.text()
		case "os_platform":
			v.OSPlatform, err = d.text()
		case "os_version":
			v.OSVersion, err = d.text()
		case "managed":
			v.Managed, err = d.optBool()
		case "registered":
			v.Registered, err = d.optBool()
		case "device_integrator":
			v.DeviceIntegrator, err = d.freeValue()
		case "disk_encryption_type":
			v.DiskEncryptionType, err = d.text()
		case "screen_lock_type":
			v.ScreenLockType, err = d.text()
		case "jailbreak":
			v.Jailbreak, err = d.optBool()
		case "secure_hardware_present":
			v.SecureHardwarePresent, err = d.optBool()
		default:
			err = errUnknown
		}
		return err
	})
}

func (d *scanner) outcome() (*Outcome, error) {
	if null, err := d.nullOr('{'); null {
		return nil, err
	}
	o := take(d, &d.blk.outcome, bOutcome)
	return o, d.object(func(k string) error {
		var err error
		switch k {
		case "result":
			o.Result, err = d.text()
		case "reason":
			o.Reason, err = d.text()
		default:
			err = errUnknown
		}
		return err
	})
}

func (d *scanner) transaction() (*Transaction, error) {
	if null, err := d.nullOr('{'); null {
		return nil, err
	}
	t := take(d, &d.blk.tx, bTx)
	return t, d.object(func(k string) error {
		var err error
		switch k {
		case "type":
			t.Type, err = d.text()
		case "id":
			t.ID, err = d.text()
		case "detail":
			t.Detail, err = d.freeMap()
		default:
			err = errUnknown
		}
		return err
	})
}

func (d *scanner) debugContext() (*DebugContext, error) {
	if null, err := d.nullOr('{'); null {
		return nil, err
	}
	c := take(d, &d.blk.dc, bDC)
	return c, d.object(func(k string) error {
		if k != "debugData" {
			return errUnknown
		}
		var err error
		c.DebugData, err = d.freeMap()
		return err
	})
}

func (d *scanner) authContext() (*AuthenticationContext, error) {
	if null, err := d.nullOr('{'); null {
		return nil, err
	}
	a := take(d, &d.blk.ac, bAC)
	return a, d.object(func(k string) error {
		var err error
		switch k {
		case "authenticationProvider":
			a.AuthenticationProvider, err = d.text()
		case "credentialProvider":
			a.CredentialProvider, err = d.text()
		case "credentialType":
			a.CredentialType, err = d.text()
		case "issuer":
			if null, nerr := d.nullOr('{'); null {
				return nerr
			}
			is := take(d, &d.blk.issuer, bIssuer)
			a.Issuer = is
			err = d.object(func(k string) error {
				var err error
				switch k {
				case "id":
					is.ID, err = d.text()
				case "type":
					is.Type, err = d.text()
				default:
					err = errUnknown
				}
				return err
			})
		case "interface":
			a.Interface, err = d.text()
		case "authenticationStep":
			var n *int64
			if n, err = d.optInt(); n != nil {
				a.AuthenticationStep = int(*n)
			}
		case "externalSessionId":
			a.ExternalSessionID, err = d.text()
		case "rootSessionId":
			a.RootSessionID, err = d.text()
		default:
			err = errUnknown
		}
		return err
	})
}

func (d *scanner) securityContext() (*SecurityContext, error) {
	if null, err := d.nullOr('{'); null {
		return nil, err
	}
	c := take(d, &d.blk.sc, bSC)
	return c, d.object(func(k string) error {
		var err error
		switch k {
		case "asNumber":
			c.AsNumber, err = d.optInt()
		case "asOrg":
			c.AsOrg, err = d.text()
		case "isp":
			c.ISP, err = d.text()
		case "domain":
			c.Domain, err = d.text()
		case "isProxy":
			c.IsProxy, err = d.optBool()
		case "ipDetails":
			c.IPDetails, err = d.freeMap()
		case "risk":
			c.Risk, err = d.freeMap()
		case "userBehaviors":
			if null, nerr := d.nullOr('['); null {
				return nerr
			}
			var v any
			if v, err = d.freeValue(); err == nil {
				c.UserBehaviors, _ = v.([]any)
			}
		case "botProtection":
			c.BotProtection, err = d.freeMap()
		default:
			err = errUnknown
		}
		return err
	})
}

func (d *scanner) request() (*Request, error) {
	if null, err := d.nullOr('{'); null {
		return nil, err
	}
	r := take(d, &d.blk.req, bReq)
	return r, d.object(func(k string) error {
		if k != "ipChain" {
			return errUnknown
		}
		if null, err := d.nullOr('['); null {
			return err
		}
		r.IPChain = make([]IPChainEntry, 0, 2)
		return d.array(func() error { return d.index(len(r.IPChain), func() error { return d.hop(r) }) })
	})
}

// hop reads one element of request.ipChain and appends it to r.IPChain.
func (d *scanner) hop(r *Request) error {
	if null, err := d.nullOr('{'); null {
		return err
	}
	var e IPChainEntry
	err := d.object(func(k string) error {
		var err error
		switch k {
		case "ip":
			e.IP, err = d.text()
		case "geographicalContext":
			e.GeographicalContext, err = d.geo()
		case "version":
			e.Version, err = d.text()
		case "source":
			e.Source, err = d.text()
		case "ipDetails":
			e.IPDetails, err = d.freeMap()
		default:
			err = errUnknown
		}
		return err
	})
	r.IPChain = append(r.IPChain, e)
	return err
}

// block holds the objects an event usually has, so that one allocation serves them all; a
// second object of a kind (a duplicate member, a second hop's location) gets its own.
type block struct {
	ev      LogEvent
	path    [12]pathSeg // the scanner's path, deep enough for the model's objects
	actor   Actor
	client  Client
	ua      UserAgent
	geo     [2]GeographicalContext
	gl      [2]Geolocation
	device  Device
	outcome Outcome
	tx      Transaction
	dc      DebugContext
	ac      AuthenticationContext
	issuer  Issuer
	sc      SecurityContext
	req     Request
	used    uint32
}

const (
	bActor = 1 << iota
	bClient
	bUA
	bGeo0
	bGeo1
	bGl0
	bGl1
	bDevice
	bOutcome
	bTx
	bDC
	bAC
	bIssuer
	bSC
	bReq
)

// take returns slot the first time bit is asked for, and a new object after that. For the
// second location slots (bGeo1, bGl1) it returns nil when they are taken, so the caller falls
// back to new.
func take[T any](d *scanner, slot *T, bit uint32) *T {
	if d.blk.used&bit == 0 {
		d.blk.used |= bit
		return slot
	}
	if bit == bGeo0 || bit == bGl0 {
		return nil
	}
	return new(T)
}

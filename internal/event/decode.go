package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Decode parses one Okta System Log event. It tolerates what real exports contain (null objects
// and fields, missing contexts, numbers where Okta documents strings and the reverse, timestamps
// with or without a zone or fraction) and keeps unknown top-level fields in Extra. It rejects
// input that is not a JSON object or lacks uuid, eventType or published, with an error saying so.
// The event does not reference raw after Decode returns.
func Decode(raw []byte) (*LogEvent, error) {
	blk := new(block)
	if err := decodeInto(&blk.ev, string(raw), blk); err != nil {
		return nil, err
	}
	return &blk.ev, nil
}

// UnmarshalJSON decodes like Decode, so encoding/json users get the same tolerance and Extra.
func (ev *LogEvent) UnmarshalJSON(raw []byte) error {
	*ev = LogEvent{}
	return decodeInto(ev, string(raw), new(block))
}

// ErrNotEvent is wrapped by every error that says the input is valid JSON but not an Okta event.
var ErrNotEvent = errors.New("not an Okta System Log event")

func decodeInto(ev *LogEvent, s string, blk *block) error {
	d := scanner{s: s, blk: blk}
	if c := d.peek(); c != '{' {
		if c == 0 {
			return fmt.Errorf("%w: empty input", ErrNotEvent)
		}
		if _, err := d.skip(); err != nil {
			return err
		}
		return fmt.Errorf("%w: got %s, want a JSON object", ErrNotEvent, kind(c))
	}
	var published string
	err := d.object(func(k string) error {
		var err error
		switch k {
		case "uuid":
			ev.UUID, err = d.text()
		case "published":
			published, err = d.text()
		case "eventType":
			ev.EventType, err = d.text()
		case "version":
			ev.Version, err = d.text()
		case "severity":
			ev.Severity, err = d.text()
		case "legacyEventType":
			ev.LegacyEventType, err = d.text()
		case "displayMessage":
			ev.DisplayMessage, err = d.text()
		case "actor":
			ev.Actor, err = d.actor()
		case "client":
			ev.Client, err = d.client()
		case "device":
			ev.Device, err = d.device()
		case "outcome":
			ev.Outcome, err = d.outcome()
		case "target":
			ev.Target, err = d.targets()
		case "transaction":
			ev.Transaction, err = d.transaction()
		case "debugContext":
			ev.DebugContext, err = d.debugContext()
		case "authenticationContext":
			ev.AuthenticationContext, err = d.authContext()
		case "securityContext":
			ev.SecurityContext, err = d.securityContext()
		case "request":
			ev.Request, err = d.request()
		default:
			var v string
			if v, err = d.skip(); err == nil {
				if ev.Extra == nil {
					ev.Extra = map[string]json.RawMessage{}
				}
				ev.Extra[k] = compactJSON(v)
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	if d.peek() != 0 {
		return d.syntax("unexpected data after the event object")
	}
	switch {
	case ev.UUID == "":
		return fmt.Errorf("%w: no uuid", ErrNotEvent)
	case ev.EventType == "":
		return fmt.Errorf("%w: no eventType (uuid %s)", ErrNotEvent, ev.UUID)
	case published == "":
		return fmt.Errorf("%w: no published time (uuid %s)", ErrNotEvent, ev.UUID)
	}
	t, err := ParseTime(published)
	if err != nil {
		return fmt.Errorf("%w: published: %v (uuid %s)", ErrNotEvent, err, ev.UUID)
	}
	ev.Published = t
	return nil
}

// ParseTime parses an Okta timestamp: RFC 3339 with or without fractional seconds, or the same
// without a zone, which Okta means as UTC. The result is in UTC.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02T15:04:05.999999999", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 timestamp like 2025-03-10T14:02:11.512Z", s)
}

// text reads a string field, accepting null (as ""), numbers and booleans (as their text).
func (d *scanner) text() (string, error) {
	switch c := d.peek(); c {
	case '"':
		return d.str()
	case 'n':
		return "", d.literal("null")
	case 't':
		return "true", d.literal("true")
	case 'f':
		return "false", d.literal("false")
	case '{', '[', 0:
		return "", d.wrongType("a string", c)
	default:
		lit, _, err := d.number()
		return lit, err
	}
}

func (d *scanner) wrongType(want string, c byte) error {
	if c == 0 {
		return d.syntax("unexpected end of input")
	}
	if _, err := d.skip(); err != nil {
		return err
	}
	return &FieldError{Msg: fmt.Sprintf("want %s, got %s", want, kind(c))}
}

// optBool reads a nullable boolean, accepting "true"/"false" strings; other strings and numbers
// carry no boolean meaning and read as absent.
func (d *scanner) optBool() (*bool, error) {
	var b bool
	switch c := d.peek(); c {
	case 't':
		b = true
		if err := d.literal("true"); err != nil {
			return nil, err
		}
	case 'f':
		if err := d.literal("false"); err != nil {
			return nil, err
		}
	case '{', '[', 0:
		return nil, d.wrongType("a boolean", c)
	default:
		s, err := d.text()
		if err != nil {
			return nil, err
		}
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			b = true
		case "false":
		default:
			return nil, nil
		}
	}
	return &b, nil
}

// optInt reads a nullable integer, accepting numeric strings and integral floats.
func (d *scanner) optInt() (*int64, error) {
	s, err := d.text()
	if err != nil || s == "" {
		return nil, err
	}
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return &n, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == float64(int64(f)) {
		n := int64(f)
		return &n, nil
	}
	return nil, nil
}

// float reads a number, accepting numeric strings; null and non-numbers read as 0.
func (d *scanner) float() (float64, error) {
	s, err := d.text()
	if err != nil || s == "" {
		return 0, err
	}
	f, perr := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if perr != nil {
		return 0, nil
	}
	return f, nil
}

// freeMap reads a free-form object; null reads as nil.
func (d *scanner) freeMap() (map[string]any, error) {
	switch c := d.peek(); c {
	case 'n':
		return nil, d.literal("null")
	case '{':
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		return v.(map[string]any), nil
	default:
		return nil, d.wrongType("an object", c)
	}
}

// nullOr reports whether the next value is null (consuming it) and checks that otherwise an
// object follows.
func (d *scanner) nullOr(open byte) (bool, error) {
	switch c := d.peek(); c {
	case 'n':
		return true, d.literal("null")
	case open:
		return false, nil
	default:
		if open == '{' {
			return true, d.wrongType("an object", c)
		}
		return true, d.wrongType("an array", c)
	}
}

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
			_, err = d.skip()
		}
		return err
	})
}

func (d *scanner) targets() ([]Target, error) {
	if null, err := d.nullOr('['); null {
		return nil, err
	}
	ts := make([]Target, 0, 4)
	return ts, d.array(func() error {
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
				_, err = d.skip()
			}
			return err
		})
		ts = append(ts, t)
		return err
	})
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
			_, err = d.skip()
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
			_, err = d.skip()
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
			_, err = d.skip()
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
					_, err = d.skip()
				}
				return err
			})
		default:
			_, err = d.skip()
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
			v.DeviceIntegrator, err = d.value()
		case "disk_encryption_type":
			v.DiskEncryptionType, err = d.text()
		case "screen_lock_type":
			v.ScreenLockType, err = d.text()
		case "jailbreak":
			v.Jailbreak, err = d.optBool()
		case "secure_hardware_present":
			v.SecureHardwarePresent, err = d.optBool()
		default:
			_, err = d.skip()
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
			_, err = d.skip()
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
			_, err = d.skip()
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
		var err error
		if k == "debugData" {
			c.DebugData, err = d.freeMap()
		} else {
			_, err = d.skip()
		}
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
					_, err = d.skip()
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
			_, err = d.skip()
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
			if v, err = d.value(); err == nil {
				c.UserBehaviors = v.([]any)
			}
		case "botProtection":
			c.BotProtection, err = d.freeMap()
		default:
			_, err = d.skip()
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
			_, err := d.skip()
			return err
		}
		if null, err := d.nullOr('['); null {
			return err
		}
		r.IPChain = make([]IPChainEntry, 0, 2)
		return d.array(func() error {
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
					_, err = d.skip()
				}
				return err
			})
			r.IPChain = append(r.IPChain, e)
			return err
		})
	})
}

// compactJSON copies valid JSON text without insignificant whitespace, so that an event re-encodes
// on one line.
func compactJSON(s string) json.RawMessage {
	out := make([]byte, 0, len(s))
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case in:
			out = append(out, c)
			if c == '\\' && i+1 < len(s) {
				i++
				out = append(out, s[i])
			} else if c == '"' {
				in = false
			}
		case c == '"':
			in = true
			out = append(out, c)
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default:
			out = append(out, c)
		}
	}
	return out
}

// block holds the objects an event usually has, so that one allocation serves them all; a
// second object of a kind (a duplicate member, a second hop's location) gets its own.
type block struct {
	ev      LogEvent
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

package event

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"
)

// MarshalJSON encodes the event in Okta's shape on one line: empty strings, nil objects and nil
// maps are left out, Extra fields follow the known ones in key order. Decode of the output yields
// an equal event, but for Flaws: what did not fit the model is not re-encoded.
func (ev *LogEvent) MarshalJSON() ([]byte, error) {
	return ev.AppendJSON(make([]byte, 0, 2048))
}

// AppendJSON appends the MarshalJSON encoding of the event to b.
func (ev *LogEvent) AppendJSON(b []byte) ([]byte, error) {
	w := JSONWriter{B: b}
	w.Open()
	w.Str("uuid", ev.UUID)
	w.Time("published", ev.Published)
	w.Str("eventType", ev.EventType)
	w.Str("version", ev.Version)
	w.Str("severity", ev.Severity)
	w.Str("legacyEventType", ev.LegacyEventType)
	w.Str("displayMessage", ev.DisplayMessage)
	if a := ev.Actor; a != nil {
		w.Key("actor")
		a.appendJSON(&w)
	}
	if c := ev.Client; c != nil {
		w.Key("client")
		c.appendJSON(&w)
	}
	if v := ev.Device; v != nil {
		w.Key("device")
		v.appendJSON(&w)
	}
	if o := ev.Outcome; o != nil {
		w.Key("outcome")
		o.appendJSON(&w)
	}
	if ev.Target != nil {
		w.Array("target", len(ev.Target), func(i int) { ev.Target[i].appendJSON(&w) })
	}
	if t := ev.Transaction; t != nil {
		w.Key("transaction")
		t.appendJSON(&w)
	}
	if c := ev.DebugContext; c != nil {
		w.Key("debugContext")
		c.appendJSON(&w)
	}
	if a := ev.AuthenticationContext; a != nil {
		w.Key("authenticationContext")
		a.appendJSON(&w)
	}
	if c := ev.SecurityContext; c != nil {
		w.Key("securityContext")
		c.appendJSON(&w)
	}
	if r := ev.Request; r != nil {
		w.Key("request")
		r.appendJSON(&w)
	}
	if len(ev.Extra) > 0 {
		keys := make([]string, 0, len(ev.Extra))
		for k := range ev.Extra {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			w.Key(k)
			var buf bytes.Buffer
			if err := json.Compact(&buf, ev.Extra[k]); err != nil {
				return nil, fmt.Errorf("encode event %s: extra field %q: %w", ev.UUID, k, err)
			}
			w.B = append(w.B, buf.Bytes()...)
		}
	}
	w.Close()
	if w.Err != nil {
		return nil, fmt.Errorf("encode event %s: %w", ev.UUID, w.Err)
	}
	return w.B, nil
}

// Time writes a time member as FormatTime does, unless t is zero.
func (w *JSONWriter) Time(k string, t time.Time) {
	if t.IsZero() {
		return
	}
	w.Key(k)
	w.B = append(w.B, '"')
	w.B = appendTime(w.B, t)
	w.B = append(w.B, '"')
}

func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	if t.Nanosecond()%int(time.Millisecond) == 0 {
		return t.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	}
	return t.AppendFormat(b, time.RFC3339Nano)
}

// FormatTime formats a time the way Okta does (UTC, milliseconds, Z), with more digits only when
// the time has them. The zero time formats as "".
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return string(appendTime(nil, t))
}

func (a *Actor) appendJSON(w *JSONWriter) {
	w.Open()
	w.Str("id", a.ID)
	w.Str("type", a.Type)
	w.Str("alternateId", a.AlternateID)
	w.Str("displayName", a.DisplayName)
	w.Map("detailEntry", a.DetailEntry)
	w.Close()
}

func (t *Target) appendJSON(w *JSONWriter) {
	w.Open()
	w.Str("id", t.ID)
	w.Str("type", t.Type)
	w.Str("alternateId", t.AlternateID)
	w.Str("displayName", t.DisplayName)
	w.Map("detailEntry", t.DetailEntry)
	if c := t.ChangeDetails; c != nil {
		w.Key("changeDetails")
		c.appendJSON(w)
	}
	w.Close()
}

func (c *Client) appendJSON(w *JSONWriter) {
	w.Open()
	if u := c.UserAgent; u != nil {
		w.Key("userAgent")
		u.appendJSON(w)
	}
	w.Str("zone", c.Zone)
	w.Str("device", c.Device)
	w.Str("id", c.ID)
	w.Str("ipAddress", c.IPAddress)
	if g := c.GeographicalContext; g != nil {
		w.Key("geographicalContext")
		g.appendJSON(w)
	}
	w.Close()
}

func (g *GeographicalContext) appendJSON(w *JSONWriter) {
	w.Open()
	w.Str("city", g.City)
	w.Str("state", g.State)
	w.Str("country", g.Country)
	w.Str("postalCode", g.PostalCode)
	if l := g.Geolocation; l != nil {
		w.Key("geolocation")
		l.appendJSON(w)
	}
	w.Close()
}

func (v *Device) appendJSON(w *JSONWriter) {
	w.Open()
	w.Str("id", v.ID)
	w.Str("name", v.Name)
	w.Str("os_platform", v.OSPlatform)
	w.Str("os_version", v.OSVersion)
	w.Bool("managed", v.Managed)
	w.Bool("registered", v.Registered)
	if v.DeviceIntegrator != nil {
		w.Any("device_integrator", v.DeviceIntegrator)
	}
	w.Str("disk_encryption_type", v.DiskEncryptionType)
	w.Str("screen_lock_type", v.ScreenLockType)
	w.Bool("jailbreak", v.Jailbreak)
	w.Bool("secure_hardware_present", v.SecureHardwarePresent)
	w.Close()
}

func (o *Outcome) appendJSON(w *JSONWriter) {
	w.Open()
	w.Str("result", o.Result)
	w.Str("reason", o.Reason)
	w.Close()
}

func (t *Transaction) appendJSON(w *JSONWriter) {
	w.Open()
	w.Str("type", t.Type)
	w.Str("id", t.ID)
	w.Map("detail", t.Detail)
	w.Close()
}

func (c *DebugContext) appendJSON(w *JSONWriter) {
	w.Open()
	w.Map("debugData", c.DebugData)
	w.Close()
}

func (a *AuthenticationContext) appendJSON(w *JSONWriter) {
	w.Open()
	w.Str("authenticationProvider", a.AuthenticationProvider)
	w.Str("credentialProvider", a.CredentialProvider)
	w.Str("credentialType", a.CredentialType)
	if is := a.Issuer; is != nil {
		w.Key("issuer")
		is.appendJSON(w)
	}
	w.Str("interface", a.Interface)
	w.Int("authenticationStep", int64(a.AuthenticationStep))
	w.Str("externalSessionId", a.ExternalSessionID)
	w.Str("rootSessionId", a.RootSessionID)
	w.Close()
}

func (c *SecurityContext) appendJSON(w *JSONWriter) {
	w.Open()
	if c.AsNumber != nil {
		w.Int("asNumber", *c.AsNumber)
	}
	w.Str("asOrg", c.AsOrg)
	w.Str("isp", c.ISP)
	w.Str("domain", c.Domain)
	w.Bool("isProxy", c.IsProxy)
	w.Map("ipDetails", c.IPDetails)
	w.Map("risk", c.Risk)
	if c.UserBehaviors != nil {
		w.Any("userBehaviors", c.UserBehaviors)
	}
	w.Map("botProtection", c.BotProtection)
	w.Close()
}

func (r *Request) appendJSON(w *JSONWriter) {
	w.Open()
	if r.IPChain != nil {
		w.Array("ipChain", len(r.IPChain), func(i int) { r.IPChain[i].appendJSON(w) })
	}
	w.Close()
}

func (c *ChangeDetails) appendJSON(w *JSONWriter) {
	w.Open()
	w.Map("from", c.From)
	w.Map("to", c.To)
	w.Close()
}

func (u *UserAgent) appendJSON(w *JSONWriter) {
	w.Open()
	w.Str("rawUserAgent", u.RawUserAgent)
	w.Str("os", u.OS)
	w.Str("browser", u.Browser)
	w.Close()
}

func (l *Geolocation) appendJSON(w *JSONWriter) {
	w.Open()
	w.Float("lat", l.Lat)
	w.Float("lon", l.Lon)
	w.Close()
}

func (is *Issuer) appendJSON(w *JSONWriter) {
	w.Open()
	w.Str("id", is.ID)
	w.Str("type", is.Type)
	w.Close()
}

func (e *IPChainEntry) appendJSON(w *JSONWriter) {
	w.Open()
	w.Str("ip", e.IP)
	if g := e.GeographicalContext; g != nil {
		w.Key("geographicalContext")
		g.appendJSON(w)
	}
	w.Str("version", e.Version)
	w.Str("source", e.Source)
	w.Map("ipDetails", e.IPDetails)
	w.Close()
}

// JSONWriter appends compact JSON objects to B without reflection. Members with empty values
// are left out by the Str, Map and Bool helpers; the first error (an unencodable value) is kept
// in Err.
type JSONWriter struct {
	B   []byte
	Err error

	depth int // objects open
}

// Object writes member k as an object whose members fn writes, and leaves the member out when
// fn writes none.
func (w *JSONWriter) Object(k string, fn func()) {
	n := len(w.B)
	w.Key(k)
	w.Open()
	fn()
	empty := w.B[len(w.B)-1] == '{'
	w.Close()
	if empty {
		w.B = w.B[:n]
	}
}

// Open starts an object (as a value: call Key first when inside another object).
func (w *JSONWriter) Open() {
	w.B = append(w.B, '{')
	w.depth++
}

// Close ends the innermost object.
func (w *JSONWriter) Close() {
	w.B = append(w.B, '}')
	w.depth--
}

// Key writes a member name (and the comma before it when needed).
func (w *JSONWriter) Key(k string) {
	b := w.B
	// Inside an object, a member follows either the object's '{' or a value, and no value ends
	// in '{': the byte before says whether a comma is due, with no state to keep.
	if w.depth > 0 && b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	// Member names are almost always short plain ASCII constants: copy them without the
	// general escaper's setup (the output is the same, as plain bytes are copied as they are).
	for i := 0; i < len(k); i++ {
		if c := k[i]; c >= utf8.RuneSelf || !plain[c] {
			w.B = append(AppendString(b, k), ':')
			return
		}
	}
	b = slices.Grow(b, len(k)+3)
	b = append(b, '"')
	b = append(b, k...)
	w.B = append(b, '"', ':')
}

// Array writes member k as an array of n values, elem(i) writing the i-th.
func (w *JSONWriter) Array(k string, n int, elem func(i int)) {
	w.Key(k)
	w.B = append(w.B, '[')
	for i := range n {
		if i > 0 {
			w.B = append(w.B, ',')
		}
		elem(i)
	}
	w.B = append(w.B, ']')
}

// Str writes a string member unless v is empty.
func (w *JSONWriter) Str(k, v string) {
	if v == "" {
		return
	}
	w.Key(k)
	w.B = AppendString(w.B, v)
}

// Int writes an integer member.
func (w *JSONWriter) Int(k string, v int64) {
	w.Key(k)
	w.B = strconv.AppendInt(w.B, v, 10)
}

// Float writes a number member.
func (w *JSONWriter) Float(k string, v float64) {
	w.Key(k)
	w.appendFloat(v)
}

// Bool writes a boolean member unless v is nil.
func (w *JSONWriter) Bool(k string, v *bool) {
	if v == nil {
		return
	}
	w.Key(k)
	w.B = strconv.AppendBool(w.B, *v)
}

// Map writes a free-form object member unless m is nil.
func (w *JSONWriter) Map(k string, m map[string]any) {
	if m == nil {
		return
	}
	w.Any(k, m)
}

// Any writes a member holding a generic JSON value.
func (w *JSONWriter) Any(k string, v any) {
	w.Key(k)
	w.Value(v)
}

// Value writes a generic JSON value (as produced by the decoder: maps with sorted keys, slices,
// strings, numbers, booleans, nil). Other Go values go through encoding/json.
func (w *JSONWriter) Value(v any) {
	switch t := v.(type) {
	case nil:
		w.B = append(w.B, "null"...)
	case string:
		w.B = AppendString(w.B, t)
	case bool:
		w.B = strconv.AppendBool(w.B, t)
	case int64:
		w.B = strconv.AppendInt(w.B, t, 10)
	case int:
		w.B = strconv.AppendInt(w.B, int64(t), 10)
	case float64:
		w.appendFloat(t)
	case map[string]any:
		// Small maps sort their keys in a buffer on the stack.
		var buf [16]string
		keys := buf[:0]
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		w.Open()
		for _, k := range keys {
			w.Any(k, t[k])
		}
		w.Close()
	case []any:
		w.B = append(w.B, '[')
		for i, e := range t {
			if i > 0 {
				w.B = append(w.B, ',')
			}
			w.Value(e)
		}
		w.B = append(w.B, ']')
	default:
		b, err := json.Marshal(t)
		if err != nil {
			if w.Err == nil {
				w.Err = err
			}
			b = []byte("null")
		}
		w.B = append(w.B, b...)
	}
}

// appendFloat writes a float so that it reads back as a float: like encoding/json, but an
// integral value keeps a ".0" so that decoding does not turn it into an integer.
func (w *JSONWriter) appendFloat(f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		if w.Err == nil {
			w.Err = fmt.Errorf("unsupported number %v", f)
		}
		w.B = append(w.B, "null"...)
		return
	}
	start := len(w.B)
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	w.B = strconv.AppendFloat(w.B, f, format, -1, 64)
	if bytes.IndexAny(w.B[start:], ".e") < 0 {
		w.B = append(w.B, ".0"...)
	}
}

const hexDigits = "0123456789abcdef"

const (
	lo = ^uint64(0) / 255 // 0x0101…01
	hi = lo * 0x80        // 0x8080…80
)

// hasLess reports (as a non-zero value) whether any byte of x is below n (n <= 128).
func hasLess(x, n uint64) uint64 { return (x - lo*n) & ^x & hi }

// hasByte reports (as a non-zero value) whether any byte of x equals c.
func hasByte(x uint64, c byte) uint64 { return hasLess(x^(lo*uint64(c)), 1) }

// AppendStringBytes is AppendString for a byte slice, without copying it to a string. It is
// tuned for text dense in quotes, such as a raw JSON event carried in a string: its output is
// AppendString's.
func AppendStringBytes(b, s []byte) []byte {
	// Each byte at most doubles until one needs AppendString's general path (a control
	// character or non-ASCII), so the output is written in place without append calls; the 8
	// bytes of slack let every word store be whole.
	n := len(b)
	b = slices.Grow(b, 2*len(s)+2+8)
	d := b[n : n+2*len(s)+2+8]
	d[0] = '"'
	j := 1
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64(s[i:])
		if general(x) != 0 {
			break
		}
		// Store the word, and again after each quote or backslash, one byte further on, with
		// a backslash before it: a word with three quotes costs four stores, not eight bytes.
		m := quoteOrBackslash(x)
		pos := 0
		for m != 0 {
			k := bits.TrailingZeros64(m) >> 3
			binary.LittleEndian.PutUint64(d[j:], x>>(8*pos))
			j += k - pos
			d[j] = '\\'
			j++
			pos = k
			m &= m - 1
		}
		binary.LittleEndian.PutUint64(d[j:], x>>(8*pos))
		j += 8 - pos
	}
	for ; i < len(s); i++ {
		c := s[i]
		switch escClass[c] {
		case escCopy:
			d[j] = c
			j++
		case escBackslash:
			d[j] = '\\'
			d[j+1] = c
			j += 2
		default:
			return appendStringTail(b[:n+j], unsafe.String(unsafe.SliceData(s[i:]), len(s)-i))
		}
	}
	d[j] = '"'
	return b[:n+j+1]
}

// lo7 has 0x7f in every byte.
const lo7 = lo * 0x7f

// general returns, exactly, 0x80 in each byte of x that is a control character or non-ASCII:
// the bytes AppendString's general path handles. (hasLess flags only the lowest such byte
// exactly; these masks are exact in every byte, as no byte's sum carries into the next.)
func general(x uint64) uint64 {
	return (^((x & lo7) + lo*(0x80-0x20)) | x) & hi
}

// quoteOrBackslash returns, exactly, 0x80 in each ASCII byte of x that is '"' or '\\'.
func quoteOrBackslash(x uint64) uint64 {
	a := x & lo7
	q := ^((a ^ lo*'"') + lo7)
	bs := ^((a ^ lo*'\\') + lo7)
	return (q | bs) & ^x & hi
}

const (
	escCopy      = iota // the byte as it is
	escBackslash        // a backslash, then the byte
	escGeneral          // control characters and non-ASCII: AppendString's general path
)

// escClass is the escCopy/escBackslash/escGeneral class of every byte.
var escClass = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case c == '"' || c == '\\':
			t[c] = escBackslash
		case c < 0x20 || c >= utf8.RuneSelf:
			t[c] = escGeneral
		}
	}
	return t
}()

// plain marks the ASCII bytes a JSON string holds as they are.
var plain = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// AppendString appends s as a JSON string literal. Invalid UTF-8 becomes U+FFFD; HTML characters
// are not escaped (the output is data, not markup).
func AppendString(b []byte, s string) []byte {
	b = slices.Grow(b, len(s)+2)
	return appendStringTail(append(b, '"'), s)
}

// appendStringTail appends s escaped as in a JSON string literal, then the closing quote.
func appendStringTail(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		// Skip eight plain ASCII bytes at a time: none below 0x20, none '"' or '\\', none >= 0x80.
		for i+8 <= len(s) {
			x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
				uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
			if m := hasLess(x, 0x20) | hasByte(x, '"') | hasByte(x, '\\') | (x & hi); m != 0 {
				// The lowest flagged byte is exact (borrows only flag bytes above it): go
				// straight to it.
				i += bits.TrailingZeros64(m) / 8
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if plain[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// WriteJSON writes the target in Okta's shape, as a value.
func (t *Target) WriteJSON(w *JSONWriter) { t.appendJSON(w) }

// WriteJSON writes the hop in Okta's shape, as a value.
func (e *IPChainEntry) WriteJSON(w *JSONWriter) { e.appendJSON(w) }

package event

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Epoch numbers below epochMillisFrom are seconds, from it up to epochMillisTo milliseconds.
// 1e11 seconds is the year 5138, and 1e11 milliseconds March 1973: no Okta event falls where
// the two readings overlap, so the magnitude decides.
const (
	epochMillisFrom = 1e11
	epochMillisTo   = 1e14
)

// ParseTime parses an event timestamp in any form Okta or a tool exporting Okta events writes:
// RFC 3339 (2025-03-10T14:02:11.512Z, +01:00 or +0100 offsets), the same without a zone (which
// means UTC), with a space or a lower-case t for the T, with a fraction of any length (beyond
// nanoseconds it is truncated) after a dot or a comma; or epoch seconds or milliseconds as
// decimal text (1741615331, 1741615331512, 1741615331.512). Surrounding spaces are ignored.
// The result is in UTC. Anything else is refused with an error showing the expected form.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, ok := parseCalendar(s); ok {
		return t, nil
	}
	if t, ok := parseEpochText(s); ok {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a timestamp: want RFC 3339 like 2025-03-10T14:02:11.512Z (zone optional, UTC if absent) or epoch seconds or milliseconds", clip(s, 64))
}

// ParseTimeValue is ParseTime for a decoded JSON value: text as ParseTime reads it, and numbers
// (float64, int64, int, json.Number) as epoch seconds or milliseconds.
func ParseTimeValue(v any) (time.Time, error) {
	switch t := v.(type) {
	case string:
		return ParseTime(t)
	case json.Number:
		return ParseTime(t.String())
	}
	if f, ok := Number(v); ok {
		if t, ok := epochFloat(f); ok {
			return t, nil
		}
		return time.Time{}, fmt.Errorf("%v is not an epoch time in seconds or milliseconds after 1970", v)
	}
	return time.Time{}, fmt.Errorf("a %T is not a timestamp", v)
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// parseCalendar reads YYYY-MM-DD[T ]hh:mm:ss[.frac][zone].
func parseCalendar(s string) (time.Time, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	switch s[10] {
	case 'T', 't', ' ':
	default:
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > daysIn(time.Month(month), year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	rest := s[19:]
	nanos := 0
	if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 {
			return time.Time{}, false
		}
		frac := rest[1:n]
		if len(frac) > 9 {
			frac = frac[:9]
		}
		nanos, _ = digits(frac)
		for i := len(frac); i < 9; i++ {
			nanos *= 10
		}
		rest = rest[n:]
	}
	offset, ok := zoneOffset(rest)
	if !ok {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nanos, time.UTC).Add(-time.Duration(offset) * time.Second)
	// An offset can carry year 0000 or 9999 out of the four-digit years RFC 3339 can write.
	return t, t.Year() >= 1 && t.Year() <= 9999
}

// zoneOffset reads "", Z, z, ±hh:mm, ±hhmm or ±hh, as seconds east of UTC.
func zoneOffset(z string) (int, bool) {
	switch {
	case z == "" || z == "Z" || z == "z":
		return 0, true
	case z[0] != '+' && z[0] != '-':
		return 0, false
	}
	var h, m int
	var ok1, ok2 bool
	switch len(z) {
	case 3:
		h, ok1 = digits(z[1:3])
		ok2 = true
	case 5:
		h, ok1 = digits(z[1:3])
		m, ok2 = digits(z[3:5])
	case 6:
		if z[3] != ':' {
			return 0, false
		}
		h, ok1 = digits(z[1:3])
		m, ok2 = digits(z[4:6])
	default:
		return 0, false
	}
	if !ok1 || !ok2 || h > 23 || m > 59 {
		return 0, false
	}
	off := h*3600 + m*60
	if z[0] == '-' {
		off = -off
	}
	return off, true
}

// digits reads a non-empty run of ASCII digits (at most 9, so it cannot overflow).
func digits(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// parseEpochText reads epoch seconds or milliseconds written as decimal digits with an optional
// fraction, or as a JSON number with an exponent.
func parseEpochText(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	if n, ok := allDigits(intPart); ok && (!hasFrac || onlyDigits(frac)) {
		if n < epochMillisFrom {
			nanos := 0
			if hasFrac {
				f := frac
				if len(f) > 9 {
					f = f[:9]
				}
				nanos, _ = digits(f)
				for i := len(f); i < 9; i++ {
					nanos *= 10
				}
			}
			return time.Unix(n, int64(nanos)).UTC(), true
		}
		if n < epochMillisTo {
			var micros int64
			if hasFrac {
				f := frac
				if len(f) > 6 {
					f = f[:6]
				}
				v, _ := digits(f)
				for i := len(f); i < 6; i++ {
					v *= 10
				}
				micros = int64(v)
			}
			return time.UnixMilli(n).Add(time.Duration(micros) * time.Nanosecond).UTC(), true
		}
		return time.Time{}, false
	}
	// A JSON number with an exponent (1.741615331512E12) names the same instant.
	if mant, exp, ok := strings.Cut(strings.ToLower(s), "e"); ok && isDecimal(mant) && isDecimal(strings.TrimPrefix(exp, "+")) {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return epochFloat(f)
		}
	}
	return time.Time{}, false
}

// isDecimal reports whether s is digits with an optional fraction, as JSON writes a mantissa.
func isDecimal(s string) bool {
	i, f, hasFrac := strings.Cut(s, ".")
	if _, ok := allDigits(i); !ok {
		return false
	}
	return !hasFrac || onlyDigits(f)
}

// onlyDigits reports whether s is a non-empty run of ASCII digits.
func onlyDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// allDigits parses a run of 1 to 18 ASCII digits.
func allDigits(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// epochFloat reads a number as epoch seconds or milliseconds.
func epochFloat(f float64) (time.Time, bool) {
	switch {
	case math.IsNaN(f) || f < 0:
		return time.Time{}, false
	case f < epochMillisFrom:
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), true
	case f < epochMillisTo:
		ms, frac := math.Modf(f)
		return time.UnixMilli(int64(ms)).Add(time.Duration(math.Round(frac*1e6)) * time.Nanosecond).UTC(), true
	}
	return time.Time{}, false
}

package event

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestParseTime lists every form of event time the decoders accept and a catalogue of forms
// they refuse.
func TestParseTime(t *testing.T) {
	base := time.Date(2025, 3, 10, 14, 2, 11, 0, time.UTC)
	ms := base.Add(512 * time.Millisecond)
	accepted := []struct {
		in   string
		want time.Time
	}{
		{"2025-03-10T14:02:11Z", base},
		{"2025-03-10T14:02:11.512Z", ms},
		{"2025-03-10T14:02:11.5Z", base.Add(500 * time.Millisecond)},
		{"2025-03-10T14:02:11.512345Z", base.Add(512345 * time.Microsecond)},
		{"2025-03-10T14:02:11.512345678Z", base.Add(512345678)},
		{"2025-03-10T14:02:11.5123456789012Z", base.Add(512345678)}, // beyond ns: truncated
		{"2025-03-10T14:02:11,512Z", ms},                            // ISO 8601 decimal comma
		{"2025-03-10t14:02:11.512z", ms},                            // RFC 3339 allows lower case
		{"2025-03-10T16:02:11.512+02:00", ms},
		{"2025-03-10T09:02:11.512-05:00", ms},
		{"2025-03-10T16:02:11.512+0200", ms},
		{"2025-03-10T16:02:11.512+02", ms},
		{"2025-03-10T14:02:11.512+00:00", ms},
		{"2025-03-10T14:02:11.512", ms},  // no zone: UTC
		{"2025-03-10T14:02:11", base},    // no zone, no fraction
		{"2025-03-10 14:02:11.512", ms},  // space for T, no zone (SQL exports)
		{"2025-03-10 14:02:11.512Z", ms}, // space for T, zone
		{"2025-03-10 16:02:11+02:00", base},
		{"  2025-03-10T14:02:11.512Z\n", ms}, // surrounding space
		{"2024-02-29T00:00:00Z", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"1741615331", base},   // epoch seconds
		{"1741615331.512", ms}, // epoch seconds with fraction
		{"1741615331512", ms},  // epoch milliseconds
		{"1741615331512.5", ms.Add(500 * time.Microsecond)},
		{"1.741615331512E12", ms}, // JSON number with exponent
		{"1.741615331512e+12", ms},
		{"0", time.Unix(0, 0).UTC()},
		{"99999999999", time.Unix(99999999999, 0).UTC()},         // last value read as seconds
		{"100000000000", time.UnixMilli(100000000000).UTC()},     // first value read as milliseconds
		{"99999999999999", time.UnixMilli(99999999999999).UTC()}, // last value read as milliseconds
	}
	for _, c := range accepted {
		got, err := ParseTime(c.in)
		if err != nil {
			t.Errorf("ParseTime(%q): %v", c.in, err)
			continue
		}
		if !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) = %v, want %v in UTC", c.in, got, c.want)
		}
	}
	rejected := []string{
		"",
		" ",
		"null",
		"now",
		"2025-03-10",                    // date only
		"2025-03-10T14:02",              // no seconds
		"2025-03-10T14:02Z",             // no seconds
		"2025-03-10T14:02:11.",          // dot without digits
		"2025-03-10T14:02:11.Z",         // dot without digits
		"2025-03-10T14:02:11.512ZZ",     // trailing garbage
		"2025-03-10T14:02:11.512 UTC",   // zone name
		"2025-03-10T14:02:11.512+2:00",  // one-digit offset
		"2025-03-10T14:02:11.512+24:00", // offset out of range
		"2025-03-10T14:02:11.512+02:60", // offset out of range
		"2025-03-10T14:02:11.512+02:0",  // short offset
		"2025-03-10_14:02:11",           // unknown separator
		"2025/03/10 14:02:11",           // slashes
		"10/03/2025 14:02:11",           // day first
		"2025-3-10T14:02:11Z",           // unpadded month
		"2025-13-10T14:02:11Z",          // month 13
		"2025-00-10T14:02:11Z",          // month 0
		"2025-02-29T14:02:11Z",          // not a leap year
		"2025-04-31T14:02:11Z",          // April has 30 days
		"2025-03-00T14:02:11Z",          // day 0
		"2025-03-10T24:00:00Z",          // hour 24
		"2025-03-10T14:60:11Z",          // minute 60
		"2025-03-10T14:02:60Z",          // leap second
		"+2025-03-10T14:02:11Z",         // signed year
		"Mon, 10 Mar 2025 14:02:11 GMT", // RFC 1123
		"-1741615331",                   // before 1970
		"100000000000000",               // epoch 1e14: microseconds are not accepted
		"1741615331512000",              // epoch microseconds
		"1741615331512000000",           // epoch nanoseconds
		"1741615331.",                   // dot without digits
		".5",                            // no integer part
		"1741615331.5.1",                // two dots
		"0x67CEF0E3",                    // hexadecimal
		"1_741_615_331",                 // digit separators
		"NaN",
		"Inf",
		"1e400", // overflow
		"1.7e-3x",
		"1741615331512e", // exponent without digits
		"\u0662\u0660\u0662\u0665-03-10T14:02:11Z", // non-ASCII digits
	}
	for _, in := range rejected {
		if got, err := ParseTime(in); err == nil {
			t.Errorf("ParseTime(%q) = %v, want an error", in, got)
		} else if !strings.Contains(err.Error(), "RFC 3339") {
			t.Errorf("ParseTime(%q) error %q does not name the expected form", in, err)
		}
	}
}

// TestParseTimeValue covers decoded JSON values: numbers are epoch seconds or milliseconds.
func TestParseTimeValue(t *testing.T) {
	ms := time.Date(2025, 3, 10, 14, 2, 11, 512e6, time.UTC)
	for _, c := range []struct {
		in   any
		want time.Time
		ok   bool
	}{
		{"2025-03-10T14:02:11.512Z", ms, true},
		{float64(1741615331512), ms, true},
		{int64(1741615331512), ms, true},
		{1741615331512, ms, true},
		{json.Number("1741615331512"), ms, true},
		{1741615331.512, ms, true},
		{int64(1741615331), ms.Truncate(time.Second), true},
		{float64(-1), time.Time{}, false},
		{float64(1e16), time.Time{}, false},
		{true, time.Time{}, false},
		{nil, time.Time{}, false},
		{map[string]any{}, time.Time{}, false},
	} {
		got, err := ParseTimeValue(c.in)
		if (err == nil) != c.ok {
			t.Errorf("ParseTimeValue(%#v): err %v, want ok=%v", c.in, err, c.ok)
			continue
		}
		// A float64 of seconds with a fraction is within a microsecond of the instant.
		if c.ok && (got.Sub(c.want) > time.Microsecond || c.want.Sub(got) > time.Microsecond) {
			t.Errorf("ParseTimeValue(%#v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// FuzzParseTime checks that ParseTime never panics, returns UTC, and that what it accepts in
// calendar form survives formatting and parsing again.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2025-03-10T14:02:11.512Z", "2025-03-10 14:02:11.177", "1741615331512", "1741615331.5",
		"1.741615331512E12", "2025-03-10T16:02:11+0200", "2025-02-29T00:00:00Z", "9999-12-31T23:59:59.999999999-23:59"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s)
		if err != nil {
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("ParseTime(%q) not in UTC: %v", s, got)
		}
		again, err := ParseTime(got.Format(time.RFC3339Nano))
		if err != nil || !again.Equal(got) {
			t.Fatalf("ParseTime(%q) = %v does not round-trip: %v %v", s, got, again, err)
		}
	})
}

package sigma

import (
	"strings"
	"testing"
)

// TestHasFoldedPrefix checks the in-place fold against strings.ToLower, including text whose
// lower case has another length.
func TestHasFoldedPrefix(t *testing.T) {
	values := []string{"", "SUCCESS", "success", "Succ", "SUCCESSES", "user.session.start", "İstanbul", "KELVIN",
		"\u212aelvin", "ﬀ", "Ǆ", "okta verify", "OKTA_VERIFY_PUSH", "é", "É"}
	lits := []string{"", "success", "succ", "user.session", "i̇stanbul", "kelvin", "ǆ", "okta_verify_push", "é", "x"}
	for _, s := range values {
		for _, lit := range lits {
			for _, whole := range []bool{true, false} {
				want := strings.HasPrefix(strings.ToLower(s), lit)
				if whole {
					want = strings.ToLower(s) == lit
				}
				if got, ok := hasFoldedPrefix(s, lit, whole); ok && got != want {
					t.Errorf("hasFoldedPrefix(%q, %q, %v) = %v, want %v", s, lit, whole, got, want)
				}
			}
		}
	}
}

// TestHasFoldedSuffix checks the in-place suffix fold against strings.ToLower.
func TestHasFoldedSuffix(t *testing.T) {
	values := []string{"", "SUCCESS", "success", "Succ", "xSUCCESSES", "Mozilla/5.0 (Windows NT 10.0) Chrome/120",
		"İstanbul", "KELVIN", "\u212aelvin", "ab\u212aelvin", "ﬀ", "Ǆ", "é", "É", "aÉ", "python-requests/2.31",
		"curl/8.1", "CURL", "\xffcurl", "s", "ss"}
	lits := []string{"", "success", "succ", "cess", "es", "kelvin", "elvin", "ǆ", "é", "x", "curl", "chrome/", "python-requests", "s"}
	for _, s := range values {
		for _, lit := range lits {
			low := strings.ToLower(s)
			if got, ok := hasFoldedSuffix(s, lit); ok && got != strings.HasSuffix(low, lit) {
				t.Errorf("hasFoldedSuffix(%q, %q) = %v", s, lit, got)
			}
		}
	}
}

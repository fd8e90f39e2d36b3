package normalize

import (
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/event"
)

// TestOneSignInOneLogon: a sign-in (user.session.start and the two sign-on policy decisions Okta
// writes with it) yields one Logon record, though it yields five records.
func TestOneSignInOneLogon(t *testing.T) {
	var recs []*Record
	for _, name := range []string{"listed-user.session.start", "listed-policy.evaluate_sign_on", "listed-policy.evaluate_sign_on"} {
		recs = append(recs, normalizeFixture(t, name, testMeta)...)
	}
	logons := 0
	for _, r := range recs {
		if r.OCSF.ClassUID == ClassAuthentication && r.OCSF.ActivityID == 1 {
			logons++
		}
	}
	if len(recs) != 5 || logons != 1 {
		t.Fatalf("%d records, %d Logon; want 5 records, 1 Logon", len(recs), logons)
	}
}

// TestOSOfDevice: Okta's user-agent OS names map to the OS of the device they name.
func TestOSOfDevice(t *testing.T) {
	for name, want := range map[string]string{
		"Mac OS X (iPhone)": "iOS", "Mac OS X (iPod)": "iOS", "Mac OS X (iPad)": "iPadOS", "iOS": "iOS",
		"Mac OS X": "macOS", "Windows 10": "Windows", "Android": "Android", "Chrome OS": "Linux", "Linux": "Linux",
	} {
		if got := osOf(new(OS), name, "").Type; got != want {
			t.Errorf("osOf(%q) = %s, want %s", name, got, want)
		}
	}
}

// TestSourceWithoutClientAddress: the source comes from request.ipChain when Okta's client has no
// address (absent or "null"), and securityContext is kept whatever the client holds.
func TestSourceWithoutClientAddress(t *testing.T) {
	decode := func(raw string) *event.LogEvent {
		ev, err := event.Decode([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	const head = `{"uuid":"u","eventType":"user.session.start","published":"2025-03-11T14:02:38.962Z",`
	n := New()
	for _, c := range []struct {
		name, raw, ip, domain string
		as                    int64
	}{
		{"null client address", head + `"client":{"ipAddress":"null"},"request":{"ipChain":[{"ip":"203.0.113.7"}]}}`, "203.0.113.7", "", 0},
		{"NULL, spaced", head + `"client":{"ipAddress":" NULL "},"request":{"ipChain":[{"ip":"203.0.113.7"}]}}`, "203.0.113.7", "", 0},
		{"no client", head + `"request":{"ipChain":[{"ip":"203.0.113.7"}]}}`, "203.0.113.7", "", 0},
		{"client address wins", head + `"client":{"ipAddress":"198.51.100.1"},"request":{"ipChain":[{"ip":"203.0.113.7"}]}}`, "198.51.100.1", "", 0},
		{"garbage client address is not replaced", head + `"client":{"ipAddress":"n/a"},"request":{"ipChain":[{"ip":"203.0.113.7"}]}}`, "", "", -1},
		{"domain only", head + `"client":{"ipAddress":null},"securityContext":{"asNumber":64500,"domain":"example.net"}}`, "", "example.net", 64500},
		{"no client, security context", head + `"securityContext":{"asNumber":64500,"domain":"example.net"}}`, "", "example.net", 64500},
	} {
		o := n.Normalize(decode(c.raw), Meta{ProcessedTime: time.Unix(1, 0)})[0].OCSF
		e := o.SrcEndpoint
		if c.as == -1 {
			if e != nil {
				t.Errorf("%s: src_endpoint %+v, want none", c.name, e)
			}
			continue
		}
		if e == nil || e.IP != c.ip || e.Domain != c.domain || (c.as != 0 && (e.ASNumber == nil || *e.ASNumber != c.as)) {
			t.Errorf("%s: src_endpoint %+v, want ip %q domain %q AS %d", c.name, e, c.ip, c.domain, c.as)
		}
	}
}

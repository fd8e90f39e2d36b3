package oktasim

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/event"
)

// benchEvent builds a realistic sign-in event (about 1.5 KB of JSON) with per-event random ids,
// addresses and sessions, so compression sees real-world entropy.
func benchEvent(r *rand.Rand, published time.Time) *event.LogEvent {
	user := r.IntN(5000)
	hex := func(n int) string { return randHex(r, n) }
	id := func(prefix string) string {
		b := []byte(prefix)
		for len(b) < 20 {
			b = append(b, idAlphabet[r.IntN(len(idAlphabet))])
		}
		return string(b)
	}
	// Per-user values repeat across a user's events, as they do in a real org: home address and
	// city, device hash, authenticator enrollment; request, session and event ids are fresh.
	ur := rand.New(rand.NewPCG(uint64(user), 99))
	city := benchCities[ur.IntN(len(benchCities))]
	ip := fmt.Sprintf("%d.%d.%d.%d", 20+ur.IntN(180), ur.IntN(256), ur.IntN(256), 1+ur.IntN(254))
	if r.IntN(10) == 0 { // travelling or on mobile data
		ip = fmt.Sprintf("%d.%d.%d.%d", 20+r.IntN(180), r.IntN(256), r.IntN(256), 1+r.IntN(254))
	}
	geo := &event.GeographicalContext{City: city.name, State: city.state, Country: city.country, PostalCode: city.postal,
		Geolocation: &event.Geolocation{Lat: city.lat, Lon: city.lon}}
	asn := int64(7922 + ur.IntN(1000))
	enrollment, dtHash := "pfd"+randHex(ur, 17), randHex(ur, 64)
	proxy := false
	session := "idx" + id("") + id("")[:2]
	req := hex(32)
	types := []string{"user.session.start", "user.authentication.sso", "user.authentication.auth_via_mfa", "policy.evaluate_sign_on", "user.session.end"}
	return &event.LogEvent{
		UUID: fmt.Sprintf("%s-%s-4%s-a%s-%s", hex(8), hex(4), hex(3), hex(3), hex(12)), Published: published,
		EventType: types[r.IntN(len(types))], Version: "0", Severity: "INFO",
		LegacyEventType: "core.user_auth.login_success", DisplayMessage: "User login to Okta",
		Actor: &event.Actor{ID: fmt.Sprintf("00u%017d", user), Type: "User",
			AlternateID: fmt.Sprintf("user%d@acme.example", user), DisplayName: fmt.Sprintf("User %d", user)},
		Client: &event.Client{IPAddress: ip, Zone: "null", Device: "Computer", GeographicalContext: geo,
			UserAgent: &event.UserAgent{RawUserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/127.0.0.0 Safari/537.36",
				OS: "Mac OS X", Browser: "CHROME"}},
		Outcome: &event.Outcome{Result: "SUCCESS"},
		Target: []event.Target{{ID: enrollment, Type: "AuthenticatorEnrollment", AlternateID: "unknown", DisplayName: "Okta Verify"},
			{ID: benchApps[r.IntN(len(benchApps))], Type: "AppInstance", AlternateID: "Okta Dashboard", DisplayName: "Okta Dashboard"}},
		Transaction: &event.Transaction{Type: "WEB", ID: req},
		DebugContext: &event.DebugContext{DebugData: map[string]any{"requestId": req, "requestUri": "/idp/idx/authenticators/poll",
			"url": "/idp/idx/authenticators/poll", "threatSuspected": "false", "dtHash": dtHash}},
		AuthenticationContext: &event.AuthenticationContext{ExternalSessionID: session, RootSessionID: session},
		SecurityContext:       &event.SecurityContext{AsNumber: &asn, AsOrg: "example isp", ISP: "example isp", IsProxy: &proxy},
		Request:               &event.Request{IPChain: []event.IPChainEntry{{IP: ip, GeographicalContext: geo, Version: "V4"}}},
	}
}

// randHex returns n random lower-case hex digits.
func randHex(r *rand.Rand, n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[r.IntN(16)]
	}
	return string(b)
}

var benchApps = []string{"0oatxlef9sQvvqInq5d6", "0oa1b2c3d4E5f6G7h8i9", "0oa9z8y7x6W5v4U3t2s1", "0oaQwErTyUiOpAsDfGhJ"}

type benchCity struct {
	name, state, country, postal string
	lat, lon                     float64
}

var benchCities = []benchCity{
	{"New York", "New York", "United States", "10013", 40.7157, -74.01},
	{"San Francisco", "California", "United States", "94107", 37.7697, -122.3933},
	{"Chicago", "Illinois", "United States", "60601", 41.8858, -87.6229},
	{"Austin", "Texas", "United States", "78701", 30.2713, -97.7426},
	{"London", "England", "United Kingdom", "EC2A", 51.5229, -0.0777},
	{"Berlin", "Land Berlin", "Germany", "10115", 52.5323, 13.3846},
	{"Toronto", "Ontario", "Canada", "M5H", 43.6496, -79.3833},
	{"Sydney", "New South Wales", "Australia", "2000", -33.8688, 151.2093},
}

// fillServer appends n benchmark events spread over the last 80 days.
func fillServer(b *testing.B, n int, clock *clock.Manual) *Server {
	s, err := New(Config{Clock: clock, RateLimits: RateLimitConfig{Disabled: true}})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	start := clock.Now().Add(-80 * 24 * time.Hour)
	step := 80 * 24 * time.Hour / time.Duration(n)
	for i := 0; i < n; i++ {
		if err := s.Append(benchEvent(r, start.Add(time.Duration(i)*step))); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// benchGet serves one request in-process and checks it succeeded.
func benchGet(b *testing.B, s *Server, token, target string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "http://acme.example"+target, nil)
	req.Header.Set("Authorization", "SSWS "+token)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("GET %s: status %d", target, rec.Code)
	}
	return rec
}

// BenchmarkLogsPolling measures serving limit=1000 polling pages by following next links, rate
// limits off. Run with -cpu 1 for the one-core figure.
func BenchmarkLogsPolling(b *testing.B) {
	clock := clock.NewManual(t0)
	const n = 200_000
	s := fillServer(b, n, clock)
	_, tok := s.Tokens().Add(APIToken{Roles: []Role{RoleSuperAdmin}})
	first := "/api/v1/logs?limit=1000&since=" + t0.Add(-90*24*time.Hour).Format(time.RFC3339)
	target := first
	bytes := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rec := benchGet(b, s, tok, target)
		bytes += rec.Body.Len()
		next := links(b, rec.Header())["next"]
		if rec.Body.Len() < 10 {
			next = "http://acme.example" + first // caught up: start over
		}
		target = pathOf(next)
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "events/s")
	b.SetBytes(int64(bytes / max(b.N, 1)))
}

// BenchmarkLogsFilteredPolling measures a polling query whose filter needs decoded fields.
func BenchmarkLogsFilteredPolling(b *testing.B) {
	clock := clock.NewManual(t0)
	s := fillServer(b, 50_000, clock)
	_, tok := s.Tokens().Add(APIToken{Roles: []Role{RoleSuperAdmin}})
	target := "/api/v1/logs?limit=1000&filter=" + "client.userAgent.browser%20eq%20%22CHROME%22&since=" + t0.Add(-90*24*time.Hour).Format(time.RFC3339)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		benchGet(b, s, tok, target)
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkLogStoreMemory appends OKTASIM_BENCH_EVENTS events (default 5,000,000) and reports the
// heap they occupy. It takes minutes; run it alone with -benchtime 1x.
func BenchmarkLogStoreMemory(b *testing.B) {
	n := 5_000_000
	if v := os.Getenv("OKTASIM_BENCH_EVENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		s := fillServer(b, n, clock.NewManual(t0))
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		heap := float64(after.HeapAlloc - before.HeapAlloc)
		b.ReportMetric(heap/(1<<20), "heap-MiB")
		b.ReportMetric(heap/float64(n), "B/event")
		if visible, _ := s.EventCount(); visible != n {
			b.Fatalf("%d events visible, want %d", visible, n)
		}
		runtime.KeepAlive(s)
	}
}

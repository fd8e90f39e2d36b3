package oktasim

import (
	"crypto/rand"
	"net"
	"net/http"
	"strconv"

	"github.com/idwatch/idwatch/internal/event"
)

// logRateEvent writes the System Log event Okta records when an org nears or exceeds a rate limit
// or its concurrency limit. The event types are Okta's; the detail fields are modelled on its
// other events, since Okta does not document these events' contents.
func (s *Server) logRateEvent(eventType, message, requestID string, r *http.Request, p Principal, b BucketLimit) {
	now := s.clock.Now()
	actor := &event.Actor{ID: p.ID, Type: "PublicClientApp", AlternateID: p.ID, DisplayName: p.Name}
	if p.Kind == PrincipalToken {
		actor = &event.Actor{ID: p.AdminID, Type: "User", AlternateID: p.AdminID, DisplayName: p.Name}
	}
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	severity := "WARN"
	if eventType != "system.org.rate_limit.warning" {
		severity = "ERROR"
	}
	ev := &event.LogEvent{UUID: newUUID(), Published: now, EventType: eventType, Version: "0", Severity: severity,
		DisplayMessage: message, Actor: actor,
		Client:      &event.Client{IPAddress: ip, Zone: "null", Device: "Unknown", UserAgent: &event.UserAgent{RawUserAgent: r.UserAgent(), OS: "Unknown", Browser: "UNKNOWN"}},
		Outcome:     &event.Outcome{Result: "SUCCESS"},
		Transaction: &event.Transaction{Type: "WEB", ID: requestID},
		DebugContext: &event.DebugContext{DebugData: map[string]any{
			"requestUri": r.URL.Path, "rateLimitBucketUri": b.Path, "rateLimitScopeType": "ORG",
			"threshold": strconv.Itoa(b.PerMinute), "warningPercent": strconv.Itoa(rateWarningPercent)}},
		Target: []event.Target{{ID: b.Path, Type: "URL Pattern", AlternateID: b.Path, DisplayName: b.Name}},
	}
	if err := s.Append(ev); err != nil {
		s.log.Error("write rate limit event", "err", err)
	}
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return formatUUID(u)
}

package okta

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
)

// BenchmarkDecodePage measures strict decoding of a full System Log page (1000 events).
func BenchmarkDecodePage(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("[")
	for i := range 1000 {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"uuid":"%08d-5091-45dc-a39f-d357867a30d7","published":"2026-03-01T12:00:00.000Z","eventType":"user.session.start","severity":"INFO","actor":{"id":"00u1","type":"User","alternateId":"jdoe@acme.com","displayName":"Jane Doe"},"client":{"ipAddress":"184.73.186.14","userAgent":{"rawUserAgent":"Mozilla/5.0","os":"Mac OS X","browser":"CHROME"},"geographicalContext":{"city":"Boston","country":"United States"}},"outcome":{"result":"SUCCESS"},"target":[{"id":"0oa1","type":"AppInstance"}],"debugContext":{"debugData":{"requestId":"abc","requestUri":"/idp/idx/identify","url":"/idp/idx/identify?"}}}`, i)
	}
	sb.WriteString("]")
	body := []byte(sb.String())
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeArray("/api/v1/logs", body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGovernorAcquireDone measures the governor's bookkeeping per request.
func BenchmarkGovernorAcquireDone(b *testing.B) {
	clk := clock.NewManual(t0)
	g, _ := NewGovernor(GovernorConfig{Clock: clk, Share: 1})
	// A busy bucket: 2,000 requests per one-minute window, 20 ms apart.
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		r, err := g.Acquire(ctx, LaneLogs, BucketUser)
		if err != nil {
			b.Fatal(err)
		}
		now := clk.Now()
		win := now.Truncate(time.Minute).Add(time.Minute)
		h := http.Header{}
		h.Set("X-Rate-Limit-Limit", "1000000")
		h.Set("X-Rate-Limit-Remaining", "999999")
		h.Set("X-Rate-Limit-Reset", strconv.FormatInt(win.Unix(), 10))
		h.Set("Date", now.Format(http.TimeFormat))
		r.Done(200, h)
		clk.Advance(20 * time.Millisecond)
	}
}

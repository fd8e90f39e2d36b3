package oktasim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// FuzzLogsQuery sends arbitrary query strings to the System Log and users endpoints: every answer
// must be a JSON array (200) or Okta's error object with a 4xx status, never a panic or a 5xx.
func FuzzLogsQuery(f *testing.F) {
	f.Add("limit=10&since=2026-03-10T13:00:00Z")
	f.Add("after=AXACP7Kr_w&limit=2")
	o := newTestOrg(f, Config{RateLimits: RateLimitConfig{Disabled: true}})
	for i := 0; i < 20; i++ {
		_ = o.srv.Append(testEvent(i, t0.Add(-time.Duration(20-i)*time.Minute), "user.session.start"))
	}
	_ = o.srv.SetUsers(testUsers(5))
	f.Fuzz(func(t *testing.T, query string) {
		for _, path := range []string{"/api/v1/logs", "/api/v1/users"} {
			req, err := http.NewRequest(http.MethodGet, "http://acme.example"+path+"?"+query, nil)
			if err != nil {
				return
			}
			req.Header.Set("Authorization", "SSWS "+o.token)
			rec := httptest.NewRecorder()
			o.srv.ServeHTTP(rec, req)
			switch {
			case rec.Code == http.StatusOK:
				var arr []json.RawMessage
				if err := json.Unmarshal(rec.Body.Bytes(), &arr); err != nil {
					t.Fatalf("%s?%s: 200 with a body that is not an array: %s", path, query, rec.Body)
				}
			case rec.Code >= 400 && rec.Code < 500:
				var e APIError
				if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.ErrorCode == "" {
					t.Fatalf("%s?%s: %d without an error object: %s", path, query, rec.Code, rec.Body)
				}
			default:
				t.Fatalf("%s?%s: status %d: %s", path, query, rec.Code, rec.Body)
			}
		}
	})
}

// FuzzDecodeCursor feeds arbitrary after values to the cursor decoder: it must refuse or round-trip.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(logCursor{seq: 5}.encode())
	f.Add(logCursor{bounded: true, seq: 9, published: 1e18, since: -5, desc: true}.encode())
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(s)
		if err != nil {
			return
		}
		again, err := decodeCursor(c.encode())
		if err != nil || again != c {
			t.Fatalf("cursor %q decodes to %+v which does not round-trip (%+v, %v)", s, c, again, err)
		}
	})
}

package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/benchutil"
	"github.com/idwatch/idwatch/internal/store"
)

// realisticEvent returns an Okta System Log event of about 2 KB, shaped like a real
// user.authentication.auth_via_mfa event.
func realisticEvent(page, i int) store.Event {
	uuid := fmt.Sprintf("%08x-%04x-11ef-9c3a-%012x", page, i, page*1000+i)
	pub := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC).Add(time.Duration(page*1000+i) * time.Millisecond)
	raw := fmt.Sprintf(`{"actor":{"id":"00u1a2b3c4d5e6f7g8h9","type":"User","alternateId":"jane.doe%d@example.com","displayName":"Jane Doe","detailEntry":null},`+
		`"client":{"userAgent":{"rawUserAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36","os":"Windows 10","browser":"CHROME"},`+
		`"zone":"null","device":"Computer","id":null,"ipAddress":"203.0.113.%d","geographicalContext":{"city":"Amsterdam","state":"North Holland","country":"Netherlands","postalCode":"1012","geolocation":{"lat":52.3759,"lon":4.8975}}},`+
		`"device":null,"authenticationContext":{"authenticationProvider":null,"credentialProvider":"OKTA_CREDENTIAL_PROVIDER","credentialType":"OTP","issuer":null,"interface":null,"authenticationStep":0,"rootSessionId":"102dwAnB3gRSHeKo6x0mw7lzQ","externalSessionId":"102dwAnB3gRSHeKo6x0mw7lzQ"},`+
		`"displayMessage":"Authentication of user via MFA","eventType":"user.authentication.auth_via_mfa","outcome":{"result":"SUCCESS","reason":null},`+
		`"published":"%s","securityContext":{"asNumber":64496,"asOrg":"example transit","isp":"example isp","domain":"example.net","isProxy":false},`+
		`"severity":"INFO","debugContext":{"debugData":{"requestId":"Z0Ab1cDeFgHiJkLmNoPqRsTuVwXyZ%d","dtHash":"4c1f9e0b2a7d6c5e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e","requestUri":"/idp/idx/challenge/answer","url":"/idp/idx/challenge/answer?","factor":"OKTA_VERIFY_PUSH","behaviors":"{New Geo-Location=NEGATIVE, New Device=NEGATIVE, New IP=NEGATIVE, New State=NEGATIVE, New Country=NEGATIVE, Velocity=NEGATIVE, New City=NEGATIVE}","risk":"{level=LOW}","threatSuspected":"false"}},`+
		`"legacyEventType":"core.user.factor.attempt_success","transaction":{"type":"WEB","id":"Z0Ab1cDeFgHiJkLmNoPqRsTuVwXyZ","detail":{}},"uuid":"%s","version":"0",`+
		`"request":{"ipChain":[{"ip":"203.0.113.%d","geographicalContext":{"city":"Amsterdam","state":"North Holland","country":"Netherlands","postalCode":"1012","geolocation":{"lat":52.3759,"lon":4.8975}},"version":"V4","source":null}]},`+
		`"target":[{"id":"pfd1a2b3c4d5e6f7g8h9","type":"AuthenticatorEnrollment","alternateId":"unknown","displayName":"Okta Verify","detailEntry":{"methodTypeUsed":"Use Push Notification","methodUsed":"OKTA_VERIFY_PUSH"}},`+
		`{"id":"aut1a2b3c4d5e6f7g8h9","type":"AuthenticatorEnrollment","alternateId":"unknown","displayName":"Okta Verify","detailEntry":null}]}`,
		i, i%250, pub.Format(time.RFC3339Nano), i, uuid, i%250)
	return store.Event{UUID: uuid, Published: pub, EventType: "user.authentication.auth_via_mfa", Raw: []byte(raw)}
}

// benchPages builds n pages of size events each.
func benchPages(n, size int) [][]store.Event {
	pages := make([][]store.Event, n)
	for p := range pages {
		pages[p] = make([]store.Event, size)
		for i := range pages[p] {
			pages[p][i] = realisticEvent(p, i)
		}
	}
	return pages
}

// BenchmarkAppendPage measures journal ingest: pages of 1000 ~2 KB events, each page with its
// cursor in one transaction. Run with -cpu 1 for the single-core figure.
func BenchmarkAppendPage(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, Options{Path: filepath.Join(b.TempDir(), "bench.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const perPage = 1000
	pages := benchPages(b.N, perPage)
	var bytes int
	for _, e := range pages[0] {
		bytes += len(e.Raw)
	}
	b.SetBytes(int64(bytes))
	b.ResetTimer()
	cpu := benchutil.CPUTime()
	for p := range b.N {
		c := &store.Cursor{Next: fmt.Sprintf("https://org.example/api/v1/logs?after=%d", p), LastPublished: pages[p][perPage-1].Published}
		r, err := s.AppendPage(ctx, 1, pages[p], c)
		if err != nil || r.Inserted != perPage {
			b.Fatalf("page %d: %+v %v", p, r, err)
		}
	}
	reportRates(b, b.N*perPage, cpu)
}

// BenchmarkReadJournal measures reading the journal in batches of 1000 and committing the
// consumer's offset after each, as a sink does. The commit is what makes it realistic: every write
// invalidates the readers' page caches, so each read starts cold.
func BenchmarkReadJournal(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, Options{Path: filepath.Join(b.TempDir(), "bench.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const pages, perPage = 20, 1000
	for p, evs := range benchPages(pages, perPage) {
		if _, err := s.AppendPage(ctx, 1, evs, nil); err != nil {
			b.Fatalf("page %d: %v", p, err)
		}
	}
	if _, err := s.RegisterConsumer(ctx, "bench", store.StreamJournal, 0); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu := benchutil.CPUTime()
	var after int64
	for range b.N {
		got, err := s.ReadJournal(ctx, after, perPage, store.ReadFilter{})
		if err != nil || len(got) != perPage {
			b.Fatalf("read after %d: %d entries, %v", after, len(got), err)
		}
		// ResetOffset rather than CommitOffset: the loop wraps around, and a backward commit writes nothing.
		if err := s.ResetOffset(ctx, "bench", got[len(got)-1].Seq); err != nil {
			b.Fatal(err)
		}
		after = got[len(got)-1].Seq % (pages * perPage)
	}
	reportRates(b, b.N*perPage, cpu)
}

// reportRates reports events per wall-clock second and per CPU second; on a shared machine the
// second is the fair "one core" figure, since wall time includes waiting for a CPU.
func reportRates(b *testing.B, events int, cpuStart time.Duration) {
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	if used := benchutil.CPUTime() - cpuStart; used > 0 {
		b.ReportMetric(float64(events)/used.Seconds(), "events/cpu-s")
	}
}

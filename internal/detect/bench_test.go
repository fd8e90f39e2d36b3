package detect

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/benchutil"
	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/rules"
)

// workforceMix builds n decoded events shaped like an org's daily traffic: mostly successful
// sign-ins, SSO and policy evaluations, some MFA and failures, a few admin changes.
func workforceMix(n, users int) []event.Doc {
	r := rand.New(rand.NewPCG(1, 2))
	types := []struct {
		t string
		w int
	}{
		{"user.session.start", 20}, {"user.authentication.sso", 30}, {"policy.evaluate_sign_on", 25},
		{"user.authentication.auth_via_mfa", 10}, {"user.authentication.verify", 5},
		{"user.session.end", 5}, {"app.oauth2.as.token.grant.access_token", 3},
		{"user.account.update_profile", 1}, {"group.user_membership.add", 1},
	}
	total := 0
	for _, t := range types {
		total += t.w
	}
	cities := [][2]float64{{48.85, 2.35}, {51.5, -0.12}, {40.71, -74.0}, {37.77, -122.4}}
	out := make([]event.Doc, n)
	base := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	for i := range out {
		pick := r.IntN(total)
		et := types[0].t
		for _, t := range types {
			if pick < t.w {
				et = t.t
				break
			}
			pick -= t.w
		}
		u := r.IntN(users)
		city := cities[u%len(cities)]
		result := "SUCCESS"
		if r.IntN(50) == 0 {
			result = "FAILURE"
		}
		out[i] = event.Doc{
			"uuid": fmt.Sprintf("ev-%d", i), "published": base.Add(time.Duration(i) * 50 * time.Millisecond).Format(time.RFC3339Nano),
			"eventType": et,
			"actor":     map[string]any{"id": fmt.Sprintf("00u%d", u), "type": "User", "alternateId": fmt.Sprintf("user%d@example.com", u)},
			"client": map[string]any{"ipAddress": fmt.Sprintf("198.51.%d.%d", u%200, u%250),
				"geographicalContext": map[string]any{"country": "France", "geolocation": map[string]any{"lat": city[0], "lon": city[1]}},
				"userAgent":           map[string]any{"rawUserAgent": "Mozilla/5.0", "os": "Mac OS X", "browser": "CHROME"}},
			"outcome":               map[string]any{"result": result, "reason": "INVALID_CREDENTIALS"},
			"securityContext":       map[string]any{"isProxy": false, "asNumber": int64(7922 + u%3)},
			"authenticationContext": map[string]any{"externalSessionId": fmt.Sprintf("102sess%d", u)},
			"target":                []any{map[string]any{"id": "0oa1", "type": "AppInstance", "displayName": "Salesforce"}},
			"debugContext":          map[string]any{"debugData": map[string]any{"requestUri": "/app/salesforce/sso", "factor": "OKTA_VERIFY_PUSH"}},
		}
	}
	return out
}

func builtinRuleset(b testing.TB) *Ruleset {
	files, err := LoadFS(rules.FS, ".")
	if err != nil {
		b.Fatal(err)
	}
	rs, err := Compile(files)
	if err != nil {
		b.Fatal(err)
	}
	return rs
}

func runBench(b *testing.B, rs *Ruleset, docs []event.Doc) {
	e := engine(b, rs, Config{})
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := benchutil.CPUTime()
	for i := 0; i < b.N; i++ {
		d := docs[i%len(docs)]
		if i >= len(docs) && i%len(docs) == 0 {
			b.StopTimer()
			e = engine(b, rs, Config{})
			b.StartTimer()
		}
		if _, err := e.Process(Input{Fields: d}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if cpu := benchutil.CPUTime() - cpu0; cpu > 0 {
		// CPU time includes the GC's, which may run on another core.
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/event")
	}
}

// BenchmarkBuiltinPack runs the whole built-in pack over a workforce mix on one goroutine.
func BenchmarkBuiltinPack(b *testing.B) {
	runBench(b, builtinRuleset(b), workforceMix(50_000, 2_000))
}

// syntheticRules returns n detection rules, each on its own event type, plus one rule on
// user.session.start.
func syntheticRules(n int) []RuleFile {
	var out []RuleFile
	for i := 0; i < n; i++ {
		et := fmt.Sprintf("synthetic.type.%d", i)
		if i == 0 {
			et = "user.session.start"
		}
		src := fmt.Sprintf("title: r%d\nlogsource: {product: okta}\ndetection:\n    s:\n        eventType: %s\n        outcome.result: FAILURE\n        client.ipAddress|cidr: 10.0.0.0/8\n    condition: s\n", i, et)
		out = append(out, RuleFile{Name: fmt.Sprintf("r%d.yml", i), Data: []byte(src)})
	}
	return out
}

// BenchmarkRuleCount compares the per-event cost of 1 rule with 500: the index keeps an
// event away from the rules of other event types.
func BenchmarkRuleCount(b *testing.B) {
	docs := workforceMix(20_000, 2_000)
	for _, n := range []int{1, 500} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			rs, err := Compile(syntheticRules(n))
			if err != nil {
				b.Fatal(err)
			}
			runBench(b, rs, docs)
		})
	}
}

// BenchmarkCorrelationState reports the memory held by correlation state after b.N events
// of 20,000 users through the built-in pack (run with -benchtime=50000x for a day's worth of
// a mid-size org's sign-ins).
func BenchmarkCorrelationState(b *testing.B) {
	rs := builtinRuleset(b)
	docs := workforceMix(min(b.N, 200_000), 20_000)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	e := engine(b, rs, Config{})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Process(Input{Fields: docs[i%len(docs)]}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	st := e.Stats()
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/1024/1024, "MiB")
	b.ReportMetric(float64(st.Groups), "groups")
	b.ReportMetric(float64(st.Entries), "entries")
	runtime.KeepAlive(e)
	runtime.KeepAlive(docs)
}

package scenario

import (
	"strconv"
	"time"

	"github.com/idwatch/idwatch/internal/event"
)

// serviceUAs are the SDKs the org's integrations call Okta with.
var serviceUAs = []string{
	"okta-sdk-python/2.9.8 python/3.12.4 Linux/6.1.0",
	"okta-sdk-golang/5.0.2 golang/go1.22.5 linux/amd64",
	"okta-sdk-java/17.0.0 java/21.0.3 Linux/5.15.0",
}

// jobs plans the org's background work for the UTC day: hourly AD imports, provisioning pushes and
// the service apps' client-credentials token requests.
func (dp *dayPlan) jobs() {
	r, g := dp.r, dp.g
	ad := g.org.adAgentID
	adTarget := event.Target{ID: ad, Type: "AppInstance", AlternateID: g.org.adInstance, DisplayName: "Active Directory"}
	for h := range 24 {
		t := dp.day.Add(time.Duration(h)*time.Hour + time.Duration(180_000+r.IntN(120_000))*time.Millisecond)
		jid := r.requestID()
		ev := jobEvent(r, t, "system.import.start", systemActor)
		setTransaction(ev, jid)
		ev.DebugContext.DebugData["importType"] = "INCREMENTAL"
		ev.Target = []event.Target{adTarget}
		g.push(ev, nil)
		t = t.Add(time.Duration(r.between(20_000, 150_000)) * time.Millisecond)
		updated := 0
		if r.chance(0.3) {
			if p := dp.person(func(p *Person) bool { return p.ADSourced && p.Status == StatusActive }); p != nil {
				updated++
				up := jobEvent(r, t.Add(-time.Second), "user.account.update_profile", systemActor)
				setTransaction(up, jid)
				tg := userTarget(p)
				tg.ChangeDetails = &event.ChangeDetails{From: map[string]any{"department": p.Department}, To: map[string]any{"department": p.Department, "title": p.Title}}
				up.Target = []event.Target{tg, adTarget}
				g.push(up, nil)
			}
		}
		ev = jobEvent(r, t, "system.import.complete", systemActor)
		setTransaction(ev, jid)
		ev.DebugContext.DebugData["importType"] = "INCREMENTAL"
		ev.DebugContext.DebugData["usersUpdated"] = strconv.Itoa(updated)
		ev.Target = []event.Target{adTarget}
		g.push(ev, nil)
	}
	for _, a := range g.org.apps {
		if !a.Provisioning {
			continue
		}
		for range r.between(2, 6) {
			p := dp.person(func(p *Person) bool { return p.Status == StatusActive && containsID(p.Apps, a.ID) })
			if p != nil {
				g.push(provisionSync(r, dp.day.Add(time.Duration(r.Int64N(int64(24*time.Hour)))), p, a), nil)
			}
		}
	}
	for i, a := range g.org.services {
		ip := ipv4(128, 241, 20, byte(10+i))
		o := newOrigin(ip, &cities[hqCity], &networks[20], nil, &event.UserAgent{RawUserAgent: serviceUAs[i%len(serviceUAs)], OS: "Linux", Browser: "UNKNOWN"}, "Unknown", "null")
		for t := dp.day.Add(time.Duration(r.IntN(900_000)) * time.Millisecond); t.Before(dp.day.Add(24 * time.Hour)); t = t.Add(time.Duration(r.between(900_000, 2_700_000)) * time.Millisecond) {
			rid := r.requestID()
			ev := tokenGrant(r, t, "app.oauth2.as.token.grant.access_token", a, o, nil, "client_credentials", rid)
			ev.AuthenticationContext.CredentialType = "JWT"
			g.push(ev, nil)
			if i == len(g.org.services)-1 {
				g.push(dp.hookEvent(t.Add(-30*time.Millisecond), a, rid), nil)
			}
		}
	}
}

func containsID(ids []string, id string) bool {
	for _, v := range ids {
		if v == id {
			return true
		}
	}
	return false
}

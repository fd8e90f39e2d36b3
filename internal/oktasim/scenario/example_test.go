package scenario_test

import (
	"fmt"
	"time"

	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/oktasim/scenario"
)

// An org of 200 people: a day of workforce traffic, then a push-fatigue attack injected on top.
func Example() {
	start := time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC)
	g, err := scenario.New(scenario.Config{Seed: 1, Users: 200, OrgDomain: "acme.example", Start: start})
	if err != nil {
		panic(err)
	}
	signIns := 0
	g.Advance(start.Add(24*time.Hour), func(ev *event.LogEvent) {
		if ev.EventType == "user.session.start" && ev.Outcome.Result == "SUCCESS" {
			signIns++
		}
	})
	fmt.Println("sign-ins in a day:", signIns > 150)

	st, err := g.Storyline("mfa_push_fatigue", start.Add(25*time.Hour))
	if err != nil {
		panic(err)
	}
	fmt.Println(st.Name, st.Detections, st.Events[0].Published)
	// Output:
	// sign-ins in a day: true
	// mfa_push_fatigue [okta_mfa_push_fatigue okta_mfa_push_deny_multiple okta_session_via_proxy] 2026-03-13 01:00:00 +0000 UTC
}

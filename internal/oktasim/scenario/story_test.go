package scenario

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/event"
)

func TestStorylinesCatalogue(t *testing.T) {
	infos := Storylines()
	if len(infos) < 15 {
		t.Fatalf("%d storylines", len(infos))
	}
	names := map[string]bool{}
	for _, in := range infos {
		if in.Name == "" || in.Description == "" || len(in.Detections) == 0 || names[in.Name] {
			t.Fatalf("bad storyline info %+v", in)
		}
		names[in.Name] = true
		for _, d := range in.Detections {
			if !strings.HasPrefix(d, "okta_") || strings.ToLower(d) != d {
				t.Fatalf("%s: label %q is not a stable okta_* name", in.Name, d)
			}
		}
	}
	labels := map[string]bool{}
	for _, l := range DetectionLabels() {
		if l.Description == "" || labels[l.Name] {
			t.Fatalf("bad label %+v", l)
		}
		labels[l.Name] = true
	}
	used := map[string]bool{}
	for _, in := range infos {
		for _, d := range in.Detections {
			if !labels[d] {
				t.Errorf("%s: label %s is not in DetectionLabels", in.Name, d)
			}
			used[d] = true
		}
	}
	if len(used) != len(labels) {
		t.Errorf("DetectionLabels lists %d labels, storylines use %d", len(labels), len(used))
	}
	g := newTestGenerator(t, 50)
	if _, err := g.Storyline("no_such_story", testStart); err == nil || !strings.Contains(err.Error(), "mfa_push_fatigue") {
		t.Fatalf("unknown storyline error should list the valid names, got %v", err)
	}
	if _, err := g.Storyline("mfa_push_fatigue", time.Time{}); err == nil {
		t.Fatal("zero start time accepted")
	}
	if _, err := newTestGenerator(t, 3).Storyline("password_spray", testStart); err == nil {
		t.Fatal("a spray against a 3-person org should say the org is too small")
	}
}

// Each storyline, on its own and mixed into a day of benign traffic, trips its detections.
func TestStorylinesTriggerTheirDetections(t *testing.T) {
	g := newTestGenerator(t, 200)
	benign := collect(g, testStart.Add(24*time.Hour))
	people := g.People()
	at := testStart.Add(13*time.Hour + 17*time.Minute)
	for _, info := range Storylines() {
		t.Run(info.Name, func(t *testing.T) {
			st, err := g.Storyline(info.Name, at)
			if err != nil {
				t.Fatal(err)
			}
			if st.Name != info.Name || !slices.Equal(st.Detections, info.Detections) || st.ID == "" || len(st.Events) == 0 {
				t.Fatalf("story %+v", st)
			}
			if !st.Events[0].Published.Equal(at) {
				t.Fatalf("first event at %v, want %v", st.Events[0].Published, at)
			}
			for i, ev := range st.Events {
				checkEnvelope(t, ev, true)
				if i > 0 && ev.Published.Before(st.Events[i-1].Published) {
					t.Fatal("story events out of order")
				}
			}
			if last := st.Events[len(st.Events)-1].Published; last.Sub(at) > 2*time.Hour {
				t.Fatalf("story lasts %v", last.Sub(at))
			}
			alone := detect(st.Events, people)
			mixed := detect(append(slices.Clone(benign), st.Events...), people)
			for _, d := range info.Detections {
				if !alone[d] || !mixed[d] {
					t.Errorf("%s not tripped (alone %v, mixed %v)", d, alone[d], mixed[d])
				}
			}
			again, _ := g.Storyline(info.Name, at)
			if again.ID == st.ID || again.Events[0].UUID == st.Events[0].UUID {
				t.Fatal("a second instance reuses the first one's ids")
			}
		})
	}
}

// The same calls on generators with the same Config give the same stories.
func TestStorylinesDeterministic(t *testing.T) {
	run := func() []byte {
		g := newTestGenerator(t, 100)
		var out []*event.LogEvent
		for i, info := range Storylines() {
			g.Advance(testStart.Add(time.Duration(i)*time.Hour), func(*event.LogEvent) {})
			st, err := g.Storyline(info.Name, testStart.Add(time.Duration(i)*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, st.Events...)
		}
		return encodeAll(t, out)
	}
	if a, b := run(), run(); string(a) != string(b) {
		t.Fatal("same calls gave different stories")
	}
}

func TestStorylineShapes(t *testing.T) {
	g := newTestGenerator(t, 200)
	story := func(name string) Story {
		st, err := g.Storyline(name, testStart.Add(10*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	count := func(evs []*event.LogEvent, ok func(*event.LogEvent) bool) int { return len(filter(evs, ok)) }

	fat := story("mfa_push_fatigue")
	pushes := count(fat.Events, func(ev *event.LogEvent) bool { return ev.EventType == "system.push.send_factor_verify_push" })
	denies := count(fat.Events, isPushDeny)
	span := fat.Events[len(fat.Events)-1].Published.Sub(fat.Events[0].Published)
	if pushes < 5 || denies < 4 || distinct(fat.Events, actorKey) != 1 || span > 30*time.Minute {
		t.Fatalf("push fatigue: %d pushes, %d denies, %d actors over %v", pushes, denies, distinct(fat.Events, actorKey), span)
	}

	spray := story("password_spray")
	fails := filter(spray.Events, isFailedSignIn)
	if distinct(fails, ip) != 1 || distinct(fails, actorKey) < 20 {
		t.Fatalf("spray: %d IPs, %d users", distinct(fails, ip), distinct(fails, actorKey))
	}
	for _, ev := range fails {
		if ev.Client.UserAgent.RawUserAgent != "python-requests/2.31.0" || !strings.Contains(dd(ev, "behaviors"), "New Device=POSITIVE") {
			t.Fatalf("spray attempt without attacker UA or behaviors: %+v", ev.Client.UserAgent)
		}
	}

	replay := story("session_cookie_replay")
	sids := distinct(replay.Events, func(ev *event.LogEvent) string { return ev.AuthenticationContext.ExternalSessionID })
	if sids != 2 || distinct(replay.Events, func(ev *event.LogEvent) string { return ev.SecurityContext.AsOrg }) != 2 {
		t.Fatalf("replay: %d session ids (incl. none), %d ASNs", sids, distinct(replay.Events, func(ev *event.LogEvent) string { return ev.SecurityContext.AsOrg }))
	}

	lock := story("brute_force_lockout")
	if count(lock.Events, func(ev *event.LogEvent) bool { return ev.EventType == "user.account.lock" }) != 1 {
		t.Fatal("brute force without exactly one lock")
	}

	tamper := story("log_stream_tampering")
	if count(tamper.Events, func(ev *event.LogEvent) bool { return ev.EventType == "system.log_stream.lifecycle.delete" }) != 1 {
		t.Fatal("log stream tampering without a delete")
	}
	for _, ev := range tamper.Events {
		if ev.SecurityContext.IsProxy == nil || !*ev.SecurityContext.IsProxy {
			t.Fatalf("%s: compromised admin not behind an anonymizer", ev.EventType)
		}
	}
}

// Apply carries a story's consequences into the population and the planned traffic.
func TestApplyStory(t *testing.T) {
	g := newTestGenerator(t, 200)
	g.Advance(testStart.Add(10*time.Hour), func(*event.LogEvent) {})
	lock, err := g.Storyline("brute_force_lockout", testStart.Add(10*time.Hour+time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	grant, _ := g.Storyline("admin_privilege_grant", testStart.Add(10*time.Hour+2*time.Minute))
	g.Apply(lock)
	g.Apply(grant)
	victim := lock.Actors[0]
	granted := grant.Events[len(grant.Events)-1].Target[0].ID
	people := g.People()
	if p, _ := findPerson(people, victim); p.Status != StatusLockedOut {
		t.Fatalf("locked-out victim has status %s", p.Status)
	}
	if p, _ := findPerson(people, granted); !slices.Contains(p.AdminRoles, RoleSuperAdmin) {
		t.Fatalf("granted user has roles %v", p.AdminRoles)
	}
	// The locked-out victim signs in no more until the help desk unlocks the account.
	unlocked := false
	g.Advance(testStart.Add(72*time.Hour), func(ev *event.LogEvent) {
		if ev.EventType == "user.account.unlock" && ev.Target[0].ID == victim {
			unlocked = true
		}
		if !unlocked && ev.Actor.ID == victim && ev.EventType == "user.session.start" {
			t.Fatalf("locked-out user signed in at %v", ev.Published)
		}
	})
}

// Benign traffic trips none of the behavioural detections (routine audit events aside).
func TestBenignTrafficIsQuiet(t *testing.T) {
	for _, seed := range []int64{42, 1, 2} {
		cfg := testConfig(250)
		cfg.Seed = seed
		g, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		evs := collect(g, testStart.Add(48*time.Hour))
		for label := range detect(evs, g.People()) {
			if !slices.Contains(auditLabels, label) {
				t.Errorf("seed %d: benign traffic trips %s", seed, label)
			}
		}
		failed := filter(evs, isFailedSignIn)
		if windows(failed, actorKey, 10*time.Minute, func(w []*event.LogEvent) bool { return len(w) > 3 }) {
			t.Errorf("seed %d: a user fails more than 3 sign-ins in 10 minutes", seed)
		}
		if windows(failed, ip, 10*time.Minute, func(w []*event.LogEvent) bool { return distinct(w, actorKey) > 3 }) {
			t.Errorf("seed %d: an address fails against more than 3 users in 10 minutes", seed)
		}
		if len(failed) == 0 {
			t.Errorf("seed %d: no fat-fingered passwords at all", seed)
		}
		sid := func(ev *event.LogEvent) string { return ev.AuthenticationContext.ExternalSessionID }
		if windows(filter(evs, isSignIn), actorKey, 30*time.Minute, func(w []*event.LogEvent) bool { return distinct(w, sid) >= 3 }) {
			t.Errorf("seed %d: a user opens three or more sessions within 30 minutes", seed)
		}
		if some(evs, func(ev *event.LogEvent) bool {
			return ev.SecurityContext != nil && ev.SecurityContext.IsProxy != nil && *ev.SecurityContext.IsProxy
		}) {
			t.Errorf("seed %d: benign traffic through an anonymizer", seed)
		}
	}
}

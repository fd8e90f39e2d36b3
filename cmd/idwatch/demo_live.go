package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/oktasim"
)

// storylineInjector is the part of the emulated org that live storylines need.
type storylineInjector interface {
	Storylines() []oktasim.StorylineInfo
	InjectStoryline(name string, at time.Time) (oktasim.StoryTruth, error)
}

// liveStorylines keeps attack storylines starting in the emulated org while the demo runs, so
// alerts appear while the user watches and not only from history: the first after first, then
// one every every, cycling through the org's storylines. report is told of each injection.
func liveStorylines(ctx context.Context, clk clock.Clock, sim storylineInjector, first, every time.Duration, report func(oktasim.StoryTruth, error)) error {
	if first < 0 || every <= 0 {
		return fmt.Errorf("live storylines: first %v and every %v must be positive", first, every)
	}
	names := sim.Storylines()
	if len(names) == 0 {
		return errors.New("live storylines: the emulated org has no storylines")
	}
	wait := first
	for i := 0; ; i++ {
		if err := clock.Sleep(ctx, clk, wait); err != nil {
			return nil // stopped
		}
		wait = every
		name := names[i%len(names)].Name
		report(sim.InjectStoryline(name, clk.Now()))
	}
}

// printLiveStoryline tells the user a storyline started and what should detect it, and records
// its events in live so the alerts they raise can be marked.
func printLiveStoryline(io stdio, live *liveEvents) func(oktasim.StoryTruth, error) {
	return func(t oktasim.StoryTruth, err error) {
		if err != nil {
			fmt.Fprintf(io.err, "demo: could not start a live storyline: %v\n", err)
			return
		}
		live.add(t)
		fmt.Fprintf(io.out, "LIVE  storyline %q started now (%d events); expect: %v\n", t.Name, len(t.UUIDs), t.Detections)
	}
}

// quickStorylines are detected within their first half minute (a sign-in through an anonymizing
// proxy, a ThreatInsight block), so a demo that starts with them shows its first live alert
// within seconds of the storyline, not after minutes of a slower attack unfolding.
var quickStorylines = []string{"threatinsight_detection", "admin_privilege_grant"}

// quickFirst is an org whose storylines list the quick ones first, the others after in the
// org's order.
type quickFirst struct{ storylineInjector }

// Storylines lists the org's storylines, quick ones first.
func (q quickFirst) Storylines() []oktasim.StorylineInfo {
	all := q.storylineInjector.Storylines()
	rank := func(s oktasim.StorylineInfo) int {
		if i := slices.Index(quickStorylines, s.Name); i >= 0 {
			return i
		}
		return len(quickStorylines)
	}
	slices.SortStableFunc(all, func(a, b oktasim.StorylineInfo) int { return rank(a) - rank(b) })
	return all
}

// liveEvents maps the events of the storylines started live to their storyline's name, so that
// the demo can say which alerts a live storyline raised.
type liveEvents struct {
	mu     sync.Mutex
	byUUID map[string]string
}

// maxLiveEvents bounds the map over a long demo; older storylines' alerts are then not marked.
const maxLiveEvents = 100000

func (l *liveEvents) add(t oktasim.StoryTruth) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byUUID == nil || len(l.byUUID) > maxLiveEvents {
		l.byUUID = map[string]string{}
	}
	for _, u := range t.UUIDs {
		l.byUUID[u] = t.Name
	}
}

// uuidPattern finds event uuids in an alert's record.
var uuidPattern = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

// storyline returns the live storyline whose events an alert's record names, if any.
func (l *liveEvents) storyline(body []byte) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, u := range uuidPattern.FindAll(body, -1) {
		if name, ok := l.byUUID[string(u)]; ok {
			return name
		}
	}
	return ""
}

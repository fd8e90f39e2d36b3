package main

import (
	"context"
	"errors"
	"fmt"
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

// printLiveStoryline tells the user a storyline started and what should detect it.
func printLiveStoryline(io stdio) func(oktasim.StoryTruth, error) {
	return func(t oktasim.StoryTruth, err error) {
		if err != nil {
			fmt.Fprintf(io.err, "demo: could not start a live storyline: %v\n", err)
			return
		}
		fmt.Fprintf(io.out, "LIVE  storyline %q started now (%d events); expect: %v\n", t.Name, len(t.UUIDs), t.Detections)
	}
}

package main

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/oktasim"
)

// fakeInjector records injections.
type fakeInjector struct {
	mu    sync.Mutex
	at    []time.Time
	names []string
	fail  bool
}

func (f *fakeInjector) Storylines() []oktasim.StorylineInfo {
	return []oktasim.StorylineInfo{{Name: "push_fatigue"}, {Name: "password_spray"}}
}

func (f *fakeInjector) InjectStoryline(name string, at time.Time) (oktasim.StoryTruth, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.at, f.names = append(f.at, at), append(f.names, name)
	if f.fail {
		return oktasim.StoryTruth{}, errors.New("boom")
	}
	return oktasim.StoryTruth{Name: name}, nil
}

func (f *fakeInjector) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.at)
}

func TestLiveStorylinesKeepStarting(t *testing.T) {
	start := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	clk := clock.NewManual(start)
	inj := &fakeInjector{fail: true}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reports := make(chan error, 10)
	done := make(chan error, 1)
	go func() {
		done <- liveStorylines(ctx, clk, inj, 20*time.Second, 3*time.Minute, func(_ oktasim.StoryTruth, err error) { reports <- err })
	}()
	// Nothing before the first delay; the first within 30 s of start.
	if err := clk.WaitForTimers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	clk.Advance(19 * time.Second)
	if inj.count() != 0 {
		t.Fatal("a storyline started before the first delay")
	}
	clk.Advance(time.Second)
	if err := <-reports; err == nil {
		t.Error("the injection's error was not reported")
	}
	// Then one every interval, cycling through the storylines, and a failure does not stop it.
	for i := range 3 {
		if err := clk.WaitForTimers(ctx, 1); err != nil {
			t.Fatal(err)
		}
		clk.Advance(3 * time.Minute)
		<-reports
		if inj.count() != i+2 {
			t.Fatalf("after %d intervals: %d injections", i+1, inj.count())
		}
	}
	inj.mu.Lock()
	want := []string{"push_fatigue", "password_spray", "push_fatigue", "password_spray"}
	for i, at := range inj.at {
		if wantAt := start.Add(20*time.Second + time.Duration(i)*3*time.Minute); !at.Equal(wantAt) || inj.names[i] != want[i] {
			t.Errorf("injection %d: %s at %v, want %s at %v", i, inj.names[i], at, want[i], wantAt)
		}
	}
	inj.mu.Unlock()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("stopping: %v", err)
	}
}

func TestLiveStorylinesBadConfig(t *testing.T) {
	for _, tc := range []struct{ first, every time.Duration }{{-time.Second, time.Minute}, {time.Second, 0}} {
		if err := liveStorylines(context.Background(), clock.System{}, &fakeInjector{}, tc.first, tc.every, nil); err == nil {
			t.Errorf("first %v every %v: no error", tc.first, tc.every)
		}
	}
}

// TestQuickFirst: the storylines detected from their first events come first, the rest keep
// the org's order.
func TestQuickFirst(t *testing.T) {
	var org []oktasim.StorylineInfo
	for _, n := range []string{"mfa_push_fatigue", "threatinsight_detection", "password_spray", "mfa_reset_then_password_reset"} {
		org = append(org, oktasim.StorylineInfo{Name: n})
	}
	var got []string
	for _, s := range (quickFirst{fixedStorylines(org)}).Storylines() {
		got = append(got, s.Name)
	}
	want := []string{"threatinsight_detection", "mfa_push_fatigue", "password_spray", "mfa_reset_then_password_reset"}
	if !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

// fixedStorylines is an org with the given storylines that injects none.
type fixedStorylines []oktasim.StorylineInfo

func (f fixedStorylines) Storylines() []oktasim.StorylineInfo { return slices.Clone(f) }

func (f fixedStorylines) InjectStoryline(string, time.Time) (oktasim.StoryTruth, error) {
	return oktasim.StoryTruth{}, nil
}

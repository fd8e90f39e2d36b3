package clock

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// fired reports whether ch has a value ready, without blocking.
func fired(ch <-chan time.Time) (time.Time, bool) {
	select {
	case v := <-ch:
		return v, true
	default:
		return time.Time{}, false
	}
}

func TestManualTimersFireInOrderWhenDue(t *testing.T) {
	c := NewManual(t0)
	late := c.NewTimer(3 * time.Second)
	early := c.NewTimer(time.Second)
	if n := c.Timers(); n != 2 {
		t.Fatalf("Timers() = %d, want 2", n)
	}
	if d, ok := c.NextTimer(); !ok || d != time.Second {
		t.Fatalf("NextTimer() = %v, %v; want 1s, true", d, ok)
	}
	if got := c.Advance(999 * time.Millisecond); !got.Equal(t0.Add(999 * time.Millisecond)) {
		t.Fatalf("Advance returned %v", got)
	}
	if _, ok := fired(early.C()); ok {
		t.Fatal("timer fired before it was due")
	}
	c.Advance(time.Millisecond)
	if v, ok := fired(early.C()); !ok || !v.Equal(t0.Add(time.Second)) {
		t.Fatalf("early timer: got %v, %v; want %v", v, ok, t0.Add(time.Second))
	}
	if _, ok := fired(late.C()); ok {
		t.Fatal("late timer fired early")
	}
	if early.Stop() {
		t.Fatal("Stop on a fired timer reported it pending")
	}
	c.Set(t0.Add(time.Hour))
	if _, ok := fired(late.C()); !ok {
		t.Fatal("Set past the deadline did not fire the timer")
	}
	if _, ok := c.NextTimer(); ok || c.Timers() != 0 {
		t.Fatal("timers still pending after all fired")
	}
}

func TestManualStopAndImmediateTimers(t *testing.T) {
	c := NewManual(t0)
	tm := c.NewTimer(time.Minute)
	if !tm.Stop() {
		t.Fatal("Stop on a pending timer reported it already done")
	}
	if tm.Stop() {
		t.Fatal("second Stop reported the timer pending")
	}
	c.Advance(time.Hour)
	if _, ok := fired(tm.C()); ok {
		t.Fatal("stopped timer fired")
	}
	for _, d := range []time.Duration{0, -time.Second} {
		if v, ok := fired(c.NewTimer(d).C()); !ok || !v.Equal(c.Now()) {
			t.Fatalf("NewTimer(%v) did not fire at once: %v, %v", d, v, ok)
		}
	}
	if _, ok := fired(c.After(0)); !ok {
		t.Fatal("After(0) did not fire at once")
	}
	if c.Timers() != 0 {
		t.Fatalf("immediate timers counted as pending: %d", c.Timers())
	}
}

func TestSleepOnManualClock(t *testing.T) {
	c := NewManual(t0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Sleep(ctx, c, time.Minute) }()
	if err := c.WaitForTimers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	if err := <-done; err != nil {
		t.Fatalf("Sleep = %v, want nil", err)
	}
	if c.Timers() != 0 {
		t.Fatal("Sleep left its timer pending")
	}

	cctx, ccancel := context.WithCancel(ctx)
	go func() { done <- Sleep(cctx, c, time.Minute) }()
	if err := c.WaitForTimers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	ccancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep after cancel = %v, want context.Canceled", err)
	}
	if err := Sleep(cctx, c, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep(0) on a cancelled context = %v", err)
	}
}

func TestWaitForTimersHonoursContext(t *testing.T) {
	c := NewManual(t0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.WaitForTimers(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitForTimers = %v, want context.Canceled", err)
	}
}

func TestManualConcurrentUse(t *testing.T) {
	c := NewManual(t0)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				tm := c.NewTimer(time.Millisecond)
				c.Advance(time.Millisecond)
				<-tm.C()
				_ = c.Now()
			}
		}()
	}
	wg.Wait()
	if got, want := c.Now(), t0.Add(800*time.Millisecond); !got.Equal(want) {
		t.Fatalf("Now() = %v, want %v", got, want)
	}
}

func TestSystemClock(t *testing.T) {
	var c Clock = System{}
	before := time.Now()
	if now := c.Now(); now.Before(before) {
		t.Fatalf("System.Now() = %v, before %v", now, before)
	}
	if _, ok := fired(c.NewTimer(time.Hour).C()); ok {
		t.Fatal("an hour timer fired at once")
	}
	tm := c.NewTimer(time.Hour)
	if !tm.Stop() {
		t.Fatal("Stop on a pending system timer reported it done")
	}
	select {
	case <-System{}.After(0):
	case <-time.After(10 * time.Second):
		t.Fatal("System.After(0) did not fire")
	}
}

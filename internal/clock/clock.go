// Package clock is the injectable source of time: System is the wall clock and Manual is a clock
// that tests move by hand, so backoff, rate-limit waits, expiry and timestamps never depend on
// real sleeps.
package clock

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Clock is the source of time for code that waits or stamps; tests inject a Manual clock so that
// backoff, rate-limit waits and token expiry never sleep for real.
type Clock interface {
	// Now returns the current local time.
	Now() time.Time
	// NewTimer returns a timer that fires once after d (immediately when d <= 0).
	NewTimer(d time.Duration) Timer
}

// Timer is the part of *time.Timer that waiting code needs.
type Timer interface {
	// C is the channel the fire time is delivered on.
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it was still pending.
	Stop() bool
}

// System is the real wall clock.
type System struct{}

// Now returns time.Now().
func (System) Now() time.Time { return time.Now() }

// NewTimer wraps time.NewTimer.
func (System) NewTimer(d time.Duration) Timer { return sysTimer{time.NewTimer(d)} }

// After wraps time.After.
func (System) After(d time.Duration) <-chan time.Time { return time.After(d) }

// The clocks satisfy Clock; checked at compile time.
var (
	_ Clock = System{}
	_ Clock = (*Manual)(nil)
)

type sysTimer struct{ t *time.Timer }

func (s sysTimer) C() <-chan time.Time { return s.t.C }
func (s sysTimer) Stop() bool          { return s.t.Stop() }

// Sleep waits for d on clk or until ctx ends, whichever comes first; it returns ctx's error when
// ctx ended first (or had already ended when d <= 0).
func Sleep(ctx context.Context, clk Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := clk.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C():
		return nil
	}
}

// Manual is a Clock that only moves when told to. It is safe for concurrent use; tests use
// WaitForTimers to know that the code under test is blocked waiting on it before advancing.
type Manual struct {
	mu     sync.Mutex
	now    time.Time
	timers []*manualTimer
	change chan struct{} // closed and replaced whenever the set of pending timers changes
}

// NewManual returns a Manual clock set to start.
func NewManual(start time.Time) *Manual {
	return &Manual{now: start, change: make(chan struct{})}
}

type manualTimer struct {
	clk  *Manual
	when time.Time
	ch   chan time.Time
	done bool
}

func (t *manualTimer) C() <-chan time.Time { return t.ch }

func (t *manualTimer) Stop() bool {
	t.clk.mu.Lock()
	defer t.clk.mu.Unlock()
	if t.done {
		return false
	}
	t.done = true
	t.clk.removeLocked(t)
	return true
}

// Now returns the clock's current time.
func (c *Manual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer registers a timer that fires when the clock is advanced to or past now+d.
func (c *Manual) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &manualTimer{clk: c, when: c.now.Add(d), ch: make(chan time.Time, 1)}
	if d <= 0 {
		t.done = true
		t.ch <- c.now
		return t
	}
	c.timers = append(c.timers, t)
	c.notifyLocked()
	return t
}

// After returns a channel that receives the time once the clock reaches now+d; it counts as a
// pending timer until then.
func (c *Manual) After(d time.Duration) <-chan time.Time { return c.NewTimer(d).C() }

// Advance moves the clock forward by d, fires every timer that is due, in time order, and returns
// the new time.
func (c *Manual) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(c.now.Add(d))
	return c.now
}

// Set moves the clock to t (backwards too) and fires every timer that is then due, in time order.
func (c *Manual) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(t)
}

func (c *Manual) setLocked(now time.Time) {
	c.now = now
	sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].when.Before(c.timers[j].when) })
	kept := c.timers[:0]
	fired := false
	for _, t := range c.timers {
		if !t.when.After(c.now) {
			t.done = true
			t.ch <- c.now
			fired = true
			continue
		}
		kept = append(kept, t)
	}
	c.timers = kept
	if fired {
		c.notifyLocked()
	}
}

// Timers returns how many timers are pending.
func (c *Manual) Timers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// NextTimer returns how long until the earliest pending timer fires, and false when none is pending.
func (c *Manual) NextTimer() (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.timers) == 0 {
		return 0, false
	}
	first := c.timers[0].when
	for _, t := range c.timers[1:] {
		if t.when.Before(first) {
			first = t.when
		}
	}
	return first.Sub(c.now), true
}

// WaitForTimers blocks until at least n timers are pending or ctx ends.
func (c *Manual) WaitForTimers(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		if len(c.timers) >= n {
			c.mu.Unlock()
			return nil
		}
		ch := c.change
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

func (c *Manual) removeLocked(t *manualTimer) {
	for i, x := range c.timers {
		if x == t {
			c.timers = append(c.timers[:i], c.timers[i+1:]...)
			c.notifyLocked()
			return
		}
	}
}

func (c *Manual) notifyLocked() {
	close(c.change)
	c.change = make(chan struct{})
}

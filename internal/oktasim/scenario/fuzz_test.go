package scenario

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/event"
)

// FuzzNew: any configuration either is rejected with an error or yields a working generator.
func FuzzNew(f *testing.F) {
	f.Add(int64(1), 10, "acme.example", 0.5, 8, 0)
	f.Add(int64(-7), 0, "", -1.0, 25, 3)
	f.Add(int64(99), 3, "a-b.c-d.example", 1.0, 0, 15)
	f.Fuzz(func(t *testing.T, seed int64, users int, domain string, share float64, hour, story int) {
		cfg := Config{Seed: seed, Users: users % 40, OrgDomain: domain, Start: testStart, ADShare: share, TravelShare: share, WorkdayStartHour: hour}
		g, err := New(cfg)
		if err != nil {
			if cfg.Validate() == nil {
				t.Fatalf("New failed on a valid config: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "scenario: ") {
				t.Fatalf("error %q does not say where it comes from", err)
			}
			return
		}
		n := 0
		g.Advance(testStart.Add(6*time.Hour), func(*event.LogEvent) { n++ })
		infos := Storylines()
		name := infos[(story%len(infos)+len(infos))%len(infos)].Name
		if st, err := g.Storyline(name, testStart.Add(7*time.Hour)); err == nil {
			g.Apply(st)
		}
		g.Advance(testStart.Add(30*time.Hour), func(*event.LogEvent) { n++ })
		if n == 0 {
			t.Fatal("a day and more without a single event") // jobs run even in a one-person org
		}
		for _, p := range g.People() {
			if !strings.HasSuffix(p.Login, "@"+domain) {
				t.Fatalf("login %q outside %q", p.Login, domain)
			}
		}
	})
}

// The generator is used from the server's request handlers and its clock goroutine at once.
func TestConcurrentUse(t *testing.T) {
	g := newTestGenerator(t, 60)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		for h := 1; h <= 30; h++ {
			g.Advance(testStart.Add(time.Duration(h)*time.Hour), func(*event.LogEvent) {})
		}
	}()
	go func() {
		defer wg.Done()
		for range 30 {
			if len(g.People()) == 0 {
				t.Error("no people")
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := range 30 {
			if _, err := g.Storyline(Storylines()[i%len(Storylines())].Name, testStart.Add(time.Duration(i)*time.Hour)); err != nil {
				t.Error(err)
			}
		}
	}()
	wg.Wait()
}

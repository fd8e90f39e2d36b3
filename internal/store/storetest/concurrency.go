package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// concurrency runs appenders, readers and committers at once: none may fail (no "database is
// busy"), and the journal must end with contiguous seqs holding every event once.
func (su suite) concurrency(t *testing.T) {
	f := su.open(t)
	const writers, pages, perPage = 4, 15, 20
	_, err := f.s.RegisterConsumer(f.ctx, "reader", store.StreamJournal, 0)
	f.must(err)
	var wg sync.WaitGroup
	errs := make(chan error, writers+2)
	for w := range writers {
		wg.Go(func() {
			for p := range pages {
				evs := events(fmt.Sprintf("w%d-p%d", w, p), perPage, epoch)
				// Every page overlaps the previous one by one event, as Okta's polling may.
				if p > 0 {
					evs = append(events(fmt.Sprintf("w%d-p%d", w, p-1), 1, epoch), evs...)
				}
				c := &store.Cursor{Next: fmt.Sprintf("w%d-after-%d", w, p)}
				if _, err := f.s.AppendPage(f.ctx, int64(w+1), evs, c); err != nil {
					errs <- fmt.Errorf("writer %d page %d: %w", w, p, err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		// A consumer following the journal while it grows sees increasing seqs and commits them.
		var after int64
		for {
			page, err := f.s.ReadJournal(f.ctx, after, 50, store.ReadFilter{})
			if err != nil {
				errs <- fmt.Errorf("reader: %w", err)
				return
			}
			for _, e := range page {
				if e.Seq <= after {
					errs <- fmt.Errorf("reader: seq %d after %d", e.Seq, after)
					return
				}
				after = e.Seq
			}
			if len(page) > 0 {
				if err := f.s.CommitOffset(f.ctx, "reader", after); err != nil {
					errs <- fmt.Errorf("commit: %w", err)
					return
				}
				continue
			}
			select {
			case <-done:
				return
			default:
			}
		}
	})
	readers.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := f.s.TrimJournal(f.ctx, 0); err != nil {
				errs <- fmt.Errorf("trim: %w", err)
				return
			}
			if err := f.s.SetHealth(f.ctx, store.Health{IntegrationID: 1, State: store.HealthCollecting, UpdatedAt: time.Now()}); err != nil {
				errs <- fmt.Errorf("health: %w", err)
				return
			}
		}
	})
	wg.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	all := f.readAll(0, store.ReadFilter{})
	if len(all) != writers*pages*perPage {
		t.Fatalf("journal holds %d events, want %d", len(all), writers*pages*perPage)
	}
	if n, err := f.s.CountJournal(f.ctx, store.ReadFilter{}); err != nil || n != int64(len(all)) {
		t.Fatalf("CountJournal says %d (%v), reading found %d", n, err, len(all))
	}
	seen := make(map[string]bool, len(all))
	for i, e := range all {
		if e.Seq != int64(i+1) {
			t.Fatalf("entry %d has seq %d: seqs are not contiguous", i, e.Seq)
		}
		key := fmt.Sprint(e.IntegrationID, "/", e.UUID)
		if seen[key] {
			t.Fatalf("duplicate %s", key)
		}
		seen[key] = true
	}
	for w := range writers {
		c, err := f.s.Cursor(f.ctx, int64(w+1))
		f.must(err)
		if want := fmt.Sprintf("w%d-after-%d", w, pages-1); c.Next != want {
			t.Fatalf("writer %d cursor %q, want %q", w, c.Next, want)
		}
	}
}

// reopen closes and reopens the store: everything written must still be there.
func (su suite) reopen(t *testing.T) {
	f := su.open(t)
	f.appendPage(1, events("a", 5, epoch), &store.Cursor{Next: "n1", LastPublished: epoch})
	_, err := f.s.RegisterConsumer(f.ctx, "sink", store.StreamJournal, 0)
	f.must(err)
	f.must(f.s.CommitOffset(f.ctx, "sink", 3))
	in := sampleIntegration("reopen")
	created, err := f.s.CreateIntegration(f.ctx, in)
	f.must(err)
	_, err = f.s.AppendAlerts(f.ctx, []store.Alert{sampleAlert("al-1", epoch)})
	f.must(err)
	f.must(f.s.AddDeadLetter(f.ctx, store.DeadLetter{Sink: "s", RecordID: "r", Payload: []byte(`{}`), Error: "e", Attempts: 1}))

	su.reopenStore(f)

	if f.lastSeq() != 5 || len(f.readAll(0, store.ReadFilter{})) != 5 {
		t.Fatal("journal lost on reopen")
	}
	if c, err := f.s.Cursor(f.ctx, 1); err != nil || c.Next != "n1" {
		t.Fatalf("cursor after reopen: %+v %v", c, err)
	}
	if off := f.offset("sink"); off != 3 {
		t.Fatalf("offset after reopen: %d", off)
	}
	got, err := f.s.Integration(f.ctx, created.ID)
	f.must(err)
	if !got.Credentials.APIToken.Equal(in.Credentials.APIToken) {
		t.Fatal("secret lost on reopen")
	}
	if as, err := f.s.ReadAlerts(f.ctx, 0, 10); err != nil || len(as) != 1 {
		t.Fatalf("alerts after reopen: %v %v", as, err)
	}
	if ds, err := f.s.ListDeadLetters(f.ctx, "", 10); err != nil || len(ds) != 1 {
		t.Fatalf("dead letters after reopen: %v %v", ds, err)
	}
	// Appending after reopen continues the seqs.
	if r := f.appendPage(1, events("b", 1, epoch), nil); r.LastSeq != 6 {
		t.Fatalf("append after reopen: %+v", r)
	}
}

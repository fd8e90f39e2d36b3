package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

func (su suite) journal(t *testing.T) {
	t.Run("ByUUID", func(t *testing.T) {
		f := su.open(t)
		f.appendPage(1, events("a", 700, epoch), nil) // seq 1..700: more than one query's chunk
		f.appendPage(2, events("a", 2, epoch), nil)   // seq 701..702: same uuids, another integration
		uuids := []string{"a-699", "missing", "a-1", "a-0"}
		for i := 2; i < 650; i++ {
			uuids = append(uuids, fmt.Sprintf("a-%d", i))
		}
		got, err := f.s.JournalByUUID(f.ctx, 1, uuids)
		f.must(err)
		if len(got) != 651 || got[0].Seq != 1 || got[0].UUID != "a-0" || got[len(got)-1].UUID != "a-699" {
			t.Fatalf("got %d entries (first %+v), want a-0..a-649 and a-699 of integration 1 in seq order", len(got), got[0])
		}
		for i := 1; i < len(got); i++ {
			if got[i].Seq <= got[i-1].Seq || got[i].IntegrationID != 1 {
				t.Fatalf("entry %d: seq %d after %d, integration %d", i, got[i].Seq, got[i-1].Seq, got[i].IntegrationID)
			}
		}
		none, err := f.s.JournalByUUID(f.ctx, 1, nil)
		f.must(err)
		if len(none) != 0 {
			t.Errorf("no uuids gave %d entries", len(none))
		}
	})
	t.Run("ReadByTime", func(t *testing.T) {
		f := su.open(t)
		// Arrival order is not event-time order: a later page holds older events, and two
		// integrations share a published time.
		f.appendPage(1, events("c", 3, epoch.Add(time.Hour)), nil)                           // seq 1..3
		f.appendPage(1, events("a", 3, epoch), nil)                                          // seq 4..6
		f.appendPage(2, events("b", 2, epoch), nil)                                          // seq 7..8
		f.appendPage(1, []store.Event{{UUID: "nt", EventType: "x", Raw: []byte(`{}`)}}, nil) // seq 9, no time
		read := func(filter store.TimeFilter, limit int) []int64 {
			var seqs []int64
			var after store.TimeKey
			for {
				page, err := f.s.ReadJournalByTime(f.ctx, after, limit, filter)
				f.must(err)
				if len(page) == 0 {
					return seqs
				}
				for i := range page {
					if i > 0 && !page[i-1].Key().Less(page[i].Key()) {
						t.Fatalf("entries %d and %d are out of order", page[i-1].Seq, page[i].Seq)
					}
					seqs = append(seqs, page[i].Seq)
				}
				after = page[len(page)-1].Key()
			}
		}
		for _, c := range []struct {
			filter store.TimeFilter
			want   []int64
		}{
			// a-0 and b-0 share epoch: uuid decides.
			{store.TimeFilter{}, []int64{4, 7, 5, 8, 6, 1, 2, 3}},
			{store.TimeFilter{ReadFilter: store.ReadFilter{Integrations: []int64{1}}}, []int64{4, 5, 6, 1, 2, 3}},
			{store.TimeFilter{Until: epoch.Add(time.Hour)}, []int64{4, 7, 5, 8, 6}},
			{store.TimeFilter{MaxSeq: 5}, []int64{4, 5, 1, 2, 3}},
		} {
			for _, limit := range []int{1, 2, 100} {
				if got := read(c.filter, limit); !slices.Equal(got, c.want) {
					t.Errorf("%+v limit %d: seqs %v, want %v", c.filter, limit, got, c.want)
				}
			}
		}
		if _, err := f.s.ReadJournalByTime(f.ctx, store.TimeKey{}, 0, store.TimeFilter{}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("limit 0: %v, want ErrInvalid", err)
		}
	})
	t.Run("AppendAndRead", func(t *testing.T) {
		f := su.open(t)
		if f.lastSeq() != 0 {
			t.Fatal("new journal has a last seq")
		}
		evs := events("a", 3, epoch)
		r := f.appendPage(1, evs, nil)
		if r != (store.AppendResult{Inserted: 3, LastSeq: 3}) {
			t.Fatalf("first page: %+v", r)
		}
		got := f.readAll(0, store.ReadFilter{})
		if len(got) != 3 {
			t.Fatalf("read %d entries, want 3", len(got))
		}
		for i, e := range got {
			w := evs[i]
			if e.Seq != int64(i+1) || e.IntegrationID != 1 || e.UUID != w.UUID || e.EventType != w.EventType ||
				!e.Published.Equal(w.Published) || !bytes.Equal(e.Raw, w.Raw) || !e.StoredAt.Equal(epoch) {
				t.Fatalf("entry %d = %+v, want %+v stored at %v", i, e, w, epoch)
			}
		}
		if got, err := f.s.ReadJournal(f.ctx, 1, 1, store.ReadFilter{}); err != nil || len(got) != 1 || got[0].Seq != 2 {
			t.Fatalf("read after 1 limit 1: %+v %v", got, err)
		}
	})
	t.Run("Dedup", func(t *testing.T) {
		f := su.open(t)
		f.appendPage(1, events("a", 3, epoch), nil)
		// The next page repeats two known events (Okta overlap after a cursor restart) and one new.
		page := append(events("a", 3, epoch)[1:], events("b", 1, epoch)...)
		r := f.appendPage(1, page, nil)
		if r != (store.AppendResult{Inserted: 1, Duplicates: 2, LastSeq: 4}) {
			t.Fatalf("overlapping page: %+v", r)
		}
		// The same uuid under another integration is another event.
		if r := f.appendPage(2, events("a", 1, epoch), nil); r.Inserted != 1 || r.LastSeq != 5 {
			t.Fatalf("other integration: %+v", r)
		}
		// A uuid repeated inside one page is stored once.
		dup := events("c", 1, epoch)
		if r := f.appendPage(1, append(dup, dup...), nil); r.Inserted != 1 || r.Duplicates != 1 {
			t.Fatalf("repeat inside page: %+v", r)
		}
		n, err := f.s.CountJournal(f.ctx, store.ReadFilter{})
		f.must(err)
		if n != 6 {
			t.Fatalf("journal holds %d, want 6", n)
		}
		// An all-duplicate page changes nothing and reports the unchanged last seq.
		if r := f.appendPage(1, events("a", 3, epoch), nil); r != (store.AppendResult{Duplicates: 3, LastSeq: 6}) {
			t.Fatalf("all duplicates: %+v", r)
		}
	})
	t.Run("PageAndCursorAtomic", func(t *testing.T) {
		f := su.open(t)
		first := store.Cursor{Next: "https://org.example/api/v1/logs?after=1", LastPublished: epoch}
		f.appendPage(1, events("a", 2, epoch), &first)
		f.arm(store.FaultAfterJournalInsert)
		second := store.Cursor{Next: "https://org.example/api/v1/logs?after=2", LastPublished: epoch.Add(time.Second)}
		_, err := f.s.AppendPage(f.ctx, 1, events("b", 5, epoch), &second)
		wantErr(t, "append with a fault between insert and cursor", err, errInjected)
		f.disarm()
		if got := f.readAll(0, store.ReadFilter{}); len(got) != 2 {
			t.Fatalf("failed append left %d entries visible, want the 2 from before", len(got))
		}
		c, err := f.s.Cursor(f.ctx, 1)
		f.must(err)
		if c.Next != first.Next || !c.LastPublished.Equal(first.LastPublished) {
			t.Fatalf("cursor moved by a failed append: %+v", c)
		}
		if f.lastSeq() != 2 {
			t.Fatalf("last seq %d after failed append, want 2", f.lastSeq())
		}
		// The retry succeeds and seqs continue without a gap.
		r := f.appendPage(1, events("b", 5, epoch), &second)
		if r.Inserted != 5 || r.LastSeq != 7 {
			t.Fatalf("retry: %+v", r)
		}
		c, err = f.s.Cursor(f.ctx, 1)
		f.must(err)
		if c.Next != second.Next || !c.UpdatedAt.Equal(epoch) {
			t.Fatalf("cursor after retry: %+v", c)
		}
	})
	t.Run("BackfillKeepsCursor", func(t *testing.T) {
		f := su.open(t)
		live := store.Cursor{Next: "live", LastPublished: epoch}
		f.appendPage(1, events("live", 2, epoch), &live)
		f.appendPage(1, events("old", 4, epoch.Add(-48*time.Hour)), nil)
		c, err := f.s.Cursor(f.ctx, 1)
		f.must(err)
		if c.Next != "live" {
			t.Fatalf("backfill moved the live cursor to %q", c.Next)
		}
		// An empty page still moves the cursor (an idle poll advances Okta's next link).
		idle := store.Cursor{Next: "live-2", LastPublished: epoch}
		if r := f.appendPage(1, nil, &idle); r.Inserted != 0 || r.LastSeq != 6 {
			t.Fatalf("empty page: %+v", r)
		}
		c, err = f.s.Cursor(f.ctx, 1)
		f.must(err)
		if c.Next != "live-2" {
			t.Fatalf("empty page did not store the cursor: %+v", c)
		}
	})
	t.Run("Filter", func(t *testing.T) {
		f := su.open(t)
		f.appendPage(1, events("a", 3, epoch), nil)
		other := events("b", 3, epoch)
		other[1].EventType = "user.account.lock"
		f.appendPage(2, other, nil)
		f.appendPage(3, events("c", 3, epoch), nil)
		if got := f.readAll(0, store.ReadFilter{Integrations: []int64{2, 3}}); len(got) != 6 || got[0].Seq != 4 {
			t.Fatalf("integrations 2,3: %d entries", len(got))
		}
		got := f.readAll(0, store.ReadFilter{Integrations: []int64{2}, EventTypes: []string{"user.account.lock"}})
		if len(got) != 1 || got[0].UUID != "b-1" {
			t.Fatalf("integration 2 lock events: %+v", got)
		}
		n, err := f.s.CountJournal(f.ctx, store.ReadFilter{EventTypes: []string{"user.session.start"}})
		f.must(err)
		if n != 8 {
			t.Fatalf("count by type: %d, want 8", n)
		}
		b, err := f.s.Bounds(f.ctx)
		f.must(err)
		if b != (store.JournalBounds{FirstSeq: 1, LastSeq: 9, Count: 9}) {
			t.Fatalf("bounds %+v", b)
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		f := su.open(t)
		_, err := f.s.AppendPage(f.ctx, 1, []store.Event{{UUID: "", Raw: []byte(`{}`)}}, nil)
		wantErr(t, "empty uuid", err, store.ErrInvalid)
		_, err = f.s.AppendPage(f.ctx, 1, []store.Event{{UUID: "x"}}, nil)
		wantErr(t, "no raw", err, store.ErrInvalid)
		_, err = f.s.ReadJournal(f.ctx, 0, 0, store.ReadFilter{})
		wantErr(t, "limit 0", err, store.ErrInvalid)
	})
	t.Run("Cancelled", func(t *testing.T) {
		f := su.open(t)
		ctx, cancel := context.WithCancel(f.ctx)
		cancel()
		_, err := f.s.AppendPage(ctx, 1, events("a", 3, epoch), &store.Cursor{Next: "x"})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("append with a cancelled context: %v", err)
		}
		if _, err := f.s.ReadJournal(ctx, 0, 10, store.ReadFilter{}); !errors.Is(err, context.Canceled) {
			t.Fatalf("read with a cancelled context: %v", err)
		}
		if f.lastSeq() != 0 {
			t.Fatal("cancelled append wrote events")
		}
		_, err = f.s.Cursor(f.ctx, 1)
		wantErr(t, "cursor after cancelled append", err, store.ErrNotFound)

		// Cancelled half-way through the transaction: the events already inserted roll back.
		ctx, cancel = context.WithCancel(f.ctx)
		defer cancel()
		f.onFault(func(p store.FaultPoint) error {
			if p == store.FaultAfterJournalInsert {
				cancel()
			}
			return nil
		})
		_, err = f.s.AppendPage(ctx, 1, events("b", 3, epoch), &store.Cursor{Next: "y"})
		f.disarm()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("append cancelled mid-transaction: %v", err)
		}
		if f.lastSeq() != 0 || len(f.readAll(0, store.ReadFilter{})) != 0 {
			t.Fatal("append cancelled mid-transaction left events behind")
		}
		_, err = f.s.Cursor(f.ctx, 1)
		wantErr(t, "cursor after append cancelled mid-transaction", err, store.ErrNotFound)
	})
}

func (su suite) cursors(t *testing.T) {
	f := su.open(t)
	_, err := f.s.Cursor(f.ctx, 9)
	wantErr(t, "missing cursor", err, store.ErrNotFound)
	f.h.Clock.Advance(time.Minute)
	c := store.Cursor{Next: "https://org.example/api/v1/logs?after=abc", LastPublished: epoch}
	f.must(f.s.SetCursor(f.ctx, 9, c))
	got, err := f.s.Cursor(f.ctx, 9)
	f.must(err)
	if got.Next != c.Next || !got.LastPublished.Equal(c.LastPublished) || !got.UpdatedAt.Equal(epoch.Add(time.Minute)) {
		t.Fatalf("cursor %+v", got)
	}
	// Restart from a published time only (Okta rejected the next link).
	f.must(f.s.SetCursor(f.ctx, 9, store.Cursor{LastPublished: epoch}))
	got, err = f.s.Cursor(f.ctx, 9)
	f.must(err)
	if got.Next != "" {
		t.Fatalf("reset cursor kept next %q", got.Next)
	}
	f.must(f.s.DeleteCursor(f.ctx, 9))
	_, err = f.s.Cursor(f.ctx, 9)
	wantErr(t, "deleted cursor", err, store.ErrNotFound)
}

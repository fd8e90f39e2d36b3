// Package storetest is the conformance suite every store.Store implementation must pass:
// call Run from the implementation's tests.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
)

// Harness is what the suite hands an implementation's constructor. Opening twice with the same
// Harness (same Location) must give the same data, so the suite can test reopening.
type Harness struct {
	// Location is a fresh, test-owned place for the data (a directory; an implementation talking
	// to a server can derive a schema or database name from it).
	Location string
	// Clock must be used for every time the store stamps.
	Clock *clock.Manual
	// Sealer must encrypt integration secrets.
	Sealer secret.Sealer
	// Faults must be consulted at every store.FaultPoint.
	Faults store.Faults
	// MaxJournalEntries is the retention cap (0: none).
	MaxJournalEntries int64
}

// NewStore opens the implementation under test; it should register cleanup (Close) with t.
type NewStore func(t *testing.T, h Harness) store.Store

// Run runs the whole conformance suite against newStore.
func Run(t *testing.T, newStore NewStore) {
	s := suite{newStore: newStore}
	t.Run("Journal", s.journal)
	t.Run("Cursors", s.cursors)
	t.Run("Offsets", s.offsets)
	t.Run("Retention", s.retention)
	t.Run("AlertRetention", s.alertRetention)
	t.Run("DeadLetterRetention", s.deadLetterRetention)
	t.Run("Integrations", s.integrations)
	t.Run("IntegrationChanges", s.integrationChanges)
	t.Run("Health", s.health)
	t.Run("Alerts", s.alerts)
	t.Run("DeadLetters", s.deadLetters)
	t.Run("Processing", s.processing)
	t.Run("Incidents", s.incidents)
	t.Run("IncidentStream", s.incidentStream)
	t.Run("IdentityStream", s.identityStream)
	t.Run("Suppressions", s.suppressions)
	t.Run("Responses", s.responses)
	t.Run("APIKeys", s.apiKeys)
	t.Run("Stats", s.stats)
	t.Run("Inventory", s.inventory)
	t.Run("EventHooks", s.eventHooks)
	t.Run("EventSearch", s.eventSearch)
	t.Run("AlertTriage", s.alertTriage)
	t.Run("Concurrency", s.concurrency)
	t.Run("Reopen", s.reopen)
	t.Run("RawBytes", s.rawBytes)
}

type suite struct {
	newStore NewStore
}

// epoch is the suite's starting time, with nanoseconds to catch precision loss.
var epoch = time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)

// errInjected is the failure the suite injects at fault points.
var errInjected = errors.New("injected fault")

// fixture is one test's store with its harness.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	h     Harness
	s     store.Store
	fault atomic.Pointer[store.Faults]
}

// open makes a fresh store; opts may adjust the harness first.
func (su suite) open(t *testing.T, opts ...func(*Harness)) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: t.Context()}
	keys, err := secret.NewKeyring(bytes.Repeat([]byte{7}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	f.h = Harness{
		Location: t.TempDir(),
		Clock:    clock.NewManual(epoch),
		Sealer:   keys,
		Faults: func(p store.FaultPoint) error {
			if hook := f.fault.Load(); hook != nil {
				return (*hook)(p)
			}
			return nil
		},
	}
	for _, o := range opts {
		o(&f.h)
	}
	f.s = su.newStore(t, f.h)
	return f
}

// reopenStore closes the store and opens it again on the same data.
func (su suite) reopenStore(f *fixture) {
	f.t.Helper()
	if err := f.s.Close(); err != nil {
		f.t.Fatalf("close: %v", err)
	}
	f.s = su.newStore(f.t, f.h)
}

// arm makes the store fail at p until disarmed.
func (f *fixture) arm(p store.FaultPoint) {
	f.onFault(func(q store.FaultPoint) error {
		if q == p {
			return fmt.Errorf("%w at %s", errInjected, p)
		}
		return nil
	})
}

// onFault runs hook at every fault point until disarmed.
func (f *fixture) onFault(hook store.Faults) { f.fault.Store(&hook) }

// disarm stops injecting faults.
func (f *fixture) disarm() { f.fault.Store(nil) }

// must fails the test on err.
func (f *fixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

// events builds n events for integration with uuids prefix-0..n-1.
func events(prefix string, n int, published time.Time) []store.Event {
	out := make([]store.Event, n)
	for i := range out {
		uuid := fmt.Sprintf("%s-%d", prefix, i)
		raw, _ := json.Marshal(map[string]any{"uuid": uuid, "eventType": "user.session.start", "published": published.Format(time.RFC3339Nano)})
		out[i] = store.Event{UUID: uuid, Published: published.Add(time.Duration(i) * time.Millisecond), EventType: "user.session.start", Raw: raw}
	}
	return out
}

// appendPage appends and fails the test on error.
func (f *fixture) appendPage(id int64, evs []store.Event, c *store.Cursor) store.AppendResult {
	f.t.Helper()
	r, err := f.s.AppendPage(f.ctx, id, evs, c)
	f.must(err)
	return r
}

// readAll reads the whole journal after seq with filter.
func (f *fixture) readAll(after int64, filter store.ReadFilter) []store.Entry {
	f.t.Helper()
	var out []store.Entry
	for {
		page, err := f.s.ReadJournal(f.ctx, after, 7, filter)
		f.must(err)
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		after = page[len(page)-1].Seq
	}
}

// lastSeq returns the journal's last seq.
func (f *fixture) lastSeq() int64 {
	f.t.Helper()
	n, err := f.s.LastSeq(f.ctx)
	f.must(err)
	return n
}

// wantErr fails unless err wraps target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

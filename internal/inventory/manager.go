package inventory

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/feature"
	"github.com/idwatch/idwatch/internal/store"
)

// Manager keeps one Service running per enabled integration with the inventory feature, and
// follows the integrations as they change (IntegrationVersions, like collection): an integration
// added, enabled or given the feature starts its inventory; one removed, disabled or without the
// feature stops it and loses its journal offset (inventory/<id>), so it no longer holds back
// retention; one changed otherwise (credentials) restarts with a new client. Its Lookup answers
// for every running integration.
type Manager struct {
	Store store.Store
	// NewService builds the service of an integration (its Okta client and syncer).
	NewService func(in store.Integration) (*Service, error)
	Clock      clock.Clock
	// Poll is how often integrations are checked and journal events applied (default 5s).
	Poll   time.Duration
	Logger *slog.Logger

	mu       sync.Mutex
	running  map[int64]*managed
	seen     map[int64]time.Time
	changeFn []func(integrationID int64)
	admins   AdminSet
}

type managed struct {
	svc     *Service
	version time.Time
	cancel  context.CancelFunc
	done    chan struct{}
}

func (m *Manager) log() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Wants reports whether in should have an inventory: enabled, with the inventory feature.
func Wants(in store.Integration) bool {
	set, err := feature.FromList(in.Features)
	return err == nil && in.Enabled && set.Has(feature.Inventory)
}

// Run reconciles the running inventories with the integrations every poll until ctx ends, then
// stops them all.
func (m *Manager) Run(ctx context.Context) error {
	poll := m.Poll
	if poll <= 0 {
		poll = 5 * time.Second
	}
	clk := m.Clock
	if clk == nil {
		clk = clock.System{}
	}
	defer m.stopAll()
	for {
		if err := m.Reconcile(ctx); err != nil && ctx.Err() == nil {
			m.log().Warn("inventory: reading the integrations failed; retrying", "error", err)
		}
		if err := clock.Sleep(ctx, clk, poll); err != nil {
			return nil
		}
	}
}

// Reconcile starts, restarts and stops inventories to match the integrations now, and
// unregisters the journal offsets of integrations without one. It reads the integrations
// only when their versions changed since the last call.
func (m *Manager) Reconcile(ctx context.Context) error {
	vs, err := m.Store.IntegrationVersions(ctx)
	if err != nil {
		return err
	}
	m.mu.Lock()
	same := m.seen != nil && len(vs) == len(m.seen)
	for id, v := range vs {
		if seen, ok := m.seen[id]; !ok || !seen.Equal(v) {
			same = false
		}
	}
	m.mu.Unlock()
	if same {
		return nil
	}
	ins, err := m.Store.ListIntegrations(ctx)
	if err != nil {
		return err
	}
	want := map[int64]store.Integration{}
	for _, in := range ins {
		if Wants(in) {
			want[in.ID] = in
		}
	}
	m.mu.Lock()
	if m.running == nil {
		m.running = map[int64]*managed{}
	}
	var stop []*managed
	for id, r := range m.running {
		if in, ok := want[id]; !ok || !in.UpdatedAt.Equal(r.version) {
			stop = append(stop, r)
			delete(m.running, id)
		}
	}
	m.mu.Unlock()
	for _, r := range stop {
		r.cancel()
		<-r.done
	}
	if len(stop) > 0 {
		m.refreshAdmins()
	}
	for id, in := range want {
		m.mu.Lock()
		_, ok := m.running[id]
		m.mu.Unlock()
		if ok {
			continue
		}
		svc, err := m.NewService(in)
		if err != nil {
			m.log().Warn("inventory: no Okta client for the integration; its inventory is not kept", "integration", in.Name, "error", err)
			continue
		}
		svc.onChange = m.changed
		rctx, cancel := context.WithCancel(ctx)
		r := &managed{svc: svc, version: in.UpdatedAt, cancel: cancel, done: make(chan struct{})}
		m.mu.Lock()
		m.running[id] = r
		m.mu.Unlock()
		m.log().Info("inventory: started", "integration", in.Name)
		go func() {
			defer close(r.done)
			clk := m.Clock
			if clk == nil {
				clk = clock.System{}
			}
			_ = svc.Run(rctx, clk, m.Poll)
		}()
	}
	if err := m.unregisterUnwanted(ctx, want); err != nil {
		return err
	}
	m.mu.Lock()
	m.seen = vs
	m.mu.Unlock()
	return nil
}

// unregisterUnwanted removes the journal offsets of inventories no integration wants any more
// (feature turned off, integration disabled or removed), so they stop holding back retention.
// Turning the feature on again starts from a full sync, which registers a fresh offset.
func (m *Manager) unregisterUnwanted(ctx context.Context, want map[int64]store.Integration) error {
	cs, err := m.Store.Consumers(ctx)
	if err != nil {
		return err
	}
	for _, c := range cs {
		rest, ok := strings.CutPrefix(c.Name, consumerPrefix)
		if !ok {
			continue
		}
		id, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			continue
		}
		if _, ok := want[id]; ok {
			continue
		}
		if err := m.Store.UnregisterConsumer(ctx, c.Name); err != nil {
			return err
		}
		m.log().Info("inventory: the integration no longer has the inventory feature; its journal offset is removed", "consumer", c.Name)
	}
	return nil
}

func (m *Manager) stopAll() {
	m.mu.Lock()
	rs := m.running
	m.running = nil
	m.seen = nil
	m.mu.Unlock()
	for _, r := range rs {
		r.cancel()
		<-r.done
	}
}

// Lookup resolves a user of any running integration's inventory from memory.
func (m *Manager) Lookup(ctx context.Context, integrationID int64, userIDOrLogin string) (Identity, bool) {
	m.mu.Lock()
	r := m.running[integrationID]
	m.mu.Unlock()
	if r == nil {
		return Identity{}, false
	}
	return r.svc.Lookup(ctx, integrationID, userIDOrLogin)
}

// Service returns the running service of an integration, or nil.
func (m *Manager) Service(integrationID int64) *Service {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.running[integrationID]; r != nil {
		return r.svc
	}
	return nil
}

// OnChange registers fn to be called after an integration's in-memory inventory is replaced
// (a sync or a batch of events that changed it). fn must not block.
func (m *Manager) OnChange(fn func(integrationID int64)) {
	m.mu.Lock()
	m.changeFn = append(m.changeFn, fn)
	m.mu.Unlock()
}

func (m *Manager) changed(integrationID int64) {
	m.refreshAdmins()
	m.mu.Lock()
	fns := m.changeFn
	m.mu.Unlock()
	for _, fn := range fns {
		fn(integrationID)
	}
}

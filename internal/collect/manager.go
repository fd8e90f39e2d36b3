package collect

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/store"
)

// ManagerStore is what the Manager needs from the store.
type ManagerStore interface {
	JournalWriter
	HealthWriter
	Health(ctx context.Context, integrationID int64) (store.Health, error)
	ListHealth(ctx context.Context) ([]store.Health, error)
	store.Integrations
}

// ManagerConfig configures a Manager.
type ManagerConfig struct {
	// Store holds integrations, journal, cursors and health; required.
	Store ManagerStore
	// Clients builds each integration's Okta client; required.
	Clients *Clients
	// Collect tunes every poller.
	Collect Config
	// Only restricts the manager to these integration names; empty means every integration.
	Only []string
	// Resync is how often the integration list is re-read to pick up added, changed, enabled and
	// disabled integrations (default 30s); Sync does it at once.
	Resync time.Duration
	// Watch is how often the integrations' change times are compared with what runs, so that
	// rotated credentials, a disable or a removal take effect within it (default: the poll interval,
	// at most 5s). It reads no secret.
	Watch time.Duration
}

// Validate checks the configuration.
func (c ManagerConfig) Validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("manager: no store"))
	}
	if c.Clients == nil || c.Clients.Governors == nil {
		errs = append(errs, errors.New("manager: no Okta clients (with a GovernorSet)"))
	}
	if c.Resync < 0 {
		errs = append(errs, fmt.Errorf("manager: resync %s is negative", c.Resync))
	}
	if c.Watch < 0 {
		errs = append(errs, fmt.Errorf("manager: watch %s is negative", c.Watch))
	}
	if err := c.Collect.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Manager runs one poller per enabled integration in one process and keeps their health. It is
// safe for concurrent use; the console calls Sync after changing an integration and Health to
// show the table.
type Manager struct {
	cfg     ManagerConfig
	collect Config
	log     *slog.Logger

	mu      sync.Mutex
	runners map[int64]*runner
	// seen is each integration's UpdatedAt as of the last reconcile (a running one's as its
	// poller started), for Watch to compare.
	seen map[int64]time.Time
	kick chan struct{}
}

// runner is one integration's live poller.
type runner struct {
	in      store.Integration
	tracker *Tracker
	cancel  context.CancelFunc
	done    chan struct{}
}

// NewManager validates cfg and returns a manager that runs nothing until Run.
func NewManager(cfg ManagerConfig) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Resync == 0 {
		cfg.Resync = 30 * time.Second
	}
	c := cfg.Collect.withDefaults()
	if cfg.Watch == 0 {
		cfg.Watch = min(c.PollInterval, DefaultWatch)
	}
	return &Manager{cfg: cfg, collect: c, log: c.Logger, runners: map[int64]*runner{}, seen: map[int64]time.Time{}, kick: make(chan struct{}, 1)}, nil
}

// DefaultWatch is the longest wait before a running manager notices a changed integration.
const DefaultWatch = 5 * time.Second

// Run starts a poller for every selected enabled integration and keeps the set current until ctx
// ends; then it stops every poller and returns ctx's error. Every Watch it compares the
// integrations' change times with what runs and reconciles at once on a difference, so updated
// credentials replace a poller's client between two of its requests (its cursor is in the store,
// so nothing is read twice or skipped); every Resync it reconciles regardless.
func (m *Manager) Run(ctx context.Context) error {
	defer m.stopAll()
	for {
		if err := m.reconcile(ctx); err != nil && ctx.Err() == nil {
			m.log.Error("reading integrations failed; retrying", "error", err)
		}
		resyncAt := m.collect.Clock.Now().Add(m.cfg.Resync)
		for changed := false; !changed; {
			wait := min(m.cfg.Watch, resyncAt.Sub(m.collect.Clock.Now()))
			t := m.collect.Clock.NewTimer(max(wait, 0))
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C():
				changed = !m.collect.Clock.Now().Before(resyncAt) || m.changed(ctx)
			case <-m.kick:
				t.Stop()
				changed = true
			}
		}
	}
}

// changed reports whether an integration was added, changed or removed since the last reconcile.
func (m *Manager) changed(ctx context.Context) bool {
	vs, err := m.cfg.Store.IntegrationVersions(ctx)
	if err != nil {
		if ctx.Err() == nil {
			m.log.Warn("checking integrations for changes failed; retrying", "error", err)
		}
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(vs) != len(m.seen) {
		return true
	}
	for id, v := range vs {
		if seen, ok := m.seen[id]; !ok || !seen.Equal(v) {
			return true
		}
	}
	return false
}

// Sync makes a running manager re-read the integration list now.
func (m *Manager) Sync() {
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// Selected returns the integrations the manager is configured for, by id. A name in Only that
// does not exist is an error naming it.
func (m *Manager) Selected(ctx context.Context) ([]store.Integration, error) {
	all, err := m.cfg.Store.ListIntegrations(ctx)
	if err != nil {
		return nil, err
	}
	return m.selectFrom(all)
}

// selectFrom picks the integrations the manager is configured for out of all.
func (m *Manager) selectFrom(all []store.Integration) ([]store.Integration, error) {
	if len(m.cfg.Only) == 0 {
		return all, nil
	}
	var out []store.Integration
	for _, name := range m.cfg.Only {
		i := slices.IndexFunc(all, func(in store.Integration) bool { return in.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("no integration named %q; see idwatch integrations list", name)
		}
		out = append(out, all[i])
	}
	return out, nil
}

// CatchUp polls every selected enabled integration until it is caught up (idwatch collect --once),
// concurrently, retrying transient failures up to maxRetries times in a row. It returns every
// integration's error joined.
func (m *Manager) CatchUp(ctx context.Context, maxRetries int) error {
	ins, err := m.Selected(ctx)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(ins))
	for i, in := range ins {
		if !in.Enabled {
			m.disabled(ctx, in)
			continue
		}
		if in.CredentialsError != "" {
			m.unreadable(ctx, in)
			errs[i] = fmt.Errorf("%s: %s; fix: %s", in.Name, in.CredentialsError, store.CredentialsFix(in.Name))
			continue
		}
		p, tr, in, err := m.poller(ctx, in)
		if err != nil {
			errs[i] = fmt.Errorf("%s: %w", in.Name, err)
			continue
		}
		m.mu.Lock()
		m.runners[in.ID] = &runner{in: in, tracker: tr}
		m.mu.Unlock()
		wg.Go(func() {
			if in.OrgID == "" {
				m.fillOrgID(ctx, in)
			}
			if err := p.CatchUp(ctx, maxRetries); err != nil {
				errs[i] = fmt.Errorf("%s: %w", in.Name, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Health returns the live health of every integration the manager has run, falling back to the
// stored record for the others, by integration id.
func (m *Manager) Health(ctx context.Context) ([]store.Health, error) {
	stored, err := m.cfg.Store.ListHealth(ctx)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, h := range stored {
		if r := m.runners[h.IntegrationID]; r != nil {
			stored[i] = r.tracker.Snapshot()
		}
	}
	for id, r := range m.runners {
		if !slices.ContainsFunc(stored, func(h store.Health) bool { return h.IntegrationID == id }) {
			stored = append(stored, r.tracker.Snapshot())
		}
	}
	slices.SortFunc(stored, func(a, b store.Health) int { return cmp.Compare(a.IntegrationID, b.IntegrationID) })
	return stored, nil
}

// reconcile starts, restarts and stops pollers to match the stored integrations.
func (m *Manager) reconcile(ctx context.Context) error {
	all, err := m.cfg.Store.ListIntegrations(ctx)
	if err != nil {
		return err
	}
	ins, err := m.selectFrom(all)
	if err != nil {
		return err
	}
	want := map[int64]store.Integration{}
	for _, in := range ins {
		if in.Enabled && in.CredentialsError == "" {
			want[in.ID] = in
		}
	}
	m.mu.Lock()
	m.seen = make(map[int64]time.Time, len(all))
	for _, in := range all {
		m.seen[in.ID] = in.UpdatedAt
	}
	var stop []*runner
	for id, r := range m.runners {
		in, ok := want[id]
		if !ok || !in.UpdatedAt.Equal(r.in.UpdatedAt) {
			stop = append(stop, r)
			delete(m.runners, id)
		}
		if ok && !in.UpdatedAt.Equal(r.in.UpdatedAt) {
			m.log.Info("integration changed; its collector restarts with the stored settings and continues from its cursor", "integration", in.Name)
		}
	}
	m.mu.Unlock()
	for _, r := range stop {
		r.stop()
	}
	// After the stops, so that a stopping poller's last health write can't hide the switch-off.
	for _, in := range ins {
		switch {
		case !in.Enabled:
			m.disabled(ctx, in)
		case in.CredentialsError != "":
			m.unreadable(ctx, in)
		}
	}
	for id, in := range want {
		m.mu.Lock()
		_, running := m.runners[id]
		m.mu.Unlock()
		if running {
			continue
		}
		if err := m.start(ctx, in); err != nil {
			m.log.Error("integration not started", "integration", in.Name, "error", err)
		}
	}
	return nil
}

// start launches the integration's poller.
func (m *Manager) start(ctx context.Context, in store.Integration) error {
	// in may come back updated (a new DPoP key); keep that version so reconcile does not restart it.
	p, tr, in, err := m.poller(ctx, in)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(ctx)
	r := &runner{in: in, tracker: tr, cancel: cancel, done: make(chan struct{})}
	m.mu.Lock()
	m.runners[in.ID] = r
	if _, ok := m.seen[in.ID]; ok {
		m.seen[in.ID] = in.UpdatedAt // a new DPoP key is this manager's own change
	}
	m.mu.Unlock()
	m.log.Info("collecting", "integration", in.Name, "org", in.OrgURL)
	go func() {
		defer close(r.done)
		if in.OrgID == "" {
			m.fillOrgID(rctx, in)
		}
		_ = p.Run(rctx)
	}()
	return nil
}

// fillOrgID records the org id of an integration added before idwatch stored one, so that a
// second integration of the same org is recognized. It is best effort: a failure is logged and
// collection goes on (the poller reports real trouble itself).
func (m *Manager) fillOrgID(ctx context.Context, in store.Integration) {
	org, _, err := orgURLOf(in)
	if err != nil {
		return
	}
	hc, err := m.cfg.Clients.HTTPClientFor(in)
	if err != nil {
		return
	}
	fctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	id, err := okta.FetchOrganization(fctx, hc, org)
	if err == nil {
		err = m.cfg.Store.SetIntegrationOrgID(ctx, in.ID, id.ID)
	}
	if err != nil && ctx.Err() == nil {
		m.log.Warn("org id not recorded; it is looked up again on the next start", "integration", in.Name, "error", err)
	}
}

// poller builds the integration's poller and health tracker. A configuration the client refuses
// is recorded as the integration's error with its fix.
func (m *Manager) poller(ctx context.Context, in store.Integration) (*Poller, *Tracker, store.Integration, error) {
	tr := NewTracker(in.ID, m.cfg.Store, m.collect.Clock, m.log)
	if prev, err := m.cfg.Store.Health(ctx, in.ID); err == nil {
		tr.Resume(prev)
	}
	in, err := EnsureDPoPKey(ctx, m.cfg.Store, in)
	if err != nil {
		return nil, nil, in, err
	}
	client, err := m.cfg.Clients.Client(in)
	if err != nil {
		tr.Set(store.HealthError, err.Error(), "fix the integration's settings: idwatch integrations remove, then add it again")
		return nil, nil, in, err
	}
	tr.SetBudget(func() float64 { return BudgetShare(client.Governor().Stats()) })
	cfg := m.cfg.Collect
	cfg.Logger = m.log.With("integration", in.Name)
	p, err := NewPoller(in.ID, client, m.cfg.Store, tr, cfg)
	return p, tr, in, err
}

// disabled records that an integration is switched off.
func (m *Manager) disabled(ctx context.Context, in store.Integration) {
	if h, err := m.cfg.Store.Health(ctx, in.ID); err == nil && h.State == store.HealthDisabled {
		return
	}
	tr := NewTracker(in.ID, m.cfg.Store, m.collect.Clock, m.log)
	if prev, err := m.cfg.Store.Health(ctx, in.ID); err == nil {
		tr.Resume(prev)
	}
	tr.Set(store.HealthDisabled, "", "")
}

// unreadable records that an enabled integration cannot collect because its stored credentials
// cannot be opened; the other integrations collect as usual.
func (m *Manager) unreadable(ctx context.Context, in store.Integration) {
	fix := store.CredentialsFix(in.Name)
	prev, err := m.cfg.Store.Health(ctx, in.ID)
	if err == nil && prev.State == store.HealthError && prev.Reason == in.CredentialsError && prev.Fix == fix {
		return
	}
	m.log.Error("integration not started", "integration", in.Name, "error", in.CredentialsError, "fix", fix)
	tr := NewTracker(in.ID, m.cfg.Store, m.collect.Clock, m.log)
	if err == nil {
		tr.Resume(prev)
	}
	tr.Set(store.HealthError, in.CredentialsError, fix)
}

func (m *Manager) stopAll() {
	m.mu.Lock()
	rs := m.runners
	m.runners = map[int64]*runner{}
	m.mu.Unlock()
	for _, r := range rs {
		r.stop()
	}
}

func (r *runner) stop() {
	if r.cancel != nil {
		r.cancel()
		<-r.done
	}
}

// BudgetShare is the largest share of any bucket's limit the governor spent in the current
// window: the figure the health record and console show.
func BudgetShare(s okta.GovernorStats) float64 {
	share := 0.0
	for _, b := range s.Buckets {
		share = max(share, b.ShareUsed)
	}
	return share
}

// Verify checks a stored integration's prerequisites (the console's "verify" button). Its health
// shows verifying meanwhile; a failed check leaves it in error with that check's fix, otherwise it
// returns to pending (or disabled) until its poller reports.
func (m *Manager) Verify(ctx context.Context, integrationID int64) (Report, error) {
	in, err := m.cfg.Store.Integration(ctx, integrationID)
	if err != nil {
		return Report{}, err
	}
	tr := NewTracker(in.ID, m.cfg.Store, m.collect.Clock, m.log)
	if prev, err := m.cfg.Store.Health(ctx, in.ID); err == nil {
		tr.Resume(prev)
	}
	tr.Set(store.HealthVerifying, "", "")
	v := &Verifier{HTTPClient: m.cfg.Clients.HTTPClient, Clock: m.cfg.Clients.Clock, Logger: m.log, Governors: m.cfg.Clients.Governors, Dial: m.cfg.Clients.Dial}
	rep := v.VerifyIntegration(ctx, in)
	if in.OrgID == "" && rep.OrgID != "" {
		if err := m.cfg.Store.SetIntegrationOrgID(ctx, in.ID, rep.OrgID); err != nil {
			m.log.Warn("org id not recorded", "integration", in.Name, "error", err)
		}
	}
	switch f := rep.Failed(); {
	case f != nil:
		tr.Set(store.HealthError, f.Name+": "+f.Detail, f.Fix)
	case !in.Enabled:
		tr.Set(store.HealthDisabled, "", "")
	default:
		tr.Set(store.HealthPending, "", "")
	}
	return rep, nil
}

package inventory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/posture"
	"github.com/idwatch/idwatch/internal/store"
)

// ConsumerName is the journal consumer the inventory of an integration reads as.
func ConsumerName(integrationID int64) string {
	return consumerPrefix + strconv.FormatInt(integrationID, 10)
}

// Service keeps one integration's inventory: full syncs and incremental updates from the journal.
type Service struct {
	Store  store.Store
	Syncer *Syncer
	// IntegrationID is the integration whose journal entries and inventory this is.
	IntegrationID int64
	Logger        *slog.Logger
	// index is the in-memory view Lookup answers from, replaced after each sync and update.
	index atomic.Pointer[Index]
	// Batch is how many journal entries one Step reads (default 500).
	Batch int
	// onChange is told when index is replaced (a Manager refreshing what derives from it).
	onChange func(integrationID int64)
}

// consumerPrefix begins every inventory's consumer name.
const consumerPrefix = "inventory/"

// setIndex makes snap the inventory Lookup reads and says so.
func (s *Service) setIndex(snap *store.InventorySnapshot) {
	s.index.Store(NewIndex(snap))
	if s.onChange != nil {
		s.onChange(s.IntegrationID)
	}
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Sync runs a full sync, stores it with its posture findings, and (re)starts the updater's
// offset at the journal's end as of the sync's start, so events from during the sync are replayed.
func (s *Service) Sync(ctx context.Context) (store.InventorySnapshot, error) {
	b, err := s.Store.Bounds(ctx)
	if err != nil {
		return store.InventorySnapshot{}, err
	}
	snap, err := s.Syncer.FullSync(ctx, s.IntegrationID)
	if err != nil {
		return snap, err
	}
	if err := s.Store.ReplaceInventory(ctx, s.IntegrationID, snap); err != nil {
		return snap, err
	}
	name := ConsumerName(s.IntegrationID)
	if _, err := s.Store.RegisterConsumer(ctx, name, store.StreamJournal, b.LastSeq); err != nil {
		return snap, err
	}
	if off, err := s.Store.Offset(ctx, name); err == nil && off > b.LastSeq {
		if err := s.Store.ResetOffset(ctx, name, b.LastSeq); err != nil {
			return snap, err
		}
	}
	return snap, s.evaluate(ctx, &snap, true)
}

// evaluate computes and stores the posture findings of snap, and makes snap the one Lookup reads.
// It appends the change's OCSF records to the identity stream (identityRecords): every user after
// a full sync, the changed users and posture findings otherwise.
func (s *Service) evaluate(ctx context.Context, snap *store.InventorySnapshot, full bool) error {
	prev := s.index.Load()
	next := NewIndex(snap)
	now := s.Syncer.now()
	findings := posture.Evaluate(snap, s.Syncer.Config.Posture, now)
	was, err := s.Store.Posture(ctx, s.IntegrationID)
	if err != nil {
		return err
	}
	if err := s.Store.SavePosture(ctx, s.IntegrationID, findings); err != nil {
		return err
	}
	s.index.Store(next)
	if s.onChange != nil {
		s.onChange(s.IntegrationID)
	}
	recs, err := identityRecords(s.IntegrationID, prev, next, full, was, findings, now)
	if err != nil {
		return fmt.Errorf("inventory: identity records: %w", err)
	}
	return s.Store.AppendIdentityRecords(ctx, recs)
}

// change is what a batch of events asks to re-read.
type change struct {
	users     map[string]bool // re-read the user
	roles     map[string]bool // re-read the user's roles (and factors)
	factors   map[string]bool // re-read the user's factors
	groups    map[string]bool // re-read the group with members and roles
	logins    map[string]time.Time
	tokens    bool
	relevant  int
	lastSeq   int64
	malformed int
}

// relevantPrefixes are the event types that change the inventory.
var relevantPrefixes = []string{"user.lifecycle.", "user.account.", "group.user_membership.", "group.privilege.",
	"user.mfa.factor.", "group.lifecycle.", "group.profile.", "iam.resourceset.bindings.", "iam.role.", "system.api_token."}

// Step applies the journal entries after the updater's offset (up to Batch of them) and commits
// the offset. It returns how many entries it read and how many of them changed the inventory.
// Before the first Sync it does nothing: there is no inventory to update.
func (s *Service) Step(ctx context.Context) (read, applied int, err error) {
	name := ConsumerName(s.IntegrationID)
	off, err := s.Store.Offset(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	batch := s.Batch
	if batch <= 0 {
		batch = 500
	}
	entries, err := s.Store.ReadJournal(ctx, off, batch, store.ReadFilter{Integrations: []int64{s.IntegrationID}})
	if err != nil || len(entries) == 0 {
		return 0, 0, err
	}
	ch := collect(entries)
	if ch.malformed > 0 {
		s.log().Warn("inventory: journal entries that could not be read were skipped for the inventory (the next full sync covers them)",
			"integration", s.IntegrationID, "entries", ch.malformed)
	}
	if ch.relevant > 0 {
		if err := s.apply(ctx, ch); err != nil {
			if !refused(err) {
				return 0, 0, err
			}
			// Okta refuses for good (a permission is missing, the request is invalid): retrying
			// would hold the journal back for ever; the next full sync repairs what was missed.
			s.log().Warn("inventory: Okta refused a re-read; the events are passed over until the next full sync",
				"integration", s.IntegrationID, "error", err)
		}
	}
	if err := s.Store.CommitOffset(ctx, name, ch.lastSeq); err != nil {
		return 0, 0, err
	}
	return len(entries), ch.relevant, nil
}

// collect reads what the entries change.
func collect(entries []store.Entry) *change {
	ch := &change{users: map[string]bool{}, roles: map[string]bool{}, factors: map[string]bool{}, groups: map[string]bool{},
		logins: map[string]time.Time{}}
	for _, e := range entries {
		ch.lastSeq = e.Seq
		typ := e.EventType
		login := typ == "user.session.start"
		if !login && !slices.ContainsFunc(relevantPrefixes, func(p string) bool { return strings.HasPrefix(typ, p) }) {
			continue
		}
		ev, err := event.DecodeOwned(e.Raw)
		if err != nil {
			ch.malformed++
			continue
		}
		if login {
			// A successful sign-in moves lastLogin: applied from the event, no API call.
			if ev.Actor != nil && ev.Actor.Type == "User" && ev.Outcome != nil && ev.Outcome.Result == "SUCCESS" && ev.Actor.ID != "" {
				if ev.Published.After(ch.logins[ev.Actor.ID]) {
					ch.logins[ev.Actor.ID] = ev.Published
				}
				ch.relevant++
			}
			continue
		}
		ch.relevant++
		if strings.HasPrefix(typ, "system.api_token.") {
			ch.tokens = true
			continue
		}
		for _, t := range ev.Target {
			switch t.Type {
			case "User":
				switch {
				case strings.HasPrefix(typ, "group.user_membership."):
					// the group's member list is re-read below
				case strings.HasPrefix(typ, "user.account.privilege."), strings.HasPrefix(typ, "iam."):
					ch.users[t.ID], ch.roles[t.ID] = true, true
				case strings.HasPrefix(typ, "user.mfa.factor."):
					ch.factors[t.ID] = true
				default:
					ch.users[t.ID] = true
				}
			case "UserGroup":
				ch.groups[t.ID] = true
			}
		}
	}
	return ch
}

// apply re-reads what ch names and stores it, then recomputes the posture findings.
func (s *Service) apply(ctx context.Context, ch *change) error {
	ctx = inventoryCtx(ctx)
	cfg := s.Syncer.Config.WithDefaults()
	calls := &Calls{}
	now := s.Syncer.now()
	for id := range ch.factors {
		ch.users[id] = true
	}
	for id := range ch.logins {
		if !ch.users[id] {
			if u, err := s.Store.InventoryUser(ctx, s.IntegrationID, id); err == nil && ch.logins[id].After(u.LastLogin) {
				u.LastLogin = ch.logins[id].UTC()
				if err := s.Store.PutInventoryUser(ctx, s.IntegrationID, u); err != nil {
					return err
				}
			}
		}
	}
	for _, id := range sortedKeys(ch.users) {
		old, oldErr := s.Store.InventoryUser(ctx, s.IntegrationID, id)
		calls.add("users")
		ou, err := s.Syncer.API.GetUser(ctx, id)
		if notFound(err) {
			if err := s.Store.DeleteInventoryUser(ctx, s.IntegrationID, id); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("re-read user %s: %w", id, err)
		}
		u := userFrom(ou, cfg.ADAttributes, now)
		if oldErr == nil {
			u.Roles, u.Factors, u.FactorsKnown = old.Roles, old.Factors, old.FactorsKnown
		}
		if ch.roles[id] {
			if err := s.Syncer.fillRoles(ctx, &u, calls); err != nil && !notFound(err) {
				return err
			}
		}
		if ch.roles[id] || ch.factors[id] || len(u.Roles) > 0 || u.FactorsKnown {
			if err := s.Syncer.fillFactors(ctx, &u, calls); err != nil && !forbidden(err) {
				return err
			}
		}
		if err := s.Store.PutInventoryUser(ctx, s.IntegrationID, u); err != nil {
			return err
		}
	}
	for _, id := range sortedKeys(ch.groups) {
		calls.add("groups")
		og, err := s.Syncer.API.GetGroup(ctx, id)
		if notFound(err) {
			if err := s.Store.DeleteInventoryGroup(ctx, s.IntegrationID, id); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("re-read group %s: %w", id, err)
		}
		g := groupFrom(og, now)
		if err := s.Syncer.fillGroup(ctx, &g, calls); err != nil {
			return err
		}
		if err := s.Store.PutInventoryGroup(ctx, s.IntegrationID, g); err != nil {
			return err
		}
	}
	snap, err := s.Store.LoadInventory(ctx, s.IntegrationID)
	if err != nil {
		return err
	}
	if ch.tokens {
		snap.Sync.APITokens, snap.Sync.TokensVisible = nil, false
		s.Syncer.readTokens(ctx, &snap.Sync, calls)
		if err := s.Store.SaveInventorySync(ctx, s.IntegrationID, snap.Sync); err != nil {
			return err
		}
	}
	s.log().Debug("inventory: applied events", "integration", s.IntegrationID, "events", ch.relevant, "apiCalls", Total(calls.Map()))
	return s.evaluate(ctx, &snap, false)
}

// refused reports an Okta answer that a retry cannot change: a 4xx other than 429.
func refused(err error) bool {
	var apiErr *okta.APIError
	return errors.As(err, &apiErr) && apiErr.Status >= 400 && apiErr.Status < 500 && apiErr.Status != http.StatusTooManyRequests
}

func notFound(err error) bool {
	var apiErr *okta.APIError
	return errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

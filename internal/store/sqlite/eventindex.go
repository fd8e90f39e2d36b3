package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/store"
)

// Roles of a posting in event_terms: term = id*termRoles + role.
const (
	roleAll    = 0
	roleType   = 1
	roleActor  = 2
	roleTarget = 3
	roleIP     = 4
	termRoles  = 8
)

// Kinds of search_names.
const (
	nameType    = 1
	nameOutcome = 2
)

// maxIndexedTargets bounds the targets one event posts; Okta events carry a handful.
const maxIndexedTargets = 16

// indexedEvent is what the index keeps of one journal entry.
type indexedEvent struct {
	seq, pub, integration int64
	eventType             string
	raw                   []byte
}

// indexer writes index rows inside one write transaction, remembering the dictionary ids it
// has looked up, so that a page of events from a few users costs a few lookups.
type indexer struct {
	ctx               context.Context
	tx                *sql.Tx
	names             map[[2]string]int64
	entities          map[[2]string]int64
	getName, addName  *sql.Stmt
	getEnt, addEnt    *sql.Stmt
	addRow, addTerm   *sql.Stmt
	targets, termsBuf []int64
}

func newIndexer(ctx context.Context, tx *sql.Tx) (*indexer, error) {
	x := &indexer{ctx: ctx, tx: tx, names: map[[2]string]int64{}, entities: map[[2]string]int64{}}
	stmts := []struct {
		to *(*sql.Stmt)
		q  string
	}{
		{&x.getName, `SELECT id FROM search_names WHERE kind = $1 AND name = $2`},
		{&x.addName, `INSERT INTO search_names (kind, name) VALUES ($1, $2) RETURNING id`},
		{&x.getEnt, `SELECT id FROM search_entities WHERE okta_id = $1 AND alt_id = $2`},
		{&x.addEnt, `INSERT INTO search_entities (okta_id, alt_id) VALUES ($1, $2) RETURNING id`},
		{&x.addRow, `INSERT INTO event_index (seq, pub, integration_id, type_id, outcome_id, actor_id, ip_id, targets)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (seq) DO NOTHING`},
		{&x.addTerm, `INSERT INTO event_terms (term, pub, seq) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`},
	}
	for _, s := range stmts {
		st, err := tx.PrepareContext(ctx, s.q)
		if err != nil {
			x.close()
			return nil, err
		}
		*s.to = st
	}
	return x, nil
}

func (x *indexer) close() {
	for _, st := range []*sql.Stmt{x.getName, x.addName, x.getEnt, x.addEnt, x.addRow, x.addTerm} {
		if st != nil {
			_ = st.Close()
		}
	}
}

// lookup returns the id of key in a dictionary, adding it when new.
func (x *indexer) lookup(cache map[[2]string]int64, get, add *sql.Stmt, a, b any, key [2]string) (int64, error) {
	if id, ok := cache[key]; ok {
		return id, nil
	}
	var id int64
	err := get.QueryRowContext(x.ctx, a, b).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = add.QueryRowContext(x.ctx, a, b).Scan(&id)
	}
	if err != nil {
		return 0, err
	}
	cache[key] = id
	return id, nil
}

func (x *indexer) name(kind int, name string) (int64, error) {
	if name == "" {
		return 0, nil
	}
	return x.lookup(x.names, x.getName, x.addName, kind, name, [2]string{string(rune('0' + kind)), name})
}

// entity returns the id of an (id, alternateId) pair; 0 when both are empty. Case folds, as
// the columns compare without case.
func (x *indexer) entity(id, alt string) (int64, error) {
	if id == "" && alt == "" {
		return 0, nil
	}
	return x.lookup(x.entities, x.getEnt, x.addEnt, id, alt, [2]string{strings.ToLower(id), strings.ToLower(alt)})
}

// add indexes one entry. An entry whose raw JSON does not decode is indexed by what the journal
// row itself says (time, integration, type), so it stays findable.
func (x *indexer) add(e indexedEvent) error {
	var outcome, actor, ip int64
	x.targets = x.targets[:0]
	var err error
	if ev, derr := event.DecodeOwned(e.raw); derr == nil {
		if ev.Outcome != nil {
			if outcome, err = x.name(nameOutcome, strings.ToUpper(ev.Outcome.Result)); err != nil {
				return err
			}
		}
		if ev.Actor != nil {
			if actor, err = x.entity(ev.Actor.ID, ev.Actor.AlternateID); err != nil {
				return err
			}
		}
		if ev.Client != nil && ev.Client.IPAddress != "" {
			if ip, err = x.entity(ev.Client.IPAddress, ""); err != nil {
				return err
			}
		}
		for i := range ev.Target {
			if len(x.targets) == maxIndexedTargets {
				break
			}
			id, err := x.entity(ev.Target[i].ID, ev.Target[i].AlternateID)
			if err != nil {
				return err
			}
			if id != 0 {
				x.targets = append(x.targets, id)
			}
		}
	}
	typ, err := x.name(nameType, e.eventType)
	if err != nil {
		return err
	}
	var targets []byte
	for _, t := range x.targets {
		targets = binary.AppendUvarint(targets, uint64(t))
	}
	r, err := x.addRow.ExecContext(x.ctx, e.seq, e.pub, e.integration, typ, outcome, actor, ip, targets)
	if err != nil {
		return err
	}
	if n, err := r.RowsAffected(); err != nil || n == 0 {
		return err // already indexed (a backfill racing another process)
	}
	for _, term := range appendTerms(x.termsBuf[:0], typ, actor, ip, x.targets) {
		if _, err := x.addTerm.ExecContext(x.ctx, term, e.pub, e.seq); err != nil {
			return err
		}
	}
	return nil
}

// appendTerms appends the postings of an indexed row to dst.
func appendTerms(dst []int64, typ, actor, ip int64, targets []int64) []int64 {
	dst = append(dst, roleAll)
	if typ != 0 {
		dst = append(dst, typ*termRoles+roleType)
	}
	if actor != 0 {
		dst = append(dst, actor*termRoles+roleActor)
	}
	if ip != 0 {
		dst = append(dst, ip*termRoles+roleIP)
	}
	for _, t := range targets {
		dst = append(dst, t*termRoles+roleTarget)
	}
	return dst
}

// pubMillis is the index's time key: Unix milliseconds, 0 for an event without a time.
func pubMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// indexPage indexes the events AppendPage inserted after seq afterSeq, in the append's
// transaction. events is the page as given: the journal rows name which of them were new.
func indexPage(ctx context.Context, tx *sql.Tx, integrationID, afterSeq int64, events []store.Event) error {
	rows, err := tx.QueryContext(ctx, `SELECT seq, uuid FROM journal WHERE seq > $1 ORDER BY seq`, afterSeq)
	if err != nil {
		return err
	}
	bySeq := map[string]int64{}
	for rows.Next() {
		var seq int64
		var uuid string
		if err := rows.Scan(&seq, &uuid); err != nil {
			rows.Close()
			return err
		}
		bySeq[uuid] = seq
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(bySeq) == 0 {
		return err
	}
	x, err := newIndexer(ctx, tx)
	if err != nil {
		return err
	}
	defer x.close()
	for _, e := range events {
		seq, ok := bySeq[e.UUID]
		if !ok {
			continue
		}
		delete(bySeq, e.UUID) // a uuid repeated in the page was stored once, from its first copy
		if err := x.add(indexedEvent{seq: seq, pub: pubMillis(e.Published), integration: integrationID,
			eventType: e.EventType, raw: e.Raw}); err != nil {
			return err
		}
	}
	return nil
}

// unindexEvents deletes the index rows and postings of the entries below seq upto, in the trim's
// transaction.
func unindexEvents(ctx context.Context, tx *sql.Tx, upto int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT seq, pub, type_id, actor_id, ip_id, targets FROM event_index WHERE seq < $1`, upto)
	if err != nil {
		return err
	}
	type posting struct{ term, pub, seq int64 }
	var dels []posting
	var terms, targets []int64
	for rows.Next() {
		var seq, pub, typ, actor, ip int64
		var tb []byte
		if err := rows.Scan(&seq, &pub, &typ, &actor, &ip, &tb); err != nil {
			rows.Close()
			return err
		}
		targets = decodeTargets(targets[:0], tb)
		for _, t := range appendTerms(terms[:0], typ, actor, ip, targets) {
			dels = append(dels, posting{t, pub, seq})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	st, err := tx.PrepareContext(ctx, `DELETE FROM event_terms WHERE term = $1 AND pub = $2 AND seq = $3`)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, d := range dels {
		if _, err := st.ExecContext(ctx, d.term, d.pub, d.seq); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM event_index WHERE seq < $1`, upto)
	return err
}

// decodeTargets reads the varint entity ids of event_index.targets.
func decodeTargets(dst []int64, b []byte) []int64 {
	for len(b) > 0 {
		v, n := binary.Uvarint(b)
		if n <= 0 || v > math.MaxInt64 {
			return dst
		}
		dst = append(dst, int64(v))
		b = b[n:]
	}
	return dst
}

// backfillBatch is how many entries one backfill transaction indexes.
const backfillBatch = 5000

// backfillEventIndex indexes the entries that were in the journal before the event index
// existed, in transactions of backfillBatch entries, recording progress in each, so an
// interrupted backfill resumes where it stopped.
func (s *Store) backfillEventIndex(ctx context.Context) error {
	var through int64
	if err := s.w.QueryRowContext(ctx, `SELECT through FROM event_index_backfill`).Scan(&through); errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return s.wrap("index events", err)
	}
	s.log.Info("indexing the journal for event search (once, after an upgrade)", "through_seq", through)
	for {
		var more bool
		err := s.write(ctx, "index events", func(tx *sql.Tx) error {
			var through, done int64
			err := tx.QueryRowContext(ctx, `SELECT through, done FROM event_index_backfill`).Scan(&through, &done)
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			if err != nil {
				return err
			}
			rows, err := tx.QueryContext(ctx, `SELECT `+entryColumns+` FROM journal
				WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3`, done, through, backfillBatch)
			if err != nil {
				return err
			}
			es, err := s.scanEntriesOn(ctx, tx, rows, backfillBatch, func(e error) error { return e })
			if err != nil {
				return err
			}
			if len(es) == 0 {
				_, err := tx.ExecContext(ctx, `DELETE FROM event_index_backfill`)
				return err
			}
			x, err := newIndexer(ctx, tx)
			if err != nil {
				return err
			}
			defer x.close()
			for _, e := range es {
				if err := x.add(indexedEvent{seq: e.Seq, pub: pubMillis(e.Published), integration: e.IntegrationID,
					eventType: e.EventType, raw: e.Raw}); err != nil {
					return err
				}
			}
			more = true
			_, err = tx.ExecContext(ctx, `UPDATE event_index_backfill SET done = $1`, es[len(es)-1].Seq)
			return err
		})
		if err != nil || !more {
			return err
		}
	}
}

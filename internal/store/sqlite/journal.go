package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// MaxReadLimit bounds one ReadJournal or ReadAlerts call, so a careless caller cannot pull the
// whole journal into memory.
const MaxReadLimit = 100_000

// AppendPage implements store.Journal. Seq numbers are taken from the sequences row inside the
// transaction; a duplicate does not consume one, so the journal's seqs stay contiguous.
func (s *Store) AppendPage(ctx context.Context, integrationID int64, events []store.Event, cursor *store.Cursor) (store.AppendResult, error) {
	var res store.AppendResult
	for i, e := range events {
		if e.UUID == "" || len(e.Raw) == 0 {
			return res, s.wrap("append page", fmt.Errorf("%w: event %d of the page has no uuid or no raw JSON", store.ErrInvalid, i))
		}
	}
	now := s.now().UnixNano()
	raws := make([][]byte, len(events))
	for i, e := range events {
		raws[i] = e.Raw
	}
	var adopt *dictEncoder // a dictionary this append stores, used once it has committed
	err := s.write(ctx, "append page", func(tx *sql.Tx) error {
		res, adopt = store.AppendResult{}, nil
		seq, err := readSequence(ctx, tx, store.StreamJournal)
		if err != nil {
			return err
		}
		if len(events) > 0 {
			enc, dictID, err := s.pageEncoder(ctx, tx, integrationID, raws, now)
			if err != nil {
				return err
			}
			if dictID > 0 && enc.id == dictID && enc.fresh {
				adopt = &enc.dictEncoder
			}
			ins := tx.StmtContext(ctx, s.insertEvent)
			defer ins.Close()
			for _, e := range events {
				data, dict := encode(enc.enc, dictID, e.Raw)
				r, err := ins.ExecContext(ctx, seq+1, integrationID, e.UUID, nanos(e.Published), e.EventType, now, dict, data, sourceOf(e))
				if err != nil {
					return err
				}
				if n, err := r.RowsAffected(); err != nil {
					return err
				} else if n == 1 {
					seq++
					res.Inserted++
				} else {
					res.Duplicates++
				}
			}
			if res.Inserted > 0 {
				if err := writeSequence(ctx, tx, store.StreamJournal, seq); err != nil {
					return err
				}
				if err := indexPage(ctx, tx, integrationID, seq-int64(res.Inserted), events); err != nil {
					return err
				}
			}
		}
		res.LastSeq = seq
		if err := s.fault(store.FaultAfterJournalInsert); err != nil {
			return err
		}
		if cursor == nil {
			return nil
		}
		return upsertCursor(ctx, tx, integrationID, *cursor, now)
	})
	if err != nil {
		return store.AppendResult{}, err
	}
	if adopt != nil {
		s.codec.adopt(integrationID, *adopt)
	} else if len(raws) > 0 {
		s.codec.keepSamples(integrationID, raws)
	}
	return res, nil
}

// pageEncoder is the integration's encoder for a page, with its dictionary id (0: none). When
// the page completes the samples a first dictionary needs, it stores the dictionary in tx and
// returns it marked fresh: the caller adopts it once tx has committed.
func (s *Store) pageEncoder(ctx context.Context, tx *sql.Tx, integrationID int64, raws [][]byte, now int64) (pageEnc, int64, error) {
	enc, dictID, dict, err := s.codec.pageEncoder(ctx, tx, integrationID, raws)
	if err != nil || dict == nil {
		return pageEnc{dictEncoder: dictEncoder{id: dictID, enc: enc}}, dictID, err
	}
	if err := tx.QueryRowContext(ctx, `INSERT INTO journal_dicts (integration_id, dict, created_at) VALUES ($1, $2, $3) RETURNING id`,
		integrationID, dict, now).Scan(&dictID); err != nil {
		return pageEnc{}, 0, err
	}
	de, err := newDictEncoder(dictID, dict)
	return pageEnc{dictEncoder: de, fresh: true}, dictID, err
}

// pageEnc is the encoder of one page; fresh when the page stores its dictionary.
type pageEnc struct {
	dictEncoder
	fresh bool
}

// insertEventSQL inserts one journal row; a duplicate (integration, uuid) inserts nothing.
const insertEventSQL = `INSERT INTO journal (seq, integration_id, uuid, published, event_type, stored_at, dict, raw, source)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (integration_id, uuid) DO NOTHING`

// entryColumns is the SELECT list scanEntries reads.
const entryColumns = `seq, integration_id, uuid, published, event_type, stored_at, dict, raw, source`

// readSequence returns a stream's last assigned seq.
func readSequence(ctx context.Context, q querier, stream store.Stream) (int64, error) {
	var v int64
	err := q.QueryRowContext(ctx, `SELECT value FROM sequences WHERE name = $1`, string(stream)).Scan(&v)
	return v, err
}

// writeSequence records a stream's last assigned seq.
func writeSequence(ctx context.Context, tx *sql.Tx, stream store.Stream, seq int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE sequences SET value = $1 WHERE name = $2`, seq, string(stream))
	return err
}

// querier is what *sql.DB and *sql.Tx share for reads.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// ReadJournal implements store.Journal.
func (s *Store) ReadJournal(ctx context.Context, afterSeq int64, limit int, f store.ReadFilter) ([]store.Entry, error) {
	if limit <= 0 || limit > MaxReadLimit {
		return nil, s.wrap("read journal", fmt.Errorf("%w: limit %d is outside 1..%d", store.ErrInvalid, limit, MaxReadLimit))
	}
	where, args := filterSQL(f, []any{afterSeq})
	args = append(args, limit)
	q := `SELECT ` + entryColumns + ` FROM journal
		WHERE seq > $1` + where + ` ORDER BY seq LIMIT $` + strconv.Itoa(len(args))
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, s.wrap("read journal", err)
	}
	return s.scanEntries(ctx, rows, limit, func(e error) error { return s.wrap("read journal", e) })
}

// ReadJournalByTime implements store.Journal with the journal_published index.
func (s *Store) ReadJournalByTime(ctx context.Context, after store.TimeKey, limit int, f store.TimeFilter) ([]store.Entry, error) {
	const op = "read journal by time"
	if limit <= 0 || limit > MaxReadLimit {
		return nil, s.wrap(op, fmt.Errorf("%w: limit %d is outside 1..%d", store.ErrInvalid, limit, MaxReadLimit))
	}
	// The zero TimeKey is before every entry; as nanoseconds it would be a real (negative) time.
	pub := int64(math.MinInt64)
	if !after.Published.IsZero() {
		pub = after.Published.UnixNano()
	}
	args := []any{pub, after.UUID, after.Seq}
	q := `SELECT ` + entryColumns + ` FROM journal
		WHERE published IS NOT NULL AND (published, uuid, seq) > ($1, $2, $3)`
	where, args := filterSQL(f.ReadFilter, args)
	q += where
	if !f.Until.IsZero() {
		args = append(args, f.Until.UnixNano())
		q += ` AND published < $` + strconv.Itoa(len(args))
	}
	if f.MaxSeq > 0 {
		args = append(args, f.MaxSeq)
		q += ` AND seq <= $` + strconv.Itoa(len(args))
	}
	args = append(args, limit)
	q += ` ORDER BY published, uuid, seq LIMIT $` + strconv.Itoa(len(args))
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	return s.scanEntries(ctx, rows, limit, func(e error) error { return s.wrap(op, e) })
}

// scanEntries reads journal rows of entryColumns and closes them, then decompresses each event
// (a dictionary not yet loaded is read on a connection of its own, so the rows are closed
// first). A row that does not decompress is damage SQLite cannot see: the error names its seq,
// and the store calls it corrupt.
func (s *Store) scanEntries(ctx context.Context, rows *sql.Rows, limit int, wrap func(error) error) ([]store.Entry, error) {
	return s.scanEntriesOn(ctx, s.r, rows, limit, wrap)
}

// scanEntriesOn is scanEntries reading missing dictionaries through q (a transaction whose rows
// are the ones scanned, while the store is still opening and has no reader yet).
func (s *Store) scanEntriesOn(ctx context.Context, q querier, rows *sql.Rows, limit int, wrap func(error) error) ([]store.Entry, error) {
	out := make([]store.Entry, 0, min(limit, 1024))
	var dicts []sql.NullInt64
	for rows.Next() {
		var e store.Entry
		var pub, stored, dict sql.NullInt64
		var raw blob
		if err := rows.Scan(&e.Seq, &e.IntegrationID, &e.UUID, &pub, &e.EventType, &stored, &dict, &raw, &e.Source); err != nil {
			rows.Close()
			return nil, wrap(err)
		}
		e.Published, e.StoredAt, e.Raw = fromNanos(pub), fromNanos(stored), json.RawMessage(raw)
		out = append(out, e)
		dicts = append(dicts, dict)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(err)
	}
	for i := range out {
		e := &out[i]
		data, err := s.codec.decode(ctx, q, dicts[i], e.Raw)
		if err != nil {
			return nil, wrap(fmt.Errorf("%w: journal entry %d (integration %d, uuid %s): %w; restore the database from a backup, or export what still reads with 'idwatch events export'",
				store.ErrCorrupt, e.Seq, e.IntegrationID, e.UUID, err))
		}
		e.Raw = data
	}
	return out, nil
}

// filterSQL turns a ReadFilter into "AND …" clauses with numbered parameters after args.
func filterSQL(f store.ReadFilter, args []any) (string, []any) {
	var b strings.Builder
	args = andIn(&b, args, "integration_id", f.Integrations)
	args = andIn(&b, args, "event_type", f.EventTypes)
	return b.String(), args
}

// andIn writes " AND column IN (…)" for vals to b (nothing when vals is empty), numbering the
// parameters after args, and returns args with vals appended.
func andIn[T any](b *strings.Builder, args []any, column string, vals []T) []any {
	if len(vals) == 0 {
		return args
	}
	b.WriteString(" AND " + column + " IN ")
	return inList(b, args, vals)
}

// inList writes "($n, $n+1, …)" for vals to b, numbering after args, and returns args with vals
// appended.
func inList[T any](b *strings.Builder, args []any, vals []T) []any {
	b.WriteString("(")
	for i, v := range vals {
		args = append(args, v)
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(len(args)))
	}
	b.WriteString(")")
	return args
}

// uuidChunk bounds the uuids one JournalByUUID query binds.
const uuidChunk = 500

// JournalByUUID implements store.Journal with the journal_integration_uuid index.
func (s *Store) JournalByUUID(ctx context.Context, integrationID int64, uuids []string) ([]store.Entry, error) {
	const op = "read journal by uuid"
	var out []store.Entry
	for len(uuids) > 0 {
		n := min(len(uuids), uuidChunk)
		args := []any{integrationID}
		marks := make([]string, n)
		for i, u := range uuids[:n] {
			args = append(args, u)
			marks[i] = "$" + strconv.Itoa(i+2)
		}
		q := `SELECT ` + entryColumns + ` FROM journal
		WHERE integration_id = $1 AND uuid IN (` + strings.Join(marks, ", ") + `) ORDER BY seq`
		rows, err := s.r.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, s.wrap(op, err)
		}
		es, err := s.scanEntries(ctx, rows, n, func(e error) error { return s.wrap(op, e) })
		if err != nil {
			return nil, err
		}
		out = append(out, es...)
		uuids = uuids[n:]
	}
	slices.SortFunc(out, func(a, b store.Entry) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

// LastSeq implements store.Journal.
func (s *Store) LastSeq(ctx context.Context) (int64, error) {
	v, err := readSequence(ctx, s.r, store.StreamJournal)
	return v, s.wrap("last seq", err)
}

// CountJournal implements store.Journal. Without a filter it is O(1) (see Bounds); with one it
// scans the journal.
func (s *Store) CountJournal(ctx context.Context, f store.ReadFilter) (int64, error) {
	if len(f.Integrations) == 0 && len(f.EventTypes) == 0 {
		b, err := s.Bounds(ctx)
		return b.Count, err
	}
	where, args := filterSQL(f, nil)
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM journal WHERE 1 = 1`+where, args...).Scan(&n)
	return n, s.wrap("count journal", err)
}

// Bounds implements store.Journal. Seqs are handed out without gaps and only trimming deletes,
// always a prefix, so the stored entries are exactly FirstSeq..LastSeq and counting them is
// arithmetic instead of a scan of millions of rows.
func (s *Store) Bounds(ctx context.Context) (store.JournalBounds, error) {
	var b store.JournalBounds
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE((SELECT MIN(seq) FROM journal), 0), (SELECT value FROM sequences WHERE name = $1)`,
		string(store.StreamJournal)).Scan(&b.FirstSeq, &b.LastSeq)
	if b.FirstSeq > 0 {
		b.Count = b.LastSeq - b.FirstSeq + 1
	}
	return b, s.wrap("journal bounds", err)
}

// SeqStoredSince implements store.Journal. Entries are stored in seq order, so the scan from the
// oldest entry stops at the first one stored at or after t.
func (s *Store) SeqStoredSince(ctx context.Context, t time.Time) (int64, error) {
	var seq int64
	err := s.r.QueryRowContext(ctx, `SELECT seq FROM journal WHERE stored_at >= $1 ORDER BY seq LIMIT 1`, t.UnixNano()).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		last, err := s.LastSeq(ctx)
		return last + 1, err
	}
	return seq, s.wrap("seq stored since", err)
}

// trimBatch bounds the seqs one trim transaction deletes, so appends wait for one short
// transaction at a time instead of one long one.
const trimBatch = 10_000

// TrimJournal implements store.Journal. The cap keeps the newest MaxJournalEntries seq numbers.
// The work is split into transactions of at most trimBatch seqs; each recomputes its bound, so an
// offset reset while a trim runs is honoured.
func (s *Store) TrimJournal(ctx context.Context, beforeSeq int64) (store.TrimResult, error) {
	var res store.TrimResult
	overrun := make(map[string]bool)
	for more := true; more; {
		err := s.write(ctx, "trim journal", func(tx *sql.Tx) error {
			var n int64
			var err error
			n, more, err = s.trimStep(ctx, tx, beforeSeq, overrun)
			res.Removed += n
			return err
		})
		if err != nil {
			return res, err
		}
	}
	for name := range overrun {
		res.Overrun = append(res.Overrun, name)
	}
	slices.Sort(res.Overrun)
	res.Forced = len(res.Overrun) > 0
	b, err := s.Bounds(ctx)
	if err != nil {
		return res, err
	}
	res.FirstSeq = b.FirstSeq
	if res.Forced {
		s.log.Warn("journal retention cap removed entries that consumers had not read; they will skip them",
			"cap", s.cap, "removed", res.Removed, "first_seq", res.FirstSeq, "consumers", res.Overrun)
	}
	return res, nil
}

// trimStep deletes one batch below the retention bound, adding to overrun the consumers the cap
// forces past unread entries; it reports how many rows went and whether more remain.
func (s *Store) trimStep(ctx context.Context, tx *sql.Tx, beforeSeq int64, overrun map[string]bool) (int64, bool, error) {
	var minOffset, first sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MIN(offset_seq) FROM consumers WHERE stream = $1`,
		string(store.StreamJournal)).Scan(&minOffset); err != nil {
		return 0, false, err
	}
	if err := tx.QueryRowContext(ctx, `SELECT MIN(seq) FROM journal`).Scan(&first); err != nil || !first.Valid {
		return 0, false, err
	}
	bound := beforeSeq
	if minOffset.Valid && minOffset.Int64+1 < bound {
		bound = minOffset.Int64 + 1
	}
	forced := false
	if s.cap > 0 {
		last, err := readSequence(ctx, tx, store.StreamJournal)
		if err != nil {
			return 0, false, err
		}
		if capBound := last - s.cap + 1; capBound > bound {
			bound, forced = capBound, true
		}
	}
	if first.Int64 >= bound {
		return 0, false, nil
	}
	upto := min(bound, first.Int64+s.trimBatch)
	if forced {
		// Deleted seqs run up to upto-1: a consumer whose offset is below that loses unread ones.
		rows, err := tx.QueryContext(ctx, `SELECT name FROM consumers WHERE stream = $1 AND offset_seq < $2`,
			string(store.StreamJournal), upto-1)
		if err != nil {
			return 0, false, err
		}
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				rows.Close()
				return 0, false, err
			}
			overrun[name] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, false, err
		}
	}
	n, err := execCount(ctx, tx, `DELETE FROM journal WHERE seq < $1`, upto)
	if err != nil {
		return 0, false, err
	}
	return n, upto < bound, unindexEvents(ctx, tx, upto)
}

// execCount runs a statement and returns the number of rows it affected.
func execCount(ctx context.Context, tx *sql.Tx, q string, args ...any) (int64, error) {
	r, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

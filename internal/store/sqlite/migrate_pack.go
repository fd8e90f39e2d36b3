package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// packChunk is how many rows the journal packing step reads at a time, bounding its memory.
const packChunk = 2000

// packJournal is the Go step of migration 0010: it builds each integration's dictionary from its
// first events, then copies the journal into journal_packed in seq order with every event
// compressed, in the migration's transaction.
func (s *Store) packJournal(ctx context.Context, tx *sql.Tx) error {
	ids, err := integrationsInJournal(ctx, tx)
	if err != nil {
		return err
	}
	encs := map[int64]dictEncoder{}
	for _, id := range ids {
		samples, err := firstEvents(ctx, tx, id, 1000)
		if err != nil {
			return err
		}
		if len(samples) < minDictSamples {
			continue
		}
		dict := buildDict(samples)
		var dictID int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO journal_dicts (integration_id, dict, created_at) VALUES ($1, $2, $3) RETURNING id`,
			id, dict, s.now().UnixNano()).Scan(&dictID); err != nil {
			return err
		}
		if encs[id], err = newDictEncoder(dictID, dict); err != nil {
			return err
		}
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO journal_packed (seq, integration_id, uuid, published, event_type, stored_at, dict, raw)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	type row struct {
		seq, integration    int64
		uuid, eventType     string
		published, storedAt sql.NullInt64
		raw                 []byte
	}
	var moved int64
	for after := int64(-1 << 62); ; {
		rows, err := tx.QueryContext(ctx, `SELECT seq, integration_id, uuid, published, event_type, stored_at, raw FROM journal
			WHERE seq > $1 ORDER BY seq LIMIT $2`, after, packChunk)
		if err != nil {
			return err
		}
		var chunk []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.seq, &r.integration, &r.uuid, &r.published, &r.eventType, &r.storedAt, &r.raw); err != nil {
				rows.Close()
				return err
			}
			chunk = append(chunk, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(chunk) == 0 {
			break
		}
		for _, r := range chunk {
			enc, dictID := s.codec.plainEnc, int64(0)
			if de, ok := encs[r.integration]; ok {
				enc, dictID = de.enc, de.id
			}
			data, dict := encode(enc, dictID, r.raw)
			if _, err := ins.ExecContext(ctx, r.seq, r.integration, r.uuid, r.published, r.eventType, r.storedAt, dict, data); err != nil {
				return err
			}
		}
		moved += int64(len(chunk))
		after = chunk[len(chunk)-1].seq
	}
	if moved > 0 {
		s.log.Info("journal compressed in place; run VACUUM with idwatch stopped to give the freed space back to the file system",
			"entries", moved, "dictionaries", len(encs))
	}
	return nil
}

// integrationsInJournal lists the integrations that have journal entries.
func integrationsInJournal(ctx context.Context, q querier) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT integration_id FROM journal ORDER BY integration_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// firstEvents returns up to n of an integration's oldest events as stored before packing.
func firstEvents(ctx context.Context, q querier, integrationID int64, n int) ([][]byte, error) {
	rows, err := q.QueryContext(ctx, `SELECT raw FROM journal WHERE integration_id = $1 ORDER BY seq LIMIT $2`, integrationID, n)
	if err != nil {
		return nil, fmt.Errorf("sample events of integration %d: %w", integrationID, err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		out = append(out, raw)
	}
	return out, rows.Err()
}

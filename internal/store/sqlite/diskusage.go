package sqlite

import (
	"context"
	"os"
	"sort"
)

// ObjectSize is the space one table or index takes in the database file.
type ObjectSize struct {
	// Name is the table or index; Table is the table it belongs to (Name itself for a table).
	Name, Table string
	// Index is true for an index (including the automatic index of a UNIQUE or PRIMARY KEY
	// constraint on a table that has a rowid).
	Index bool
	// Bytes is the space of its pages; Payload the bytes of its rows within them (the rest is page
	// headers, cell pointers and free space).
	Bytes, Payload int64
	// Pages counts its pages, overflow pages included.
	Pages int64
}

// DiskUsage is what the database file holds, object by object.
type DiskUsage struct {
	// PageSize is the database's page size in bytes.
	PageSize int64
	// FileBytes is the size of the database file; WALBytes of its write-ahead log (not yet
	// checkpointed into the file).
	FileBytes, WALBytes int64
	// FreeBytes is the space of free pages (left by deletes, reused by later writes).
	FreeBytes int64
	// Objects lists every table and index, largest first.
	Objects []ObjectSize
}

// Table returns the bytes of a table and of its indexes.
func (u DiskUsage) Table(name string) (table, indexes int64) {
	for _, o := range u.Objects {
		if o.Table != name {
			continue
		}
		if o.Index {
			indexes += o.Bytes
		} else {
			table += o.Bytes
		}
	}
	return table, indexes
}

// DiskUsage measures every table and index through SQLite's dbstat virtual table. It reads every
// page of the database, so its cost is that of a full scan; it is meant for benchmarks and
// operators' checks, not for a hot path.
func (s *Store) DiskUsage(ctx context.Context) (DiskUsage, error) {
	const op = "disk usage"
	var u DiskUsage
	var freePages int64
	if err := s.r.QueryRowContext(ctx, `SELECT page_size, freelist_count FROM pragma_page_size(), pragma_freelist_count()`).
		Scan(&u.PageSize, &freePages); err != nil {
		return u, s.wrap(op, err)
	}
	u.FreeBytes = freePages * u.PageSize
	rows, err := s.r.QueryContext(ctx, `SELECT d.name, COALESCE(m.tbl_name, d.name), COALESCE(m.type, 'table'),
		SUM(d.pgsize), SUM(d.payload), COUNT(*)
		FROM dbstat AS d LEFT JOIN sqlite_schema AS m ON m.name = d.name GROUP BY d.name`)
	if err != nil {
		return u, s.wrap(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var o ObjectSize
		var kind string
		if err := rows.Scan(&o.Name, &o.Table, &kind, &o.Bytes, &o.Payload, &o.Pages); err != nil {
			return u, s.wrap(op, err)
		}
		o.Index = kind == "index"
		u.Objects = append(u.Objects, o)
	}
	if err := rows.Err(); err != nil {
		return u, s.wrap(op, err)
	}
	sort.Slice(u.Objects, func(i, j int) bool {
		if u.Objects[i].Bytes != u.Objects[j].Bytes {
			return u.Objects[i].Bytes > u.Objects[j].Bytes
		}
		return u.Objects[i].Name < u.Objects[j].Name
	})
	if st, err := os.Stat(s.path); err == nil {
		u.FileBytes = st.Size()
	}
	if st, err := os.Stat(s.path + "-wal"); err == nil {
		u.WALBytes = st.Size()
	}
	return u, nil
}

// Checkpoint copies the write-ahead log into the database file and truncates the log, so that
// the file's size says what the database holds.
func (s *Store) Checkpoint(ctx context.Context) error {
	_, err := s.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return s.wrap("checkpoint", err)
}

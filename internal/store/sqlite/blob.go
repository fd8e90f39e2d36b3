package sqlite

import "fmt"

// blob scans a BLOB column without database/sql's defensive copy. database/sql copies a []byte
// from the driver because a driver may reuse its memory; this driver (modernc.org/sqlite) copies
// every blob out of SQLite into a fresh slice of its own, so a second copy only doubles what the
// journal's readers allocate (and the garbage collector then collects). TestBlobsAreFresh holds
// the driver to that: if an upgrade ever reused the memory, the test fails, not the data.
type blob []byte

// Scan implements sql.Scanner.
func (b *blob) Scan(src any) error {
	switch v := src.(type) {
	case []byte:
		*b = v
	case string:
		*b = []byte(v)
	case nil:
		*b = nil
	default:
		return fmt.Errorf("sqlite store: want a blob, got %T", src)
	}
	return nil
}

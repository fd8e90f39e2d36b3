package store

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// PageCursor is a position in a search's order: the (time, seq) key of the last row returned.
// It travels to clients as an opaque string that carries a fingerprint of the query it belongs
// to and a checksum, so a cursor that was edited, truncated or taken from another query is
// refused instead of silently skipping or repeating rows.
type PageCursor struct {
	// Kind names what is paged ('e' events, 'a' alerts).
	Kind byte
	// Time and Seq are the last row's sort key.
	Time int64
	Seq  int64
	// Query is the fingerprint of the query (QueryFingerprint).
	Query uint64
}

const (
	cursorVersion = 1
	cursorSumLen  = 6
)

// errCursor is the fix every cursor failure names.
var errCursor = errors.New("pass the next cursor of the previous page of the same query unchanged, or drop the cursor to start again")

// Encode renders c as an opaque URL-safe string.
func (c PageCursor) Encode() string {
	b := make([]byte, 0, 40)
	b = append(b, cursorVersion, c.Kind)
	b = binary.AppendVarint(b, c.Time)
	b = binary.AppendVarint(b, c.Seq)
	b = binary.BigEndian.AppendUint64(b, c.Query)
	sum := sha256.Sum256(b)
	b = append(b, sum[:cursorSumLen]...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodePageCursor reads a cursor of the given kind made for the query with fingerprint query.
// Every failure wraps ErrInvalid and says what to do.
func DecodePageCursor(s string, kind byte, query uint64) (PageCursor, error) {
	bad := func(why string) (PageCursor, error) {
		return PageCursor{}, fmt.Errorf("%w: cursor %s: %w", ErrInvalid, why, errCursor)
	}
	if len(s) > 80 {
		return bad("is too long")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return bad("is not a cursor this API issued")
	}
	if len(b) < 2+2+8+cursorSumLen {
		return bad("is truncated")
	}
	body, sum := b[:len(b)-cursorSumLen], b[len(b)-cursorSumLen:]
	want := sha256.Sum256(body)
	if string(sum) != string(want[:cursorSumLen]) {
		return bad("is damaged (checksum mismatch)")
	}
	if body[0] != cursorVersion {
		return bad("is from another version of idwatch")
	}
	c := PageCursor{Kind: body[1]}
	if c.Kind != kind {
		return bad("belongs to another kind of list")
	}
	rest := body[2:]
	var n int
	if c.Time, n = binary.Varint(rest); n <= 0 {
		return bad("is damaged")
	}
	rest = rest[n:]
	if c.Seq, n = binary.Varint(rest); n <= 0 || c.Seq < 0 {
		return bad("is damaged")
	}
	rest = rest[n:]
	if len(rest) != 8 {
		return bad("is damaged")
	}
	c.Query = binary.BigEndian.Uint64(rest)
	if c.Query != query {
		return bad("belongs to a different query (the filters or the order changed)")
	}
	return c, nil
}

// QueryFingerprint hashes a query's JSON form (without its cursor and limit, which may change
// between pages), so a cursor only continues the query it came from.
func QueryFingerprint(q any) uint64 {
	b, err := json.Marshal(q)
	if err != nil {
		return 0
	}
	sum := sha256.Sum256(b)
	return binary.BigEndian.Uint64(sum[:8])
}

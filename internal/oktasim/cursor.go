package oktasim

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// logCursor is the position the System Log's after parameter carries. Clients treat it as opaque;
// it is base64url of a small binary record with a checksum so a mangled cursor is refused instead
// of silently starting somewhere else.
type logCursor struct {
	bounded bool
	// polling: the next persistence sequence number to read.
	seq uint32
	// bounded: the (published, seq) key of the last event returned, the lower bound of the
	// original window (the cursor decides: a since sent along with it is not read) and the direction.
	published int64
	since     int64
	desc      bool
}

const (
	cursorVersion     = 1
	cursorKindPolling = 'p'
	cursorKindBounded = 'b'
)

var errBadCursor = errors.New("the after cursor is not one this org issued; follow the next link of a previous response verbatim")

func (c logCursor) encode() string {
	b := []byte{cursorVersion, cursorKindPolling}
	if c.bounded {
		b[1] = cursorKindBounded
	}
	b = binary.AppendUvarint(b, uint64(c.seq))
	if c.bounded {
		b = binary.AppendVarint(b, c.published)
		b = binary.AppendVarint(b, c.since)
		if c.desc {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (logCursor, error) {
	var c logCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 7 || len(s) > 64 {
		return c, errBadCursor
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.ChecksumIEEE(body) != sum || body[0] != cursorVersion {
		return c, errBadCursor
	}
	kind, rest := body[1], body[2:]
	seq, n := binary.Uvarint(rest)
	if n <= 0 || seq > 1<<32-1 {
		return c, errBadCursor
	}
	c.seq, rest = uint32(seq), rest[n:]
	switch kind {
	case cursorKindPolling:
		if len(rest) != 0 {
			return c, errBadCursor
		}
	case cursorKindBounded:
		c.bounded = true
		if c.published, n = binary.Varint(rest); n <= 0 {
			return c, errBadCursor
		}
		rest = rest[n:]
		if c.since, n = binary.Varint(rest); n <= 0 {
			return c, errBadCursor
		}
		rest = rest[n:]
		if len(rest) != 1 || rest[0] > 1 {
			return c, errBadCursor
		}
		c.desc = rest[0] == 1
	default:
		return c, errBadCursor
	}
	return c, nil
}

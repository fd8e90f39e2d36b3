package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// The journal keeps each event's JSON compressed on its own with zstd, against a dictionary of
// its integration's own events: one event decompresses without its neighbours (the API reads
// single events by seq and pages of search results), while the dictionary gives back most of what
// compressing a whole page together would (docs/storage.md, "Journal compression", has the
// figures). The row's dict column says how raw is stored:
//
//	NULL  raw is the event as received (too small to gain from compression)
//	0     raw is a zstd frame without a dictionary (before the integration has a dictionary)
//	n > 0 raw is a zstd frame against the raw-content dictionary journal_dicts.id = n

const (
	// dictBytes is the size of a dictionary: events sampled across a page, concatenated.
	// 32, 64 and 112 KiB measured 381, 368 and 345 bytes per oktasim event; 64 KiB is the knee.
	dictBytes = 64 << 10
	// minDictSamples is how many events an integration's first appends must bring before its
	// dictionary is built from them; until then its events are compressed without one.
	minDictSamples = 64
	// minCompressBytes is the smallest event worth compressing: below it the frame header eats
	// the gain.
	minCompressBytes = 64
	// MaxRawBytes bounds the decompressed size of one stored event, so a damaged row cannot make a
	// reader allocate without limit. Collected events are far smaller (Okta's are a few KB).
	MaxRawBytes = 64 << 20
)

// errDamagedRow marks a journal row whose stored bytes do not decompress.
var errDamagedRow = errors.New("journal row does not decompress")

// rawCodec compresses and decompresses journal rows. Encoders and decoders are safe for
// concurrent use; the maps are guarded by mu. A dictionary enters the maps only once the
// transaction that stored it has committed.
type rawCodec struct {
	plainEnc *zstd.Encoder
	plainDec *zstd.Decoder

	mu      sync.Mutex
	encs    map[int64]dictEncoder // integration id → its dictionary
	decs    map[int64]*zstd.Decoder
	samples map[int64][][]byte // integration id → events kept until a dictionary is built
}

// dictEncoder is an integration's dictionary id with an encoder for it.
type dictEncoder struct {
	id  int64
	enc *zstd.Encoder
}

// encoderOptions are shared by every journal encoder: the fastest level measured within 2 % of
// the default's size at twice its speed, and rows need no frame checksum of their own.
func encoderOptions(extra ...zstd.EOption) []zstd.EOption {
	return append([]zstd.EOption{zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderCRC(false),
		zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true)}, extra...)
}

// decoderOptions bound what one row may decompress to.
func decoderOptions(extra ...zstd.DOption) []zstd.DOption {
	return append([]zstd.DOption{zstd.WithDecoderMaxMemory(MaxRawBytes), zstd.WithDecoderConcurrency(0),
		zstd.WithDecoderLowmem(true)}, extra...)
}

func newRawCodec() (*rawCodec, error) {
	enc, err := zstd.NewWriter(nil, encoderOptions()...)
	if err != nil {
		return nil, err
	}
	dec, err := zstd.NewReader(nil, decoderOptions()...)
	if err != nil {
		return nil, err
	}
	return &rawCodec{plainEnc: enc, plainDec: dec, encs: map[int64]dictEncoder{}, decs: map[int64]*zstd.Decoder{},
		samples: map[int64][][]byte{}}, nil
}

// close releases the decoders' goroutines.
func (c *rawCodec) close() {
	c.plainDec.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range c.decs {
		d.Close()
	}
}

// buildDict returns a raw-content dictionary of up to dictBytes from samples, taken evenly across
// them so that it holds the variety of event types the samples have; the last bytes of a raw
// dictionary are the nearest for the encoder, so later samples go last.
func buildDict(samples [][]byte) []byte {
	total := 0
	for _, s := range samples {
		total += len(s)
	}
	stride := max(1, total/dictBytes)
	var picked [][]byte
	size := 0
	for i := len(samples) - 1; i >= 0 && size < dictBytes; i -= stride {
		picked = append(picked, samples[i])
		size += len(samples[i])
	}
	dict := make([]byte, 0, size)
	for i := len(picked) - 1; i >= 0; i-- {
		dict = append(dict, picked[i]...)
	}
	if len(dict) > dictBytes {
		dict = dict[len(dict)-dictBytes:]
	}
	return dict
}

// pageEncoder returns the encoder for an integration's page and, when this page is what completes
// its samples, a new dictionary to store (id 0: the caller stores it and calls adopt after the
// commit). Without a dictionary yet, the page is encoded without one.
func (c *rawCodec) pageEncoder(ctx context.Context, q querier, integrationID int64, page [][]byte) (enc *zstd.Encoder, dictID int64, newDict []byte, err error) {
	c.mu.Lock()
	de, ok := c.encs[integrationID]
	c.mu.Unlock()
	if ok {
		return de.enc, de.id, nil, nil
	}
	// Another process (or this one before a restart) may have stored it.
	var id int64
	var dict []byte
	err = q.QueryRowContext(ctx, `SELECT id, dict FROM journal_dicts WHERE integration_id = $1 ORDER BY id DESC LIMIT 1`,
		integrationID).Scan(&id, &dict)
	switch {
	case err == nil:
		de, err := c.remember(integrationID, id, dict)
		return de.enc, de.id, nil, err
	case !errors.Is(err, sql.ErrNoRows):
		return nil, 0, nil, err
	}
	c.mu.Lock()
	samples := append(c.samples[integrationID][:len(c.samples[integrationID]):len(c.samples[integrationID])], page...)
	c.mu.Unlock()
	if len(samples) < minDictSamples {
		return c.plainEnc, 0, nil, nil
	}
	return nil, 0, buildDict(samples), nil
}

// keepSamples remembers a committed page's events of an integration that has no dictionary yet,
// bounded by what a dictionary can use.
func (c *rawCodec) keepSamples(integrationID int64, page [][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.encs[integrationID]; ok {
		return
	}
	s := c.samples[integrationID]
	for _, p := range page {
		s = append(s, append([]byte(nil), p...))
	}
	for size := sizeOf(s); len(s) > minDictSamples && size > 4*dictBytes; size -= len(s[0]) {
		s = s[1:]
	}
	c.samples[integrationID] = s
}

func sizeOf(s [][]byte) int {
	n := 0
	for _, b := range s {
		n += len(b)
	}
	return n
}

// remember makes a stored dictionary the integration's encoder.
func (c *rawCodec) remember(integrationID, id int64, dict []byte) (dictEncoder, error) {
	de, err := newDictEncoder(id, dict)
	if err != nil {
		return de, err
	}
	return c.adopt(integrationID, de), nil
}

// newDictEncoder returns an encoder for a dictionary stored under id.
func newDictEncoder(id int64, dict []byte) (dictEncoder, error) {
	enc, err := zstd.NewWriter(nil, encoderOptions(zstd.WithEncoderDictRaw(uint32(id), dict))...)
	if err != nil {
		return dictEncoder{}, fmt.Errorf("journal dictionary %d: %w", id, err)
	}
	return dictEncoder{id: id, enc: enc}, nil
}

// adopt makes de the integration's encoder unless a newer one is already known, and returns the
// one in use. Call it only once de's dictionary is committed.
func (c *rawCodec) adopt(integrationID int64, de dictEncoder) dictEncoder {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur, ok := c.encs[integrationID]; ok && cur.id >= de.id {
		return cur
	}
	c.encs[integrationID] = de
	delete(c.samples, integrationID)
	return de
}

// encode compresses one event with enc (dictID names its dictionary, 0 none) and returns the
// bytes and the dict column's value.
func encode(enc *zstd.Encoder, dictID int64, raw []byte) ([]byte, any) {
	if len(raw) < minCompressBytes {
		return raw, nil
	}
	return enc.EncodeAll(raw, make([]byte, 0, len(raw)/4+16)), dictID
}

// decode returns the event a row holds. The dictionary of a row is loaded (once) from q.
func (c *rawCodec) decode(ctx context.Context, q querier, dict sql.NullInt64, data []byte) ([]byte, error) {
	if !dict.Valid {
		return data, nil
	}
	dec := c.plainDec
	if dict.Int64 != 0 {
		var err error
		if dec, err = c.decoder(ctx, q, dict.Int64); err != nil {
			return nil, err
		}
	}
	out, err := dec.DecodeAll(data, nil)
	if err != nil {
		return nil, fmt.Errorf("%w (dictionary %d): %v", errDamagedRow, dict.Int64, err)
	}
	return out, nil
}

// decoder returns the decoder for a stored dictionary.
func (c *rawCodec) decoder(ctx context.Context, q querier, id int64) (*zstd.Decoder, error) {
	c.mu.Lock()
	d, ok := c.decs[id]
	c.mu.Unlock()
	if ok {
		return d, nil
	}
	var dict []byte
	if err := q.QueryRowContext(ctx, `SELECT dict FROM journal_dicts WHERE id = $1`, id).Scan(&dict); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("%w: its dictionary %d is missing", errDamagedRow, id)
		}
		return nil, err
	}
	d, err := zstd.NewReader(nil, decoderOptions(zstd.WithDecoderDictRaw(uint32(id), dict))...)
	if err != nil {
		return nil, fmt.Errorf("%w: dictionary %d: %v", errDamagedRow, id, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur, ok := c.decs[id]; ok {
		d.Close()
		return cur, nil
	}
	c.decs[id] = d
	return d, nil
}

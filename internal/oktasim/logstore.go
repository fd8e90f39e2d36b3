package oktasim

import (
	"bytes"
	"container/heap"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// blockSize is how many events are compressed together. Larger blocks compress better; smaller
// ones make a random page cheaper to decode. 512 events of ~1.5 KB keep a block under 1 MB raw.
const blockSize = 512

// eventMeta is the small per-event index kept uncompressed; everything else lives in the
// compressed blocks. The event's persistence sequence number is its index in logStore.metas.
type eventMeta struct {
	published int64 // unix nanoseconds
	persisted int64 // unix nanoseconds; non-decreasing with the sequence number
	uuid      [16]byte
	typ       uint16 // interned eventType; 0 when the type table is full
}

// sealedBlock is blockSize events' JSON, concatenated and zstd-compressed, with the offsets of each
// event in the decompressed bytes (blockSize+1 entries).
type sealedBlock struct {
	data []byte
	offs []uint32
}

// pendingEvent is an event appended but not yet visible: it is persisted once the clock passes
// visibleAt, which is later than published for late events.
type pendingEvent struct {
	raw       []byte
	meta      eventMeta
	visibleAt int64
	order     uint64
}

type pendingHeap []pendingEvent

func (h pendingHeap) Len() int { return len(h) }
func (h pendingHeap) Less(i, j int) bool {
	if h[i].visibleAt != h[j].visibleAt {
		return h[i].visibleAt < h[j].visibleAt
	}
	return h[i].order < h[j].order
}
func (h pendingHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pendingHeap) Push(x any)   { *h = append(*h, x.(pendingEvent)) }
func (h *pendingHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = pendingEvent{}
	*h = old[:len(old)-1]
	return x
}

// logStore holds the System Log: persisted events in persistence order, an index by published
// time, and the events still waiting to become visible. It is safe for concurrent use.
type logStore struct {
	mu          sync.RWMutex
	metas       []eventMeta
	blocks      []sealedBlock
	tailBuf     []byte   // JSON of the events of the open block, concatenated
	tailOffs    []uint32 // offsets into tailBuf, len = events in the open block + 1
	byPublished []uint32 // sequence numbers ordered by (published, seq)
	types       []string // interned event types; index 0 is reserved for "not interned"
	typeIDs     map[string]uint16
	pending     pendingHeap
	order       uint64
	watermark   int64 // greatest published time appended so far

	enc     *zstd.Encoder
	scratch []byte
	dec     *zstd.Decoder
	cache   blockCache
}

func newLogStore() (*logStore, error) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, fmt.Errorf("zstd encoder: %w", err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
	if err != nil {
		return nil, fmt.Errorf("zstd decoder: %w", err)
	}
	return &logStore{types: []string{""}, typeIDs: map[string]uint16{}, tailOffs: newTailOffs(),
		enc: enc, dec: dec, cache: blockCache{max: 16}}, nil
}

// internType returns the id of an event type, interning it if there is room.
func (s *logStore) internType(t string) uint16 {
	if id, ok := s.typeIDs[t]; ok {
		return id
	}
	if len(s.types) > 0xFFFF {
		return 0
	}
	id := uint16(len(s.types))
	s.types = append(s.types, t)
	s.typeIDs[t] = id
	return id
}

// add queues one event and persists everything that has become visible. now bounds visibility;
// events are only persisted once no later append can have an earlier visibility time, which holds
// for visibility up to the greatest published time seen (appends come in published order).
func (s *logStore) add(raw []byte, published int64, uuid [16]byte, eventType string, visibleAt, now int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	meta := eventMeta{published: published, uuid: uuid, typ: s.internType(eventType)}
	s.order++
	heap.Push(&s.pending, pendingEvent{raw: raw, meta: meta, visibleAt: max(visibleAt, published), order: s.order})
	s.watermark = max(s.watermark, published)
	s.promoteLocked(min(now, s.watermark))
}

// promote persists every pending event visible at now.
func (s *logStore) promote(now int64) {
	s.mu.RLock()
	due := len(s.pending) > 0 && s.pending[0].visibleAt <= now
	s.mu.RUnlock()
	if !due {
		return
	}
	s.mu.Lock()
	s.promoteLocked(now)
	s.mu.Unlock()
}

func (s *logStore) promoteLocked(limit int64) {
	for len(s.pending) > 0 && s.pending[0].visibleAt <= limit {
		p := heap.Pop(&s.pending).(pendingEvent)
		s.persistLocked(p)
	}
}

func (s *logStore) persistLocked(p pendingEvent) {
	seq := uint32(len(s.metas))
	p.meta.persisted = p.visibleAt
	if n := len(s.metas); n > 0 && s.metas[n-1].persisted > p.meta.persisted {
		p.meta.persisted = s.metas[n-1].persisted
	}
	s.metas = append(s.metas, p.meta)
	s.tailBuf = append(s.tailBuf, p.raw...)
	s.tailOffs = append(s.tailOffs, uint32(len(s.tailBuf)))
	// Late events land a little before the end of the published order: search from the back.
	i := sort.Search(len(s.byPublished), func(i int) bool {
		return s.metas[s.byPublished[i]].published > p.meta.published
	})
	s.byPublished = slices.Insert(s.byPublished, i, seq)
	if len(s.tailOffs)-1 == blockSize {
		// Compress into scratch space and keep an exact-size copy: blocks are most of the memory.
		s.scratch = s.enc.EncodeAll(s.tailBuf, s.scratch[:0])
		s.blocks = append(s.blocks, sealedBlock{data: bytes.Clone(s.scratch), offs: s.tailOffs})
		s.tailBuf, s.tailOffs = make([]byte, 0, len(s.tailBuf)), newTailOffs()
	}
}

// newTailOffs returns the offsets of an empty open block, sized for a full one.
func newTailOffs() []uint32 {
	return append(make([]uint32, 0, blockSize+1), 0)
}

// count returns the number of persisted events. Callers hold at least the read lock.
func (s *logStore) countLocked() uint32 { return uint32(len(s.metas)) }

// rawLocked returns the JSON of the persisted event seq. Callers hold at least the read lock.
func (s *logStore) rawLocked(seq uint32) ([]byte, error) {
	b := int(seq / blockSize)
	i := seq % blockSize
	if b == len(s.blocks) {
		return s.tailBuf[s.tailOffs[i]:s.tailOffs[i+1]], nil
	}
	blk := &s.blocks[b]
	data, ok := s.cache.get(b)
	if !ok {
		var err error
		data, err = s.dec.DecodeAll(blk.data, make([]byte, 0, blk.offs[blockSize]))
		if err != nil {
			return nil, fmt.Errorf("decode block %d: %w", b, err)
		}
		s.cache.put(b, data)
	}
	return data[blk.offs[i]:blk.offs[i+1]], nil
}

// pendingCount returns how many events wait to become visible.
func (s *logStore) pendingCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.pending)
}

// uuids returns the uuids of all persisted events, in persistence order.
func (s *logStore) uuids() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, len(s.metas))
	for i := range s.metas {
		out[i] = formatUUID(s.metas[i].uuid)
	}
	return out
}

// uuidsPublished returns the uuids of the persisted events published in [since, until), in
// persistence order.
func (s *logStore) uuidsPublished(since, until int64) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for i := range s.metas {
		if p := s.metas[i].published; p >= since && p < until {
			out = append(out, formatUUID(s.metas[i].uuid))
		}
	}
	return out
}

// blockCache keeps the most recently decompressed blocks, since consecutive pages read the same
// blocks. It is safe for concurrent use.
type blockCache struct {
	mu    sync.Mutex
	max   int
	tick  uint64
	items map[int]*cachedBlock
}

type cachedBlock struct {
	data []byte
	used uint64
}

func (c *blockCache) get(b int) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.items[b]
	if !ok {
		return nil, false
	}
	c.tick++
	it.used = c.tick
	return it.data, true
}

func (c *blockCache) put(b int, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.items == nil {
		c.items = map[int]*cachedBlock{}
	}
	if len(c.items) >= c.max {
		oldest, least := -1, ^uint64(0)
		for k, it := range c.items {
			if it.used < least {
				oldest, least = k, it.used
			}
		}
		delete(c.items, oldest)
	}
	c.tick++
	c.items[b] = &cachedBlock{data: data, used: c.tick}
}

// parseUUID parses the canonical 8-4-4-4-12 hex form.
func parseUUID(s string) ([16]byte, error) {
	var u [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, fmt.Errorf("uuid %q is not in the 8-4-4-4-12 hex form", s)
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	if _, err := hex.Decode(u[:], []byte(h)); err != nil {
		return u, fmt.Errorf("uuid %q is not hexadecimal", s)
	}
	return u, nil
}

// formatUUID renders the canonical lower-case form.
func formatUUID(u [16]byte) string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], u[10:16])
	return string(b[:])
}

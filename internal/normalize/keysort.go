package normalize

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// member is one member of a free-form object.
type member[V any] struct {
	k string
	v V
}

// sortedMembers appends m's members to ms (a caller's buffer, usually on its stack) in key
// order. An event may carry any number of keys, so the order is found in time linear in their
// total length (see sortKeys), and the values come along to save a lookup per key in a map that
// may be far larger than the CPU's caches.
func sortedMembers[V any](m map[string]V, ms []member[V]) []member[V] {
	start := len(ms)
	ms = slices.Grow(ms, len(m))
	for k, v := range m {
		ms = append(ms, member[V]{k, v})
	}
	sortMembers(ms[start:], nil)
	return ms
}

// smallSort is the size up to which a comparison sort beats radix passes.
const smallSort = 64

// sortMembers sorts ms by key (byte order); work, when not nil, counts the steps taken.
func sortMembers[V any](ms []member[V], work *int) {
	if len(ms) <= smallSort {
		slices.SortFunc(ms, func(a, b member[V]) int { return strings.Compare(a.k, b.k) })
		return
	}
	keys := make([]string, len(ms))
	for i := range ms {
		keys[i] = ms[i].k
	}
	order := sortKeys(keys, work)
	sorted := make([]member[V], len(ms))
	for j, i := range order {
		sorted[j] = ms[i]
	}
	copy(ms, sorted)
}

// keyRef is a key in a radix pass: 16 of its bytes as two big-endian numbers, its length and
// its index. Keys live wherever the event put them, and past a few hundred thousand of them each
// visit to one is a cache miss: carrying the next 8 bytes and the length lets the pass over them
// and the comparisons that settle ties do without the key, for keys of up to 16 bytes past off.
type keyRef struct {
	bytes uint64 // bytes off to off+8
	next  uint64 // bytes off+8 to off+16
	i     int32
	n     int32 // the key's length (at most math.MaxInt32)
}

// sortKeys returns the indexes of keys in their byte order, by least-significant-digit radix
// passes over 8 bytes at a time, then again over the next 8 bytes of each run of keys that tie:
// the time is linear in the keys' total length, however many there are.
func sortKeys(keys []string, work *int) []int32 {
	refs := make([]keyRef, len(keys))
	for i, k := range keys {
		refs[i] = keyRef{bytes: bytesAt(k, 0), next: bytesAt(k, 8), i: int32(i), n: int32(min(len(k), math.MaxInt32))}
	}
	radixAt(keys, refs, make([]keyRef, len(refs)), 0, work)
	order := make([]int32, len(refs))
	for j, r := range refs {
		order[j] = r.i
	}
	return order
}

// radixAt sorts refs, whose keys all share their first off bytes and hold their bytes off to
// off+16, by the rest of their keys.
func radixAt(keys []string, refs, tmp []keyRef, off int, work *int) {
	if len(refs) <= smallSort {
		slices.SortFunc(refs, func(a, b keyRef) int { return compareRefs(keys, a, b, off) })
		if work != nil {
			*work += len(refs) * 8 // n·log n of a bounded n
		}
		return
	}
	longer := false // whether some key goes on past these 8 bytes
	for j := range refs {
		longer = longer || int(refs[j].n) > off+8
	}
	for shift := 0; shift < 64; shift += 8 {
		var count [256]int
		for _, r := range refs {
			count[byte(r.bytes>>shift)]++
		}
		if work != nil {
			*work += len(refs)
		}
		if count[byte(refs[0].bytes>>shift)] == len(refs) {
			continue // every key has the same byte here
		}
		pos := 0
		for b, c := range count {
			count[b] = pos
			pos += c
		}
		for _, r := range refs {
			d := byte(r.bytes >> shift)
			tmp[count[d]] = r
			count[d]++
		}
		copy(refs, tmp)
	}
	if !longer {
		// Keys within these 8 bytes that tie differ only by trailing NUL bytes (read as the
		// padding): the shorter is a prefix of the longer.
		eachRun(refs, func(run []keyRef) {
			slices.SortFunc(run, func(a, b keyRef) int { return cmp.Compare(a.n, b.n) })
		})
		return
	}
	eachRun(refs, func(run []keyRef) {
		for j := range run {
			r := &run[j]
			r.bytes, r.next = r.next, 0
			if int(r.n) > off+16 {
				r.next = bytesAt(keys[r.i], off+16)
			}
		}
		radixAt(keys, run, tmp[:len(run)], off+8, work)
	})
}

// compareRefs orders two keys that agree on their first off bytes, reaching the keys only when
// the 16 bytes the refs hold tie and one of the keys goes on past them.
func compareRefs(keys []string, a, b keyRef, off int) int {
	if c := cmp.Compare(a.bytes, b.bytes); c != 0 {
		return c
	}
	if c := cmp.Compare(a.next, b.next); c != 0 {
		return c
	}
	if int(a.n) <= off+16 && int(b.n) <= off+16 {
		// Equal up to where both end, save the padding: the shorter is a prefix of the longer.
		return cmp.Compare(a.n, b.n)
	}
	return strings.Compare(keys[a.i], keys[b.i])
}

// eachRun calls fn with each run of two or more refs with the same bytes.
func eachRun(refs []keyRef, fn func(run []keyRef)) {
	for start := 0; start < len(refs); {
		end := start + 1
		for end < len(refs) && refs[end].bytes == refs[start].bytes {
			end++
		}
		if end-start > 1 {
			fn(refs[start:end])
		}
		start = end
	}
}

// bytesAt is bytes off to off+8 of k as a big-endian number, zero-padded past k's end.
func bytesAt(k string, off int) uint64 {
	var v uint64
	for i := off; i < off+8; i++ {
		v <<= 8
		if i < len(k) {
			v |= uint64(k[i])
		}
	}
	return v
}

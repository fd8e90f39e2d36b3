package normalize

import (
	"cmp"
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

// keyRef is a key in a radix pass: 8 of its bytes as a big-endian number, and its index.
type keyRef struct {
	bytes uint64
	i     int32
}

// sortKeys returns the indexes of keys in their byte order, by least-significant-digit radix
// passes over 8 bytes at a time, then again over the next 8 bytes of each run of keys that tie:
// the time is linear in the keys' total length, however many there are.
func sortKeys(keys []string, work *int) []int32 {
	refs := make([]keyRef, len(keys))
	for i := range refs {
		refs[i].i = int32(i)
	}
	radixAt(keys, refs, make([]keyRef, len(refs)), 0, work)
	order := make([]int32, len(refs))
	for j, r := range refs {
		order[j] = r.i
	}
	return order
}

// radixAt sorts refs, whose keys all share their first off bytes, by the rest of their keys.
func radixAt(keys []string, refs, tmp []keyRef, off int, work *int) {
	if len(refs) <= smallSort {
		// The next 8 bytes decide most comparisons without reaching the keys; whole keys settle
		// ties (they agree before off, a shorter one only through its padding).
		for j := range refs {
			refs[j].bytes = bytesAt(keys[refs[j].i], off)
		}
		slices.SortFunc(refs, func(a, b keyRef) int {
			if a.bytes != b.bytes {
				return cmp.Compare(a.bytes, b.bytes)
			}
			return strings.Compare(keys[a.i], keys[b.i])
		})
		if work != nil {
			*work += len(refs) * 8 // n·log n of a bounded n
		}
		return
	}
	longer := false // whether some key goes on past these 8 bytes
	for j := range refs {
		k := keys[refs[j].i]
		refs[j].bytes = bytesAt(k, off)
		longer = longer || len(k) > off+8
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
		// padding): order each run whole.
		eachRun(refs, func(run []keyRef) {
			slices.SortFunc(run, func(a, b keyRef) int { return strings.Compare(keys[a.i], keys[b.i]) })
		})
		return
	}
	eachRun(refs, func(run []keyRef) { radixAt(keys, run, tmp[:len(run)], off+8, work) })
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

package scenario

import (
	"hash/fnv"
	"math/rand/v2"
)

const (
	base62Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	base64URL      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	hexDigits      = "0123456789abcdef"
)

// rng is the one source of randomness: a seeded PCG stream, so that a Seed fully determines output.
type rng struct{ *rand.Rand }

// newRNG returns the PRNG for one independent stream of a seed; streams keep unrelated parts of the
// simulation (each day, each storyline) from shifting each other's draws.
func newRNG(seed int64, stream uint64) *rng {
	return &rng{rand.New(rand.NewPCG(uint64(seed), stream))}
}

// streamID hashes labels into a stream number.
func streamID(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

func (r *rng) chance(p float64) bool { return r.Float64() < p }

// between returns a uniform integer in [lo, hi].
func (r *rng) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + r.IntN(hi-lo+1)
}

// count turns an expected rate into a whole number of occurrences (floor plus a Bernoulli remainder).
func (r *rng) count(rate float64) int {
	n := int(rate)
	if r.chance(rate - float64(n)) {
		n++
	}
	return n
}

func pick[T any](r *rng, xs []T) T { return xs[r.IntN(len(xs))] }

// weighted picks an index with probability proportional to its weight.
func (r *rng) weighted(weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := r.Float64() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

func (r *rng) fromAlphabet(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func (r *rng) base62(n int) string { return r.fromAlphabet(base62Alphabet, n) }

// hex returns n lowercase hex digits.
func (r *rng) hex(n int) string {
	b := make([]byte, n)
	var v uint64
	for i := range b {
		if i%16 == 0 {
			v = r.Uint64()
		}
		b[i] = hexDigits[v&0xf]
		v >>= 4
	}
	return string(b)
}

// oktaID returns a 20-character Okta object id with the given 3-character prefix (00u user,
// 00g group, 0oa app, 00p policy, 0pr rule, opf factor, 00T token, ...).
func (r *rng) oktaID(prefix string) string { return prefix + r.base62(17) }

// uuid returns a version-4 UUID drawn from the PRNG.
func (r *rng) uuid() string {
	var b [36]byte
	hi, lo := r.Uint64(), r.Uint64()
	hi = hi&^(0xf<<12) | 0x4<<12 // version 4
	lo = lo&^(0x3<<62) | 0x2<<62 // RFC 4122 variant
	j := 0
	for i := 0; i < 32; i++ {
		if i == 8 || i == 12 || i == 16 || i == 20 {
			b[j] = '-'
			j++
		}
		var nib uint64
		if i < 16 {
			nib = hi >> (60 - 4*i) & 0xf
		} else {
			nib = lo >> (60 - 4*(i-16)) & 0xf
		}
		b[j] = hexDigits[nib]
		j++
	}
	return string(b[:])
}

// requestID returns an Okta request id shaped like "Z8-xZ2Jm0kT5bq3Vd1Yp6AAAAk4".
func (r *rng) requestID() string {
	var b [27]byte
	for i := range 21 {
		b[i] = base64URL[r.IntN(len(base64URL))]
	}
	copy(b[21:], "AAAA")
	b[25], b[26] = base62Alphabet[r.IntN(62)], base62Alphabet[r.IntN(62)]
	return string(b[:])
}

// sessionID returns an OIE session proxy id ("idx" + 22 base62 characters).
func (r *rng) sessionID() string { return "idx" + r.base62(22) }

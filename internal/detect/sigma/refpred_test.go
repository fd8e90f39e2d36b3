package sigma

import (
	"strconv"
	"strings"
	"testing"
)

func leavesOf(vals ...string) []Leaf {
	ls := make([]Leaf, len(vals))
	for i, v := range vals {
		ls[i] = makeLeaf(v)
	}
	return ls
}

// TestFieldRefWorkBounded: a field reference between two long lists costs their lengths
// (equality) or at most maxRefWork bytes (the other modes), never the product of their sizes.
func TestFieldRefWorkBounded(t *testing.T) {
	for _, n := range []int{10, 1_000, 50_000} {
		a, b := make([]string, n), make([]string, n)
		size := 0
		for i := range n {
			a[i], b[i] = "User"+strconv.Itoa(i)+"@example.com", "user"+strconv.Itoa(n+i)+"@example.com"
			size += len(a[i]) + len(b[i])
		}
		b[n-1] = strings.ToLower(a[n-1])
		ok, work := refPred{}.compare(leavesOf(a...), leavesOf(b...))
		if !ok {
			t.Errorf("%d values: equal pair not found", n)
		}
		if work > size {
			t.Errorf("%d values: equality compared %d bytes, want at most %d (both lists once)", n, work, size)
		}
		if ok, _ := (refPred{cased: true}).compare(leavesOf(a...), leavesOf(b...)); ok {
			t.Errorf("%d values: cased equality matched values that differ in case", n)
		}
		ok, work = refPred{mode: "contains"}.compare(leavesOf(a...), leavesOf("nomatch"))
		if ok || work > size+len("nomatch")*n {
			t.Errorf("%d values against one: contains = %v after %d bytes", n, ok, work)
		}
		_, work = refPred{mode: "contains"}.compare(leavesOf(a...), leavesOf(b[:n-1]...))
		if limit := min(maxRefWork+64, n*n*64); work > limit { // values are under 32 bytes
			t.Errorf("%d×%d values: contains compared %d bytes, want at most %d", n, n-1, work, limit)
		}
	}
	if ok, _ := (refPred{mode: "startswith"}).compare(leavesOf("x", "admin@example.com"), leavesOf("y", "ADMIN")); !ok {
		t.Error("startswith across lists: no match")
	}
}

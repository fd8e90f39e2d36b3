package oauth

import (
	"sync"
	"time"
)

// nonceSet is the server's DPoP nonce state, as Okta runs it: a new nonce every rotation
// period, and each nonce accepted until validity has passed since it was issued.
type nonceSet struct {
	mu       sync.Mutex
	rotate   time.Duration
	validity time.Duration
	newValue func() string
	issued   []issuedNonce // oldest first; the last one is current
}

type issuedNonce struct {
	value string
	at    time.Time
}

func newNonceSet(rotate, validity time.Duration, newValue func() string) *nonceSet {
	return &nonceSet{rotate: rotate, validity: validity, newValue: newValue}
}

// current returns the nonce to hand out at now, rotating when the period has passed.
func (n *nonceSet) current(now time.Time) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.refresh(now)
	return n.issued[len(n.issued)-1].value
}

// valid reports whether v is a nonce the server still accepts at now.
func (n *nonceSet) valid(v string, now time.Time) bool {
	if v == "" {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.refresh(now)
	for _, in := range n.issued {
		if in.value == v {
			return true
		}
	}
	return false
}

// rotateNow issues a new nonce at once. With invalidate, earlier nonces stop working
// immediately, so clients holding one get a use_dpop_nonce challenge on their next proof.
func (n *nonceSet) rotateNow(now time.Time, invalidate bool) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if invalidate {
		n.issued = nil
	}
	n.issued = append(n.issued, issuedNonce{value: n.newValue(), at: now})
	n.prune(now)
	return n.issued[len(n.issued)-1].value
}

// refresh rotates when due and forgets nonces past their validity. Callers hold mu.
func (n *nonceSet) refresh(now time.Time) {
	if len(n.issued) == 0 || !now.Before(n.issued[len(n.issued)-1].at.Add(n.rotate)) {
		n.issued = append(n.issued, issuedNonce{value: n.newValue(), at: now})
	}
	n.prune(now)
}

// prune drops expired nonces but always keeps the current one.
func (n *nonceSet) prune(now time.Time) {
	keep := n.issued[:0]
	for i, in := range n.issued {
		if i == len(n.issued)-1 || now.Before(in.at.Add(n.validity)) {
			keep = append(keep, in)
		}
	}
	n.issued = keep
}

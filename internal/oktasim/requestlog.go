package oktasim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// RequestRecord is one API request as the request log keeps it, so tests can assert how many calls
// a client made, to which endpoints, with what outcome.
type RequestRecord struct {
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
	Method    string    `json:"method"`
	Path      string    `json:"path"`
	Query     string    `json:"query"`
	Status    int       `json:"status"`
	Principal string    `json:"principal,omitempty"` // token or client id; empty when unauthenticated
	Bucket    string    `json:"bucket,omitempty"`    // rate-limit bucket
	RequestID string    `json:"requestId"`
}

// requestLog keeps the most recent requests in a ring. It is safe for concurrent use.
type requestLog struct {
	mu   sync.Mutex
	size int
	ring []RequestRecord // record seq is at index (seq-1) % size
	next uint64          // sequence number of the next record, starting at 1
}

func newRequestLog(size int) *requestLog {
	return &requestLog{size: size, next: 1}
}

func (l *requestLog) add(r RequestRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r.Seq = l.next
	l.next++
	if len(l.ring) < l.size {
		l.ring = append(l.ring, r)
		return
	}
	l.ring[(r.Seq-1)%uint64(l.size)] = r
}

// since returns the kept records with a sequence number greater than after, oldest first.
func (l *requestLog) since(after uint64) []RequestRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]RequestRecord, 0)
	n := uint64(len(l.ring))
	first := l.next - n // oldest kept
	for seq := max(first, after+1); seq < l.next; seq++ {
		out = append(out, l.ring[(seq-1)%uint64(l.size)])
	}
	return out
}

// compactJSON validates a JSON object and removes insignificant whitespace.
func compactJSON(raw []byte) ([]byte, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, fmt.Errorf("event is not valid JSON: %w", err)
	}
	b := buf.Bytes()
	if len(b) == 0 || b[0] != '{' {
		return nil, fmt.Errorf("event must be a JSON object")
	}
	return b, nil
}

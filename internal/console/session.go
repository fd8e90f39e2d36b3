package console

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"sync"
	"time"
)

// sessions is the server-side session store. The cookie holds only a random id; the store keys
// sessions by the id's hash so a memory dump does not hand out live cookies, and the API key
// itself is never kept.
type sessions struct {
	mu       sync.Mutex
	byHash   map[string]*session
	now      func() time.Time
	idle     time.Duration
	absolute time.Duration
	limit    int
}

// session is one signed-in browser.
type session struct {
	p       Principal
	created time.Time
	seen    time.Time
}

func newSessions(now func() time.Time, idle, absolute time.Duration, limit int) *sessions {
	return &sessions{byHash: map[string]*session{}, now: now, idle: idle, absolute: absolute, limit: limit}
}

func hashID(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

// create starts a session for p and returns its id (256 random bits).
func (s *sessions) create(p Principal) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; a broken one must not yield a weak id.
		panic("console: crypto/rand: " + err.Error())
	}
	id := base64.RawURLEncoding.EncodeToString(b[:])
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byHash) >= s.limit {
		s.sweepLocked(now)
	}
	if len(s.byHash) >= s.limit {
		// Still full of live sessions: drop the least recently seen one.
		var oldest string
		for h, ss := range s.byHash {
			if oldest == "" || ss.seen.Before(s.byHash[oldest].seen) {
				oldest = h
			}
		}
		delete(s.byHash, oldest)
	}
	s.byHash[hashID(id)] = &session{p: p, created: now, seen: now}
	return id
}

// get returns the live session with this id and marks it seen.
func (s *sessions) get(id string) (Principal, bool) {
	if id == "" {
		return Principal{}, false
	}
	now := s.now()
	h := hashID(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.byHash[h]
	if !ok {
		return Principal{}, false
	}
	if s.expired(ss, now) {
		delete(s.byHash, h)
		return Principal{}, false
	}
	ss.seen = now
	return ss.p, true
}

func (s *sessions) expired(ss *session, now time.Time) bool {
	return now.Sub(ss.seen) > s.idle || now.Sub(ss.created) > s.absolute
}

// delete ends the session with this id.
func (s *sessions) delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byHash, hashID(id))
}

// deleteKey ends every session signed in with the named API key (after it is revoked).
func (s *sessions) deleteKey(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for h, ss := range s.byHash {
		if ss.p.Name == name {
			delete(s.byHash, h)
		}
	}
}

func (s *sessions) sweepLocked(now time.Time) {
	for h, ss := range s.byHash {
		if s.expired(ss, now) {
			delete(s.byHash, h)
		}
	}
}

package console

import (
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Sign-in attempt limits: a client address may fail loginBurst times at once, then once every
// loginEvery; a successful sign-in costs nothing. This makes guessing keys from one address
// pointless (they are 256-bit) and keeps a flood of attempts off the key store.
const (
	loginBurst   = 10
	loginEvery   = 6 * time.Second
	loginIdle    = 10 * time.Minute
	loginClients = 10000
)

// loginLimiter counts failed sign-ins per client address.
type loginLimiter struct {
	mu       sync.Mutex
	byAddr   map[string]*loginClient
	overflow *rate.Limiter
}

type loginClient struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLoginLimiter() *loginLimiter {
	return &loginLimiter{byAddr: map[string]*loginClient{}, overflow: rate.NewLimiter(rate.Every(loginEvery), loginBurst)}
}

// limiter returns addr's limiter. Addresses idle for ten minutes are forgotten; when more than
// loginClients addresses are active at once, new ones share one limiter, so that a flood of
// addresses can neither grow the map without bound nor reset anyone's count.
func (l *loginLimiter) limiter(addr string, now time.Time) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c, ok := l.byAddr[addr]; ok {
		c.seen = now
		return c.lim
	}
	if len(l.byAddr) >= loginClients {
		for a, c := range l.byAddr {
			if now.Sub(c.seen) > loginIdle {
				delete(l.byAddr, a)
			}
		}
		if len(l.byAddr) >= loginClients {
			return l.overflow
		}
	}
	c := &loginClient{lim: rate.NewLimiter(rate.Every(loginEvery), loginBurst), seen: now}
	l.byAddr[addr] = c
	return c.lim
}

// blocked reports whether addr has no failed attempt left now.
func (l *loginLimiter) blocked(addr string, now time.Time) bool {
	return l.limiter(addr, now).TokensAt(now) < 1
}

// failed counts a failed attempt from addr.
func (l *loginLimiter) failed(addr string, now time.Time) {
	l.limiter(addr, now).AllowN(now, 1)
}

// remoteHost is the client address of a request as the listener saw it.
func remoteHost(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

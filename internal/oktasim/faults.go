package oktasim

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/idwatch/idwatch/internal/oktasim/fault"
	"github.com/idwatch/idwatch/internal/oktasim/oauth"
)

// faultControlPrefix is where the fault control API is mounted; it is never faulted itself, so a
// fault can always be cleared.
const faultControlPrefix = "/_sim/faults"

// faultWiring connects the fault injector to the credentials it can revoke and the DPoP nonces it
// can rotate. The authorization server is plugged in after New, so it sits behind a lock.
type faultWiring struct {
	mu sync.Mutex
	as *oauth.Server
}

// newFaults builds the injector, in front of every API path, with the server's revocation and
// nonce callbacks and the configured initial rules.
func (s *Server) newFaults(base Clock, rules []fault.Rule) error {
	s.faults = fault.New(fault.Config{Clock: base, Revoke: s.revokeForFault, RotateNonce: s.rotateNonceForFault,
		ControlPrefix: faultControlPrefix, Logger: s.log})
	for i, r := range rules {
		if _, err := s.faults.Add(r); err != nil {
			return fmt.Errorf("fault rule %d: %w", i+1, err)
		}
	}
	return nil
}

// Faults returns the fault injector, to add or clear rules in process.
func (s *Server) Faults() *fault.Injector { return s.faults }

// SetAuthServer tells the server which org authorization server issues OAuth tokens, so revoke
// and DPoP nonce faults can act on it.
func (s *Server) SetAuthServer(as *oauth.Server) {
	s.wiring.mu.Lock()
	s.wiring.as = as
	s.wiring.mu.Unlock()
}

func (s *Server) authServer() *oauth.Server {
	s.wiring.mu.Lock()
	defer s.wiring.mu.Unlock()
	return s.wiring.as
}

var errNoAuthServer = errors.New("this org has no OAuth authorization server")

// revokeForFault performs a revoke fault: an app's key, a whole app, every token of an app, or
// the credential the triggering request presents (an SSWS token or an OAuth access token).
func (s *Server) revokeForFault(rr fault.RevokeRequest) error {
	as := s.authServer()
	if rr.Target == fault.TargetToken && rr.ClientID == "" && rr.Request != nil {
		scheme, _, _ := strings.Cut(rr.Request.Header.Get("Authorization"), " ")
		if strings.EqualFold(scheme, "SSWS") {
			p, err := s.ssws.Authenticate(rr.Request)
			if err != nil {
				return fmt.Errorf("revoke presented API token: %w", err)
			}
			s.ssws.Revoke(p.ID)
			return nil
		}
	}
	if as == nil {
		return errNoAuthServer
	}
	switch {
	case rr.Target == fault.TargetKey:
		return as.RevokeKey(rr.ClientID, rr.KeyID)
	case rr.Target == fault.TargetApp:
		return as.DeactivateApp(rr.ClientID)
	case rr.ClientID != "":
		as.RevokeTokens(rr.ClientID)
		return nil
	case rr.Request != nil:
		return as.RevokePresented(rr.Request)
	}
	return errors.New("a token revocation needs clientId or a request presenting a token")
}

// rotateNonceForFault performs a DPoP nonce rotation fault.
func (s *Server) rotateNonceForFault(invalidate bool) {
	if as := s.authServer(); as != nil {
		as.RotateNonce(invalidate)
		return
	}
	s.log.Warn("fault: DPoP nonce rotation requested but the org has no OAuth authorization server")
}

// registerFaultControl mounts the injector's control API under /_sim/faults.
func (s *Server) registerFaultControl() {
	h := s.faults.ControlHandler()
	s.control.Handle(faultControlPrefix, h)
	s.control.Handle(faultControlPrefix+"/", h)
}

// Clock returns the org's clock as clients see it: the configured clock shifted by any active
// clock_skew fault. The Date header and the OAuth server (token lifetimes, proof iat windows) use
// it; the System Log keeps the configured clock so event visibility is not disturbed.
func (s *Server) Clock() Clock { return s.skewed }

// apiHandler puts the fault injector in front of the API.
func (s *Server) apiHandler() http.Handler { return s.faults.Handler(http.HandlerFunc(s.serveAPI)) }

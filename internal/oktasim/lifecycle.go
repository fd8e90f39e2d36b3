package oktasim

import (
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/idwatch/idwatch/internal/event"
)

// lifecycleOverlay is what the lifecycle API changed on a user. The directory's periodic
// refresh (SetUsers) reapplies it, so an admin's action sticks.
type lifecycleOverlay struct {
	status        string // "" when no status change was made
	statusChanged time.Time
	lastUpdated   time.Time
	factorsReset  bool
	sessions      SessionsClear // the last clear of the user's sessions (zero: never)
}

// SessionsClear records a DELETE /api/v1/users/{id}/sessions: when, and with which options.
type SessionsClear struct {
	At            time.Time
	OAuthTokens   bool
	ForgetDevices bool
}

// SessionsCleared returns the last clear of a user's sessions; ok is false when there was none.
func (s *Server) SessionsCleared(id string) (c SessionsClear, ok bool) {
	s.overlay.mu.Lock()
	defer s.overlay.mu.Unlock()
	c = s.overlay.by[id].sessions
	return c, !c.At.IsZero()
}

// overlays holds the lifecycle changes by user id. It is safe for concurrent use.
type overlays struct {
	mu sync.Mutex
	by map[string]lifecycleOverlay
}

// prepareUser applies the org's setup and lifecycle changes to a user from the directory.
func (s *Server) prepareUser(u User) User {
	var prof map[string]any
	for _, a := range adSchemaAttrs {
		if _, has := u.Profile[a]; has && !slices.Contains(s.schema, a) {
			if prof == nil {
				prof = maps.Clone(u.Profile)
			}
			delete(prof, a)
		}
	}
	if prof != nil {
		u.Profile = prof
	}
	s.overlay.mu.Lock()
	ov, ok := s.overlay.by[u.ID]
	s.overlay.mu.Unlock()
	if ok {
		u = ov.apply(u)
	}
	return u
}

func (ov lifecycleOverlay) apply(u User) User {
	if ov.status != "" {
		u.Status, u.StatusChanged = ov.status, ov.statusChanged
	}
	if ov.factorsReset {
		u.Factors = nil
	}
	if ov.lastUpdated.After(u.LastUpdated) {
		u.LastUpdated = ov.lastUpdated
	}
	return u
}

// registerLifecycle mounts the lifecycle and session endpoints of okta-api.md §5.3.
func (s *Server) registerLifecycle() {
	for op, spec := range lifecycleOps {
		s.HandleAPI(http.MethodPost, "/api/v1/users/{id}/lifecycle/"+op, PermUsersManage, s.lifecycleHandler(spec))
	}
	s.HandleAPI(http.MethodDelete, "/api/v1/users/{id}/sessions", PermSessionsManage, s.handleClearSessions)
}

// lifecycleOp is one lifecycle operation: which states it accepts, what it does, what it logs.
type lifecycleOp struct {
	allowed   func(status string) bool
	refusal   string // errorCauses text when the user's state does not allow the operation
	change    func(ov *lifecycleOverlay)
	eventType string
	message   string
	body      bool // answers with the User object
}

var lifecycleOps = map[string]lifecycleOp{
	"suspend": {allowed: func(st string) bool { return st == StatusActive }, refusal: "Cannot suspend a user that is not active",
		change: func(ov *lifecycleOverlay) { ov.status = StatusSuspended }, eventType: "user.lifecycle.suspend", message: "Suspend Okta user"},
	"unsuspend": {allowed: func(st string) bool { return st == StatusSuspended }, refusal: "Cannot unsuspend a user that is not suspended",
		change: func(ov *lifecycleOverlay) { ov.status = StatusActive }, eventType: "user.lifecycle.unsuspend", message: "Unsuspend Okta user"},
	"deactivate": {allowed: func(st string) bool { return st != StatusDeprovisioned }, refusal: "The user is already deactivated",
		change: func(ov *lifecycleOverlay) { ov.status = StatusDeprovisioned }, eventType: "user.lifecycle.deactivate", message: "Deactivate Okta user"},
	"reset_factors": {allowed: func(st string) bool { return st != StatusDeprovisioned }, refusal: "Cannot reset factors of a deactivated user",
		change: func(ov *lifecycleOverlay) { ov.factorsReset = true }, eventType: "user.mfa.factor.reset_all", message: "Reset all factors for user"},
	"expire_password": {allowed: func(st string) bool {
		return st == StatusActive || st == StatusPasswordExpired || st == StatusRecovery || st == StatusLockedOut
	}, refusal: "Cannot expire the password of a user in this status",
		change:    func(ov *lifecycleOverlay) { ov.status = StatusPasswordExpired },
		eventType: "user.account.expire_password", message: "Expire user password", body: true},
}

// errLifecycleState is Okta's 400 for an operation the user's status does not allow.
func errLifecycleState(cause string) *APIError {
	return newAPIError(http.StatusBadRequest, "E0000001", "Api validation failed: user", cause)
}

// lengthRequired answers 411 to a POST with neither a body nor Content-Length, as Okta's front end
// does; Okta's clients send "Content-Length: 0".
func lengthRequired(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Content-Length") != "" || len(r.TransferEncoding) > 0 || r.ContentLength > 0 {
		return false
	}
	http.Error(w, "Length Required", http.StatusLengthRequired)
	return true
}

func (s *Server) lifecycleHandler(op lifecycleOp) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if lengthRequired(w, r) {
			return
		}
		u, ok := s.userOr404(w, r)
		if !ok {
			return
		}
		updated, apiErr := s.changeUser(u.ID, op)
		if apiErr != nil {
			writeAPIError(w, apiErr)
			return
		}
		s.logAdminAction(w, r, op.eventType, op.message, updated)
		if op.body {
			writeJSON(w, http.StatusOK, updated.object(s.baseURL(r)))
			return
		}
		w.WriteHeader(http.StatusOK)
	}
}

// changeUser checks the precondition and applies op to the stored user and its overlay.
func (s *Server) changeUser(id string, op lifecycleOp) (User, *APIError) {
	st := s.users
	st.mu.Lock()
	defer st.mu.Unlock()
	e, ok := st.byID[id]
	if !ok {
		return User{}, errNotFound("User")
	}
	if !op.allowed(e.user.Status) {
		return User{}, errLifecycleState(op.refusal + " (status " + e.user.Status + ").")
	}
	now := s.clock.Now()
	s.overlay.mu.Lock()
	ov := s.overlay.by[id]
	op.change(&ov)
	if ov.status != "" && ov.status != e.user.Status {
		ov.statusChanged = now
	}
	ov.lastUpdated = now
	s.overlay.by[id] = ov
	s.overlay.mu.Unlock()
	u := ov.apply(e.user)
	u.LastUpdated = now
	ne, err := newUserEntry(u)
	if err != nil {
		return User{}, errInternal()
	}
	*e = *ne
	return u, nil
}

// handleClearSessions serves DELETE /api/v1/users/{id}/sessions?oauthTokens=: 204 and
// user.session.clear. The simulator keeps no end-user sessions; it records the clear and its
// options (SessionsCleared) besides writing the event.
func (s *Server) handleClearSessions(w http.ResponseWriter, r *http.Request) {
	u, ok := s.userOr404(w, r)
	if !ok {
		return
	}
	// Okta's defaults: OAuth tokens stay, remembered devices are forgotten.
	opts := map[string]bool{"oauthTokens": false, "forgetDevices": true}
	for _, param := range []string{"oauthTokens", "forgetDevices"} {
		if v := r.URL.Query().Get(param); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				writeAPIError(w, errValidation(param, "must be true or false, got "+strconv.Quote(v)))
				return
			}
			opts[param] = b
		}
	}
	s.overlay.mu.Lock()
	ov := s.overlay.by[u.ID]
	ov.sessions = SessionsClear{At: s.clock.Now(), OAuthTokens: opts["oauthTokens"], ForgetDevices: opts["forgetDevices"]}
	s.overlay.by[u.ID] = ov
	s.overlay.mu.Unlock()
	s.logAdminAction(w, r, "user.session.clear", "Clear user session", u)
	w.WriteHeader(http.StatusNoContent)
}

// requestActor returns the System Log actor and client of an API request. An SSWS token acts as
// its admin. For an OAuth service app Okta does not document the actor; oktasim records the app
// itself (type PublicClientApp, id = client id), which is what client.id carries too.
func requestActor(r *http.Request, p Principal) (*event.Actor, *event.Client) {
	actor := &event.Actor{ID: p.ID, Type: "PublicClientApp", AlternateID: p.ID, DisplayName: p.Name}
	clientID := p.ID
	if p.Kind == PrincipalToken {
		actor = &event.Actor{ID: p.AdminID, Type: "User", AlternateID: p.AdminID, DisplayName: p.Name}
		clientID = ""
	}
	if actor.DisplayName == "" {
		actor.DisplayName = actor.ID
	}
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	return actor, &event.Client{ID: clientID, IPAddress: ip, Zone: "null", Device: "Unknown",
		UserAgent: &event.UserAgent{RawUserAgent: r.UserAgent(), OS: "Unknown", Browser: "UNKNOWN"}}
}

// logAdminAction writes the System Log event of an admin action on a user.
func (s *Server) logAdminAction(w http.ResponseWriter, r *http.Request, eventType, message string, u User) {
	p, _ := PrincipalFrom(r.Context())
	actor, client := requestActor(r, p)
	if p.Kind == PrincipalToken {
		if admin, ok := s.users.findUser(p.AdminID); ok {
			actor.AlternateID, _ = admin.Profile["login"].(string)
			first, _ := admin.Profile["firstName"].(string)
			last, _ := admin.Profile["lastName"].(string)
			actor.DisplayName = first + " " + last
		}
	}
	tx := &event.Transaction{Type: "WEB", ID: w.Header().Get("X-Okta-Request-Id")}
	if p.Kind == PrincipalToken {
		tx.Detail = map[string]any{"requestApiTokenId": p.ID}
	}
	login, _ := u.Profile["login"].(string)
	first, _ := u.Profile["firstName"].(string)
	last, _ := u.Profile["lastName"].(string)
	ev := &event.LogEvent{UUID: newUUID(), Published: s.clock.Now(), EventType: eventType, Version: "0", Severity: "INFO",
		DisplayMessage: message, Actor: actor, Client: client, Outcome: &event.Outcome{Result: "SUCCESS"}, Transaction: tx,
		DebugContext: &event.DebugContext{DebugData: map[string]any{"requestUri": r.URL.Path, "url": r.URL.RequestURI(),
			"requestId": tx.ID}},
		Target: []event.Target{{ID: u.ID, Type: "User", AlternateID: login, DisplayName: first + " " + last}}}
	if err := s.Append(ev); err != nil {
		s.log.Error("write admin action event", "eventType", eventType, "err", err)
	}
}

package console

import (
	"errors"
	"net/http"
	"strings"
)

// cookieName is the session cookie; it holds only a random session id.
const cookieName = "idwatch_session"

// maxKeyLen bounds the key field: API keys are short, and the form must not take a large body.
const maxKeyLen = 512

func (c *console) principal(r *http.Request) (Principal, bool) {
	ck, err := r.Cookie(cookieName)
	if err != nil {
		return Principal{}, false
	}
	return c.sessions.get(ck.Value)
}

func (c *console) setCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	path := c.o.BasePath
	if path == "" {
		path = "/"
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, Secure: r.TLS != nil || c.o.SecureCookies, SameSite: http.SameSiteStrictMode})
}

func (c *console) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := c.principal(r); ok {
		http.Redirect(w, r, c.url("/integrations"), http.StatusSeeOther)
		return
	}
	c.render(w, r, http.StatusOK, "login", "", view{Title: "Sign in"})
}

func (c *console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	key := strings.TrimSpace(r.PostFormValue("key"))
	bad := func(status int, e *Error) {
		c.render(w, r, status, "login", "", view{Title: "Sign in", Err: e})
	}
	if key == "" || len(key) > maxKeyLen {
		bad(http.StatusBadRequest, &Error{Message: "Enter an API key", Field: "key",
			Fix: "Paste a key printed by 'idwatch apikeys create --name NAME --role viewer|analyst|admin' (or the first-start admin key)."})
		return
	}
	addr, now := c.o.ClientAddr(r), c.o.Now()
	if c.logins.blocked(addr, now) {
		c.log.Warn("console: sign-in refused: too many failed attempts", "remote", addr)
		w.Header().Set("Retry-After", "60")
		bad(http.StatusTooManyRequests, &Error{Message: "Too many failed sign-ins from your address", Field: "key",
			Fix: "Wait a minute and try again with the whole key; each address may fail ten times, then once every six seconds."})
		return
	}
	p, err := c.b.Authenticate(r.Context(), key)
	if err == nil && !p.Role.Valid() {
		err = ErrUnauthenticated
	}
	if errors.Is(err, ErrUnauthenticated) {
		c.logins.failed(addr, now)
	}
	if err != nil {
		if !errors.Is(err, ErrUnauthenticated) {
			c.log.Error("console: authenticate", "err", err)
			bad(http.StatusInternalServerError, &Error{Message: "Sign-in failed", Fix: "The server log has the details; try again shortly."})
			return
		}
		c.log.Warn("console: sign-in refused", "remote", addr)
		bad(http.StatusUnauthorized, &Error{Message: "That key is unknown or revoked", Field: "key",
			Fix: "Check you pasted the whole key; an admin can list keys with 'idwatch apikeys list' and create one with 'idwatch apikeys create'."})
		return
	}
	// Any session id the browser held before is replaced, so a planted id cannot be signed in.
	if ck, err := r.Cookie(cookieName); err == nil {
		c.sessions.delete(ck.Value)
	}
	c.setCookie(w, r, c.sessions.create(p), 0)
	c.log.Info("console: signed in", "key", p.Name, "role", p.Role)
	http.Redirect(w, r, c.url("/integrations"), http.StatusSeeOther)
}

func (c *console) logout(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(cookieName); err == nil {
		c.sessions.delete(ck.Value)
	}
	c.setCookie(w, r, "", -1)
	http.Redirect(w, r, c.url("/login"), http.StatusSeeOther)
}

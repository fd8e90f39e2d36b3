package okta

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/idwatch/idwatch/internal/clock"
)

// fakeOkta is a small Okta org for these tests: SSWS tokens, the org authorization server with
// private_key_jwt and DPoP (nonces, ath, jkt binding, jti replay), per-bucket rate limits with
// rolling windows that start at the first request, and the endpoints the client calls. Its clock
// is the test's Manual clock plus an optional skew.
type fakeOkta struct {
	t   *testing.T
	clk *clock.Manual
	srv *httptest.Server

	mu   sync.Mutex
	skew time.Duration

	apiToken string

	clientID    string
	kid         string
	pub         crypto.PublicKey
	dpopMode    bool   // the app requires DPoP
	asNonce     string // token endpoint nonce ("" = none required)
	rsNonce     string // resource nonce ("" = none required)
	tokenLife   time.Duration
	tokens      map[string]fakeToken
	seenJTI     map[string]bool
	tokenCalls  []fakeTokenCall
	scopes      []string
	proofsByJTI []string

	limits  map[string]int
	windows map[string]*fakeWindow
	counts  map[string][]int // our requests per closed+open window, per bucket
	n429    int
	conc429 int // next N requests answer a concurrency 429

	requests []*http.Request
	hook     func(w http.ResponseWriter, r *http.Request) bool // fault injection; true = handled
	logs     func(w http.ResponseWriter, r *http.Request)
}

type fakeToken struct {
	jkt string
	exp time.Time
}

type fakeTokenCall struct {
	hadProof bool
	nonce    string
	status   int
}

type fakeWindow struct {
	start, end time.Time
	used       int
}

func newFakeOkta(t *testing.T, clk *clock.Manual) *fakeOkta {
	f := &fakeOkta{t: t, clk: clk, apiToken: "ssws-test-token", tokenLife: time.Hour,
		tokens: map[string]fakeToken{}, seenJTI: map[string]bool{},
		limits:  map[string]int{BucketLogs: 120, BucketUsers: 600, BucketUser: 2000, BucketUserWrite: 600, BucketAPI: 1200, BucketToken: 600},
		windows: map[string]*fakeWindow{}, counts: map[string][]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOkta) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.clk.Now().Add(f.skew)
}

// withServiceApp registers an RSA service app and returns its PEM private key.
func (f *fakeOkta) withServiceApp(dpop bool) *rsa.PrivateKey {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.t.Fatal(err)
	}
	f.clientID, f.kid, f.pub, f.dpopMode = "0oaTESTCLIENT", "kid-1", key.Public(), dpop
	return key
}

func (f *fakeOkta) serve(w http.ResponseWriter, r *http.Request) {
	now := f.now()
	w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
	w.Header().Set("X-Okta-Request-Id", "req-"+rand.Text()[:8])
	f.mu.Lock()
	f.requests = append(f.requests, r.Clone(context.Background()))
	hook := f.hook
	f.mu.Unlock()
	if !f.rateLimit(w, r, now) {
		return
	}
	if hook != nil && hook(w, r) {
		return
	}
	if r.URL.Path == tokenPath {
		f.token(w, r, now)
		return
	}
	if !f.authorize(w, r, now) {
		return
	}
	f.route(w, r)
}

// rateLimit applies the bucket's rolling window and writes the X-Rate-Limit headers.
func (f *fakeOkta) rateLimit(w http.ResponseWriter, r *http.Request, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := BucketFor(r.Method, r.URL.Path)
	if f.conc429 > 0 {
		f.conc429--
		f.n429++
		w.Header().Set("X-Rate-Limit-Limit", "0")
		w.Header().Set("X-Rate-Limit-Remaining", "0")
		w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(now.Add(3*time.Second).Unix(), 10))
		writeErr(w, 429, `{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests.","errorId":"oae1","errorCauses":[]}`)
		return false
	}
	win := f.windows[key]
	if win == nil || !now.Before(win.end) {
		win = &fakeWindow{start: now, end: now.Add(time.Minute)}
		f.windows[key] = win
		f.counts[key] = append(f.counts[key], 0)
	}
	limit := f.limits[key]
	reset := int64(math.Ceil(float64(win.end.UnixNano()) / 1e9))
	w.Header().Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(reset, 10))
	if win.used >= limit {
		f.n429++
		w.Header().Set("X-Rate-Limit-Remaining", "0")
		writeErr(w, 429, `{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests.","errorId":"oae1","errorCauses":[]}`)
		return false
	}
	win.used++
	f.counts[key][len(f.counts[key])-1]++
	w.Header().Set("X-Rate-Limit-Remaining", strconv.Itoa(limit-win.used))
	return true
}

// external spends n requests of a bucket's current window as another tool would.
func (f *fakeOkta) external(key string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.clk.Now().Add(f.skew)
	win := f.windows[key]
	if win == nil || !now.Before(win.end) {
		win = &fakeWindow{start: now, end: now.Add(time.Minute)}
		f.windows[key] = win
		f.counts[key] = append(f.counts[key], 0)
	}
	win.used += n
}

func writeErr(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func oauthErr(w http.ResponseWriter, status int, code, desc string) {
	writeErr(w, status, fmt.Sprintf(`{"error":%q,"error_description":%q}`, code, desc))
}

// checkProof validates a DPoP proof; it returns the JWK thumbprint, or writes the error.
func (f *fakeOkta) checkProof(w http.ResponseWriter, r *http.Request, now time.Time, token, nonce string, resource bool) (string, bool) {
	fail := func(code, desc string) (string, bool) {
		if resource {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`DPoP algs="ES256", error=%q, error_description=%q`, code, desc))
			status := 400
			if code == "use_dpop_nonce" {
				status = 401
			}
			writeErr(w, status, "")
			return "", false
		}
		oauthErr(w, 400, code, desc)
		return "", false
	}
	hdrs := r.Header.Values("DPoP")
	if len(hdrs) != 1 {
		return fail("invalid_dpop_proof", "The DPoP proof JWT header is missing.")
	}
	jws, err := jose.ParseSigned(hdrs[0], []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		return fail("invalid_dpop_proof", "unparseable")
	}
	h := jws.Signatures[0].Header
	if h.ExtraHeaders["typ"] != "dpop+jwt" || h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() {
		return fail("invalid_dpop_proof", "bad header")
	}
	payload, err := jws.Verify(h.JSONWebKey.Key)
	if err != nil {
		return fail("invalid_dpop_proof", "bad signature")
	}
	var c dpopClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return fail("invalid_dpop_proof", "bad claims")
	}
	if c.HTM != r.Method || c.HTU != "http://"+r.Host+r.URL.Path {
		return fail("invalid_dpop_proof", "'htu' or 'htm' claim is invalid: "+c.HTU)
	}
	if d := now.Sub(time.Unix(c.IAT, 0)); d > 5*time.Minute || d < -time.Minute {
		return fail("invalid_dpop_proof", "The DPoP proof JWT is too old.")
	}
	f.mu.Lock()
	replay := f.seenJTI["dpop:"+c.JTI]
	f.seenJTI["dpop:"+c.JTI] = true
	f.proofsByJTI = append(f.proofsByJTI, c.JTI)
	f.mu.Unlock()
	if replay {
		return fail("invalid_dpop_proof", "The DPoP proof JWT has already been used.")
	}
	if resource && c.ATH != AccessTokenHash(token) {
		return fail("invalid_dpop_proof", "'ath' claim does not match the presented access_token")
	}
	if nonce != "" && c.Nonce != nonce {
		w.Header().Set("DPoP-Nonce", nonce)
		return fail("use_dpop_nonce", "Authorization server requires nonce in DPoP proof.")
	}
	tp, _ := h.JSONWebKey.Thumbprint(crypto.SHA256)
	return b64(tp), true
}

func (f *fakeOkta) token(w http.ResponseWriter, r *http.Request, now time.Time) {
	_ = r.ParseForm()
	f.mu.Lock()
	asNonce, dpopMode := f.asNonce, f.dpopMode
	f.mu.Unlock()
	rec := fakeTokenCall{hadProof: r.Header.Get("DPoP") != ""}
	defer func() {
		f.mu.Lock()
		f.tokenCalls = append(f.tokenCalls, rec)
		f.mu.Unlock()
	}()
	jkt := ""
	if dpopMode {
		var ok bool
		if jkt, ok = f.checkProof(w, r, now, "", asNonce, false); !ok {
			rec.status = 400
			return
		}
	}
	jws, err := jose.ParseSigned(r.PostForm.Get("client_assertion"), []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil || r.PostForm.Get("client_assertion_type") != assertionType || r.PostForm.Get("grant_type") != "client_credentials" {
		rec.status = 401
		oauthErr(w, 401, "invalid_client", "client_assertion_invalid_jwt")
		return
	}
	if jws.Signatures[0].Header.KeyID != f.kid {
		rec.status = 401
		oauthErr(w, 401, "invalid_client", "The client_assertion token has an invalid kid.")
		return
	}
	payload, err := jws.Verify(f.pub)
	if err != nil {
		rec.status = 401
		oauthErr(w, 401, "invalid_client", "The client_assertion signature is invalid.")
		return
	}
	var cl struct {
		Iss, Sub, Aud, Jti string
		Iat, Exp           int64
	}
	_ = json.Unmarshal(payload, &cl)
	switch {
	case cl.Iss != f.clientID || cl.Sub != f.clientID:
		rec.status = 401
		oauthErr(w, 401, "invalid_client", "client_assertion_invalid_issuer")
		return
	case cl.Aud != "http://"+r.Host+tokenPath:
		rec.status = 401
		oauthErr(w, 401, "invalid_client", "The audience must be the endpoint invoked for the request.")
		return
	case cl.Exp-cl.Iat > 300 || time.Unix(cl.Exp, 0).Before(now) || time.Unix(cl.Iat, 0).After(now.Add(time.Minute)):
		rec.status = 401
		oauthErr(w, 401, "invalid_client", "client_assertion_expired_token or issued in the future")
		return
	}
	f.mu.Lock()
	replay := f.seenJTI["as:"+cl.Jti]
	f.seenJTI["as:"+cl.Jti] = true
	f.scopes = strings.Fields(r.PostForm.Get("scope"))
	tok := "at-" + rand.Text()
	f.tokens[tok] = fakeToken{jkt: jkt, exp: now.Add(f.tokenLife)}
	life := f.tokenLife
	f.mu.Unlock()
	if replay {
		rec.status = 401
		oauthErr(w, 401, "invalid_client", "client_assertion_already_used")
		return
	}
	typ := "Bearer"
	if dpopMode {
		typ = "DPoP"
	}
	rec.status = 200
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"token_type": typ, "expires_in": int(life / time.Second), "access_token": tok, "scope": r.PostForm.Get("scope")})
}

func (f *fakeOkta) authorize(w http.ResponseWriter, r *http.Request, now time.Time) bool {
	auth := r.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(auth, " ")
	switch scheme {
	case "SSWS":
		if cred != f.apiToken {
			writeErr(w, 401, `{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorLink":"E0000011","errorId":"oaeTOKEN","errorCauses":[]}`)
			return false
		}
		return true
	case "DPoP", "Bearer":
		f.mu.Lock()
		tok, ok := f.tokens[cred]
		rsNonce := f.rsNonce
		f.mu.Unlock()
		if !ok || !now.Before(tok.exp) {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="The access token is invalid."`)
			writeErr(w, 401, `{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorId":"oaeEXP","errorCauses":[]}`)
			return false
		}
		if tok.jkt == "" {
			return scheme == "Bearer"
		}
		if scheme != "DPoP" {
			oauthErr(w, 400, "invalid_request", "dpop_authentication_scheme_required")
			return false
		}
		jkt, ok := f.checkProof(w, r, now, cred, rsNonce, true)
		if !ok {
			return false
		}
		if jkt != tok.jkt {
			oauthErr(w, 400, "invalid_dpop_proof", "invalid_access_token_dpop_binding")
			return false
		}
		return true
	}
	writeErr(w, 401, `{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorId":"oaeNONE","errorCauses":[]}`)
	return false
}

func (f *fakeOkta) route(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.URL.Path == "/api/v1/logs" && f.logs != nil:
		f.logs(w, r)
	case r.URL.Path == "/api/v1/logs":
		self := f.srv.URL + r.URL.RequestURI()
		w.Header().Add("Link", "<"+self+">; rel=\"self\"")
		w.Header().Add("Link", "<"+self+">; rel=\"next\"")
		_, _ = io.WriteString(w, "[]")
	default:
		writeErr(w, 404, `{"errorCode":"E0000007","errorSummary":"Not found: Resource not found: x (User)","errorId":"oae404","errorCauses":[]}`)
	}
}

// countsPerWindow returns how many of this client's requests each window of a bucket admitted.
func (f *fakeOkta) countsPerWindow(key string) []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.counts[key]...)
}

func (f *fakeOkta) requestLog() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.requests...)
}

// drive runs fn while advancing clk to each pending timer, so waits complete without real
// sleeping; it fails the test after a real-time deadline.
func drive[T any](t *testing.T, clk *clock.Manual, fn func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- fn() }()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for {
		ctx, cancel := context.WithCancel(context.Background())
		pending := make(chan struct{})
		go func() {
			if clk.WaitForTimers(ctx, 1) == nil {
				close(pending)
			}
		}()
		select {
		case v := <-done:
			cancel()
			return v
		case <-pending:
			if d, ok := clk.NextTimer(); ok {
				clk.Advance(d)
			}
		case <-deadline.C:
			cancel()
			t.Fatal("drive: timed out waiting for the call to finish")
		}
		cancel()
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

package oktasim

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/oktasim/fault"
)

// runningSim starts a simulation with an hour of history on a loopback port and stops it when
// the test ends.
func runningSim(t *testing.T, mod func(*SimConfig)) (*Simulation, *clock.Manual) {
	t.Helper()
	clock := clock.NewManual(t0)
	world := testWorld{&stepWorkforce{last: t0.Add(-time.Hour)}, &fakeStories{}}
	cfg := SimConfig{Listen: "127.0.0.1:0", History: time.Hour, Tick: time.Hour}
	if mod != nil {
		mod(&cfg)
	}
	sim, ln, err := StartSim(cfg, world, clock, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sim.Serve(ctx, cfg, world, ln, clock, discardLogger()) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return sim, clock
}

// tokenClient is the project's Okta client on the sim's API token, without retries so each
// fault shows on the first attempt.
func tokenClient(t *testing.T, sim *Simulation, mod func(*okta.Config)) *okta.Client {
	t.Helper()
	cfg := okta.Config{OrgURL: sim.Info.OrgURL, Logger: discardLogger(), Retry: okta.RetryConfig{MaxRetries: -1},
		Credentials: okta.Credentials{APIToken: okta.Secret(sim.Info.APIToken)}}
	if mod != nil {
		mod(&cfg)
	}
	c, err := okta.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// appClient is the project's Okta client on the sim's DPoP service app.
func appClient(t *testing.T, sim *Simulation, scopes ...string) *okta.Client {
	t.Helper()
	app := sim.Info.ServiceApp
	c, err := okta.New(okta.Config{OrgURL: sim.Info.OrgURL, Logger: discardLogger(), Retry: okta.RetryConfig{MaxRetries: -1},
		Credentials: okta.Credentials{ServiceApp: &okta.ServiceApp{ClientID: app.ClientID, KeyID: app.KeyID,
			PrivateKey: okta.Secret(app.PrivateKeyPEM), Scopes: scopes}}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func addFault(t *testing.T, sim *Simulation, spec string) {
	t.Helper()
	r, err := fault.ParseRule(spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sim.Server.Faults().Add(r); err != nil {
		t.Fatal(err)
	}
}

func readLogs(c *okta.Client, since time.Time) (*okta.Page, error) {
	u, err := c.LogsURL(okta.LogsQuery{Since: since, Limit: 5})
	if err != nil {
		return nil, err
	}
	return c.Logs(context.Background(), u)
}

// rawGet calls the sim with the API token and decodes an Okta error body, if any.
func rawGet(t *testing.T, sim *Simulation, path string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, sim.Info.OrgURL+path, nil)
	req.Header.Set("Authorization", "SSWS "+sim.Info.APIToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp, body
}

func wantKind(t *testing.T, err error, kind okta.ErrorKind, status int) *okta.APIError {
	t.Helper()
	var apiErr *okta.APIError
	if !errors.As(err, &apiErr) || apiErr.Kind != kind || apiErr.Status != status {
		t.Fatalf("err = %v, want %v with status %d", err, kind, status)
	}
	return apiErr
}

func TestFaultServerError(t *testing.T) {
	sim, _ := runningSim(t, func(c *SimConfig) {
		r, _ := fault.ParseRule("kind=status,status=503,path=/api/v1/logs,count=1")
		c.Server.Faults = []fault.Rule{r}
	})
	c := tokenClient(t, sim, nil)
	_, err := readLogs(c, t0.Add(-time.Hour))
	wantKind(t, err, okta.KindServer, 503)
	if _, err := readLogs(c, t0.Add(-time.Hour)); err != nil {
		t.Fatalf("the count-limited fault did not end: %v", err)
	}
}

func TestFaultSlowOutlastsClientTimeout(t *testing.T) {
	sim, _ := runningSim(t, nil)
	addFault(t, sim, "kind=slow,delay=1h,path=/api/v1/logs")
	c := tokenClient(t, sim, func(cfg *okta.Config) { cfg.Retry.AttemptTimeout = 100 * time.Millisecond })
	_, err := readLogs(c, t0.Add(-time.Hour))
	if err == nil || !strings.Contains(err.Error(), "timeout") && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a timeout", err)
	}
}

func TestFaultBrokenPagesAreMalformed(t *testing.T) {
	for _, kind := range []string{"truncate", "malformed"} {
		t.Run(kind, func(t *testing.T) {
			sim, _ := runningSim(t, nil)
			addFault(t, sim, "kind="+kind+",path=/api/v1/logs,count=1")
			c := tokenClient(t, sim, nil)
			if _, err := readLogs(c, t0.Add(-time.Hour)); !errors.Is(err, okta.ErrMalformedPage) {
				t.Fatalf("err = %v, want ErrMalformedPage", err)
			}
			if p, err := readLogs(c, t0.Add(-time.Hour)); err != nil || len(p.Items) != 5 {
				t.Fatalf("after the fault: %v", err)
			}
		})
	}
}

func TestFaultRevokedAPIToken(t *testing.T) {
	sim, _ := runningSim(t, nil)
	addFault(t, sim, "kind=revoke,target=token,path=/api/v1/users,count=1")
	resp, body := rawGet(t, sim, "/api/v1/users")
	if resp.StatusCode != 401 || body["errorCode"] != "E0000011" {
		t.Fatalf("revoking call: %d %v", resp.StatusCode, body)
	}
	// The revocation outlives the fault.
	wantKind(t, func() error { _, err := readLogs(tokenClient(t, sim, nil), t0.Add(-time.Hour)); return err }(), okta.KindInvalidToken, 401)
}

func TestFaultRevokedAccessTokenIsRenewed(t *testing.T) {
	sim, _ := runningSim(t, nil)
	c := appClient(t, sim, "okta.logs.read")
	if _, err := readLogs(c, t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	after := uint64(len(sim.Server.RequestLog(0)))
	addFault(t, sim, "kind=revoke,target=token,path=/api/v1/logs,count=1")
	if _, err := readLogs(c, t0.Add(-time.Hour)); err != nil {
		t.Fatalf("client did not recover with a new token: %v", err)
	}
	var got []string
	for _, r := range sim.Server.RequestLog(after) {
		got = append(got, r.Method+" "+r.Path+" "+http.StatusText(r.Status))
	}
	want := "GET /api/v1/logs Unauthorized|POST /oauth2/v1/token OK|GET /api/v1/logs OK"
	if strings.Join(got, "|") != want {
		t.Fatalf("requests %q, want %q", got, want)
	}
}

func TestFaultRevokedKey(t *testing.T) {
	sim, _ := runningSim(t, nil)
	addFault(t, sim, "kind=revoke,target=key,clientId="+sim.Info.ServiceApp.ClientID+",keyId="+sim.Info.ServiceApp.KeyID+",path=/oauth2/v1/token,count=1")
	_, err := readLogs(appClient(t, sim, "okta.logs.read"), t0.Add(-time.Hour))
	e := wantKind(t, err, okta.KindInvalidClient, 401)
	if e.OAuthError != "invalid_client" {
		t.Fatalf("oauth error %q", e.OAuthError)
	}
}

func TestFaultClockSkewInDate(t *testing.T) {
	sim, clock := runningSim(t, nil)
	addFault(t, sim, "kind=clock_skew,skew=-7m")
	resp, _ := rawGet(t, sim, "/api/v1/users")
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil || !date.Equal(clock.Now().Add(-7*time.Minute).Truncate(time.Second)) {
		t.Fatalf("Date %q (%v), want 7 minutes behind %v", resp.Header.Get("Date"), err, clock.Now())
	}
	if got := sim.Server.Clock().Now(); !got.Equal(clock.Now().Add(-7 * time.Minute)) {
		t.Fatalf("server clock %v", got)
	}
}

func TestFaultRateLimitStorm(t *testing.T) {
	sim, clock := runningSim(t, nil)
	addFault(t, sim, "kind=rate_limit,path=/api/v1/logs,count=3,limit=120,reset=30s")
	for i := range 3 {
		resp, body := rawGet(t, sim, "/api/v1/logs")
		h := resp.Header
		if resp.StatusCode != 429 || body["errorCode"] != "E0000047" || h.Get("X-Rate-Limit-Limit") != "120" ||
			h.Get("X-Rate-Limit-Remaining") != "0" || h.Get("X-Rate-Limit-Reset") != itoa(clock.Now().Add(30*time.Second).Unix()) {
			t.Fatalf("call %d: %d %v %v", i, resp.StatusCode, h, body)
		}
	}
	if resp, _ := rawGet(t, sim, "/api/v1/logs"); resp.StatusCode != 200 {
		t.Fatalf("after the storm: %d", resp.StatusCode)
	}
}

func TestFaultConcurrencyLimit(t *testing.T) {
	sim, clock := runningSim(t, nil)
	addFault(t, sim, "kind=concurrency_limit,path=/api/v1/users,count=1")
	resp, body := rawGet(t, sim, "/api/v1/users")
	h := resp.Header
	if resp.StatusCode != 429 || body["errorCode"] != "E0000047" || h.Get("X-Rate-Limit-Limit") != "0" ||
		h.Get("X-Rate-Limit-Remaining") != "0" || h.Get("X-Rate-Limit-Reset") != itoa(clock.Now().Add(5*time.Second).Unix()) {
		t.Fatalf("%d %v %v", resp.StatusCode, h, body)
	}
}

func TestFaultNonceRotationClientRetries(t *testing.T) {
	sim, _ := runningSim(t, nil)
	c := appClient(t, sim, "okta.logs.read")
	if _, err := readLogs(c, t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	after := uint64(len(sim.Server.RequestLog(0)))
	// Force a token renewal, and rotate the nonce (ending the old one) as it is requested.
	addFault(t, sim, "kind=revoke,target=token,clientId="+sim.Info.ServiceApp.ClientID+",path=/api/v1/logs,count=1")
	addFault(t, sim, "kind=dpop_nonce_rotation,invalidate=true,path=/oauth2/v1/token,count=1")
	if _, err := readLogs(c, t0.Add(-time.Hour)); err != nil {
		t.Fatalf("client did not retry with the new nonce: %v", err)
	}
	var tokenCalls []int
	for _, r := range sim.Server.RequestLog(after) {
		if r.Path == "/oauth2/v1/token" {
			tokenCalls = append(tokenCalls, r.Status)
		}
	}
	if len(tokenCalls) != 2 || tokenCalls[0] != 400 || tokenCalls[1] != 200 {
		t.Fatalf("token calls %v, want the nonce challenge then success", tokenCalls)
	}
}

func TestFaultControlAPI(t *testing.T) {
	sim, _ := runningSim(t, nil)
	do := func(method, body string) *http.Response {
		req, _ := http.NewRequest(method, sim.Info.OrgURL+"/_sim/faults", strings.NewReader(body))
		req.Header.Set(ControlKeyHeader, sim.ControlKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := do(http.MethodPost, `{"kind":"status","status":500}`); r.StatusCode != 201 {
		t.Fatalf("add: %d", r.StatusCode)
	}
	// Every API path fails, the control path does not.
	if resp, body := rawGet(t, sim, "/api/v1/users"); resp.StatusCode != 500 || body["errorCode"] != "E0000009" {
		t.Fatalf("faulted call: %d %v", resp.StatusCode, body)
	}
	if r := do(http.MethodDelete, ""); r.StatusCode != 204 {
		t.Fatalf("clear: %d", r.StatusCode)
	}
	if resp, _ := rawGet(t, sim, "/api/v1/users"); resp.StatusCode != 200 {
		t.Fatalf("after clear: %d", resp.StatusCode)
	}
	if r := do(http.MethodPost, `{"kind":"nope"}`); r.StatusCode != 400 {
		t.Fatalf("bad rule: %d", r.StatusCode)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestFaultRevokedApp(t *testing.T) {
	sim, _ := runningSim(t, nil)
	c := appClient(t, sim, "okta.logs.read")
	if _, err := readLogs(c, t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Deactivating the app ends its tokens: the client's renewal is refused as invalid_client.
	addFault(t, sim, "kind=revoke,target=app,clientId="+sim.Info.ServiceApp.ClientID+",path=/api/v1/logs,count=1")
	_, err := readLogs(c, t0.Add(-time.Hour))
	if e := wantKind(t, err, okta.KindInvalidClient, 401); e.OAuthError != "invalid_client" {
		t.Fatalf("oauth error %q", e.OAuthError)
	}
}

func TestFaultClockSkewReachesOAuth(t *testing.T) {
	sim, _ := runningSim(t, nil)
	c := appClient(t, sim, "okta.logs.read")
	if _, err := readLogs(c, t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	after := uint64(len(sim.Server.RequestLog(0)))
	// Two hours ahead, the org considers the client's token expired; the client, which follows the
	// server's Date, renews it and carries on.
	addFault(t, sim, "kind=clock_skew,skew=2h")
	if _, err := readLogs(c, t0.Add(-time.Hour)); err != nil {
		t.Fatalf("client did not recover from the skew: %v", err)
	}
	reqs := sim.Server.RequestLog(after)
	if len(reqs) < 3 || reqs[0].Status != http.StatusUnauthorized || reqs[len(reqs)-1].Status != http.StatusOK {
		t.Fatalf("requests %+v, want the expired token refused, then a renewal and success", reqs)
	}
}

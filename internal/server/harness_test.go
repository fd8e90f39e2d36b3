package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/oktasim/scenario"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// syncBuffer is a log sink safe for concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// env is one API test's world: a real SQLite store, oktasim over loopback, the server behind
// httptest, a key per role, and a record of every response body for the secret scan.
type env struct {
	t      *testing.T
	srv    *Server
	ts     *httptest.Server
	st     *sqlite.Store
	dbPath string
	logs   *syncBuffer
	keys   map[store.Role]string
	sim    *oktasim.Simulation
	val    validator.Validator

	mu     sync.Mutex
	bodies []string
}

var roles = []store.Role{store.RoleViewer, store.RoleAnalyst, store.RoleAdmin}

func newEnv(t *testing.T, mutate ...func(*Options)) *env {
	t.Helper()
	e := &env{t: t, logs: &syncBuffer{}, keys: map[store.Role]string{}}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	keys, err := secret.NewKeyring(bytes.Repeat([]byte{7}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	e.dbPath = filepath.Join(t.TempDir(), "idwatch.db")
	e.st, err = sqlite.Open(t.Context(), sqlite.Options{Path: e.dbPath, Sealer: keys, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.st.Close() })
	e.sim = startSim(t)
	govs, err := okta.NewGovernorSet(okta.GovernorConfig{Share: 0.5, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ready := NewReadiness()
	ready.SetPing(func(ctx context.Context) error { _, err := e.st.SchemaVersion(ctx); return err })
	ready.Set("collect", true, "")
	opts := Options{Store: e.st, Logger: log, Ready: ready, Version: "test",
		Verifier: &collect.Verifier{Logger: log, Governors: govs}, Clients: &collect.Clients{Governors: govs, Logger: log}}
	for _, m := range mutate {
		m(&opts)
	}
	e.srv, err = New(opts)
	if err != nil {
		t.Fatal(err)
	}
	e.ts = httptest.NewServer(e.srv.Handler())
	t.Cleanup(e.ts.Close)
	t.Cleanup(e.srv.backfill.cancelAll)
	t.Cleanup(e.srv.backfill.wait)
	for _, r := range roles {
		key, _, err := CreateKey(t.Context(), e.st, "test-"+string(r), r)
		if err != nil {
			t.Fatal(err)
		}
		e.keys[r] = key
	}
	doc, err := OpenAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	d, err := libopenapi.NewDocument(doc)
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(d)
	if len(errs) > 0 {
		t.Fatalf("OpenAPI document: %v", errs)
	}
	e.val = v
	return e
}

func startSim(t *testing.T) *oktasim.Simulation {
	t.Helper()
	clk := clock.System{}
	world, err := oktasim.NewScenarioWorld(scenario.Config{Seed: 3, Users: 8, OrgDomain: "acme.example", Start: clk.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := oktasim.SimConfig{Listen: "127.0.0.1:0", History: 30 * time.Minute, Tick: time.Hour}
	log := slog.New(slog.DiscardHandler)
	sim, ln, err := oktasim.StartSim(cfg, world, clk, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sim.Serve(ctx, cfg, world, ln, clk, log) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return sim
}

// call says how to send one request.
type call struct {
	method, path string
	key          string
	body         any // string: sent as is; otherwise JSON-encoded
	header       map[string]string
	// invalid marks a request that breaks the document on purpose (bad input tests): only the
	// response is validated.
	invalid bool
	// undocumented marks a path outside the document (404, 405): nothing is validated.
	undocumented bool
}

// do sends c, records the body for the secret scan, and validates request and response against
// the OpenAPI document.
func (e *env) do(c call) (int, []byte) {
	e.t.Helper()
	var raw []byte
	switch b := c.body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			e.t.Fatal(err)
		}
	}
	newReq := func() *http.Request {
		var body io.Reader
		if raw != nil {
			body = bytes.NewReader(raw)
		}
		req, err := http.NewRequest(c.method, e.ts.URL+c.path, body)
		if err != nil {
			e.t.Fatal(err)
		}
		if raw != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if c.key != "" {
			req.Header.Set("Authorization", "Bearer "+c.key)
		}
		for k, v := range c.header {
			req.Header.Set(k, v)
		}
		return req
	}
	resp, err := e.ts.Client().Do(newReq())
	if err != nil {
		e.t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		e.t.Fatal(err)
	}
	e.mu.Lock()
	e.bodies = append(e.bodies, string(got))
	e.mu.Unlock()
	if !c.undocumented {
		vreq := newReq()
		vreq.URL.Host = "127.0.0.1:8080" // the document's server
		vresp := &http.Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(got)), Request: vreq}
		var errs []string
		if !c.invalid {
			if ok, verrs := e.val.ValidateHttpRequest(newReqFor(vreq, raw)); !ok {
				for _, v := range verrs {
					errs = append(errs, "request: "+v.Error()+" "+v.Reason)
				}
			}
		}
		if ok, verrs := e.val.ValidateHttpResponse(newReqFor(vreq, raw), vresp); !ok {
			for _, v := range verrs {
				errs = append(errs, "response: "+v.Error()+" "+v.Reason)
			}
		}
		if len(errs) > 0 {
			e.t.Errorf("%s %s → %d %s\nnot as the OpenAPI document says:\n%s", c.method, c.path, resp.StatusCode, got, strings.Join(errs, "\n"))
		}
	}
	return resp.StatusCode, got
}

// newReqFor clones req with a fresh body reader.
func newReqFor(req *http.Request, raw []byte) *http.Request {
	r := req.Clone(req.Context())
	if raw != nil {
		r.Body = io.NopCloser(bytes.NewReader(raw))
	}
	return r
}

// errorOf decodes the error shape, failing the test when the body is not it.
func (e *env) errorOf(body []byte) Error {
	e.t.Helper()
	var eb struct {
		Error *Error `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&eb); err != nil || eb.Error == nil || eb.Error.Code == "" || eb.Error.Message == "" {
		e.t.Fatalf("body is not the error shape: %s (%v)", body, err)
	}
	return *eb.Error
}

// addTokenIntegration creates an API token integration through the API and returns its name.
func (e *env) addTokenIntegration(name string) {
	e.t.Helper()
	code, body := e.do(call{method: "POST", path: "/api/v1/integrations", key: e.keys[store.RoleAdmin],
		body: map[string]any{"name": name, "orgUrl": e.sim.Info.OrgURL, "apiToken": e.sim.Info.APIToken}})
	if code != http.StatusCreated {
		e.t.Fatalf("create %s: %d %s", name, code, body)
	}
}

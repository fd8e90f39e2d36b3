package sink

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/idwatch/idwatch/internal/secret"
)

func TestWebhookSignsAndRetries(t *testing.T) {
	var (
		mu       sync.Mutex
		got      []string
		requests int
	)
	key := "hook-secret-value"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		requests++
		ts, err := strconv.ParseInt(r.Header.Get(HeaderTimestamp), 10, 64)
		if err != nil || r.Header.Get(HeaderSignature) != Sign([]byte(key), ts, body) {
			t.Errorf("bad signature %q for timestamp %q", r.Header.Get(HeaderSignature), r.Header.Get(HeaderTimestamp))
		}
		if r.Header.Get("X-Tenant") != "acme" || r.Header.Get("Content-Type") != "application/json" || r.Method != http.MethodPost {
			t.Errorf("headers %v", r.Header)
		}
		if requests == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		var wb struct {
			Sink    string   `json:"sink"`
			Records []Record `json:"records"`
		}
		if err := json.Unmarshal(body, &wb); err != nil || wb.Sink != "hook" {
			t.Errorf("body %s: %v", body, err)
		}
		for _, rec := range wb.Records {
			got = append(got, rec.ID)
		}
	}))
	defer srv.Close()
	st := openStore(t, t.TempDir())
	appendEvents(t, st, 0, 150)
	spec := webhookType().New().(*WebhookConfig)
	spec.URL = srv.URL
	spec.Secret = secret.New(key)
	spec.Headers = map[string]secret.Value{"X-Tenant": secret.New("acme")}
	startRunner(t, RunnerOptions{Store: st, Config: testConfig("hook", spec)})
	waitFor(t, "offset 150", func() bool { return offsetOf(t, st, "sink/hook") == 150 })
	mu.Lock()
	defer mu.Unlock()
	checkExactlyOnce(t, got, 150)
}

func TestWebhookRefusalGoesToDeadLetters(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "schema mismatch", http.StatusUnprocessableEntity)
	}))
	defer srv.Close()
	st := openStore(t, t.TempDir())
	appendEvents(t, st, 0, 3)
	spec := webhookType().New().(*WebhookConfig)
	spec.URL = srv.URL
	startRunner(t, RunnerOptions{Store: st, Config: testConfig("hook", spec)})
	waitFor(t, "offset 3", func() bool { return offsetOf(t, st, "sink/hook") == 3 })
	letters, err := st.ListDeadLetters(context.Background(), "hook", 10)
	if err != nil || len(letters) != 3 || letters[0].Attempts != 1 || !strings.Contains(letters[0].Error, "422") {
		t.Fatalf("dead letters %+v, %v", letters, err)
	}
}

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		url   string
		allow bool
		ok    bool
	}{
		{"https://hooks.example.com/x", false, true},
		{"http://127.0.0.1:8080/x", false, true},
		{"http://[::1]:8080/x", false, true},
		{"http://localhost/x", false, true},
		{"http://hooks.example.com/x", false, false},
		{"http://hooks.example.com/x", true, true},
		{"https://user:pw@hooks.example.com/x", false, false},
		{"ftp://hooks.example.com/x", false, false},
		{"/relative", false, false},
		{"", false, false},
	} {
		err := checkURL("webhook", tc.url, tc.allow)
		if (err == nil) != tc.ok {
			t.Errorf("checkURL(%q, %v) = %v, want ok=%v", tc.url, tc.allow, err, tc.ok)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("error leaks the password: %v", err)
		}
	}
}

func TestWebhookTLSCAFile(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	batch := Batch{Records: []Record{{ID: "a", Body: []byte(`{}`)}}}
	for _, tc := range []struct {
		tls TLSConfig
		ok  bool
	}{{TLSConfig{}, false}, {TLSConfig{CAFile: ca}, true}} {
		spec := webhookType().New().(*WebhookConfig)
		spec.URL, spec.TLS = srv.URL, tc.tls
		s, err := spec.Build(Env{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Write(context.Background(), batch); (err == nil) != tc.ok {
			t.Fatalf("tls %+v: %v", tc.tls, err)
		}
	}
}

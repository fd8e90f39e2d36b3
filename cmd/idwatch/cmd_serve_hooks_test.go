package main

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idwatch/idwatch/internal/config"
	"github.com/idwatch/idwatch/internal/hooks"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// TestHookListener: with hooks.listen the receiver serves on its own listener, answers Okta's
// verification there, serves nothing else, and stops with the context.
func TestHookListener(t *testing.T) {
	key := make([]byte, secret.KeySize)
	_, _ = rand.Read(key)
	kr, err := secret.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(t.TempDir(), "idwatch.db"), Sealer: kr})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	in, err := st.CreateIntegration(ctx, store.Integration{Name: "acme", OrgURL: "https://acme.okta.com", AuthKind: store.AuthAPIToken,
		Credentials: store.Credentials{APIToken: secret.New("00tok")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutEventHook(ctx, store.EventHook{IntegrationID: in.ID, URL: "https://idwatch.example.com/hooks/okta/acme",
		HeaderName: hookHeader, Secret: secret.New("s3cret")}); err != nil {
		t.Fatal(err)
	}
	std := stdio{out: io.Discard, err: io.Discard, log: slog.New(slog.DiscardHandler)}
	_, srv, err := newHookReceiver(std, config.Hooks{Listen: "127.0.0.1:0"}, st, prometheus.NewRegistry())
	if err != nil || srv == nil {
		t.Fatalf("receiver: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	base := "http://" + srv.Addr()
	get := func(path string, hdr map[string]string) int {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := get(hooks.PathPrefix+"acme", map[string]string{hooks.ChallengeHeader: "c1", hookHeader: "s3cret"}); code != 200 {
		t.Fatalf("verification: %d", code)
	}
	if code := get("/api/v1/alerts", nil); code != 404 {
		t.Fatalf("the hook listener serves other paths: %d", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("stop: %v", err)
	}
	_, again, err := newHookReceiver(std, config.Hooks{Listen: srv.Addr()}, st, nil)
	if err != nil {
		t.Fatalf("listener not released: %v", err)
	}
	again.ln.Close()
}

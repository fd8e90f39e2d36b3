package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/oktasim/oauth"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// withSimServiceApp registers a DPoP-requiring service app on the org, holding Read-Only
// Administrator, and returns the authorization server and the app's client id.
func withSimServiceApp(t *testing.T, o *simOrg) (*oauth.Server, string) {
	t.Helper()
	as, err := oauth.New(oauth.Config{Issuer: o.url})
	if err != nil {
		t.Fatal(err)
	}
	app, err := as.AddApp(oauth.AppSpec{Name: "idwatch", Scopes: []string{"okta.logs.read"}})
	if err != nil {
		t.Fatal(err)
	}
	o.srv.HandlePublic(http.MethodPost, "/oauth2/v1/token", as.TokenHandler().ServeHTTP)
	o.srv.SetAuthServer(as)
	o.srv.AddAuthenticator(&oktasim.OAuthAuthenticator{AS: as, Roles: func(string) ([]oktasim.Role, []oktasim.Permission) {
		return []oktasim.Role{oktasim.RoleReadOnlyAdmin}, nil
	}})
	return as, app.ClientID
}

// newAppKey makes a key pair, registers its public half on the app under kid and returns the
// file holding the private half.
func newAppKey(t *testing.T, as *oauth.Server, clientID, kid, dir string, rsaKey bool) string {
	t.Helper()
	var priv, pub any
	if rsaKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		priv, pub = k, &k.PublicKey
	} else {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		priv, pub = k, &k.PublicKey
	}
	alg := "ES256"
	if rsaKey {
		alg = "RS256"
	}
	if err := as.AddKey(clientID, jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: alg, Use: "sig"}); err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, kid+".pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestServeFollowsCredentialRotation runs serve against oktasim while the integration's
// credentials are rotated three times, each old credential revoked as soon as update returns:
// API token to a new API token, then to a service app key, then to a new key with a new key id.
// Events keep arriving throughout; the journal and the file sink end with every event of the
// org exactly once, and serve never restarts.
func TestServeFollowsCredentialRotation(t *testing.T) {
	org := startSimOrg(t, oktasim.Config{})
	// Polling every 50ms would spend the default per-minute budget within the test: raise it, so
	// that a stall can only come from the credentials.
	limits := org.srv.RateLimits()
	for i := range limits.Buckets {
		limits.Buckets[i].PerMinute = 1_000_000
	}
	if err := org.srv.SetRateLimits(limits); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	org.appendSimEvents(t, 0, 200, now, nil)
	dir := t.TempDir()
	dd := org.addIntegration(t, dir)
	out := filepath.Join(dir, "events.jsonl")
	cfgPath := filepath.Join(dir, "idwatch.yml")
	cfg := fmt.Sprintf("server: {listen: 127.0.0.1:0}\ncollect: {poll_interval: 50ms, page_limit: 50}\nprocess: {enabled: false}\nsinks:\n  - {name: f, type: file, path: %s, no_sync: true, batch: {max_wait: 10ms}}\n", out)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var outb, errb syncBuffer
	io := stdio{in: strings.NewReader(""), out: &outb, err: &errb, log: slog.New(slog.NewTextHandler(&errb, nil))}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("serve's log:\n%s", errb.String())
		}
	})
	exited := make(chan int, 1)
	go func() { exited <- run(ctx, io, []string{"serve", dd, "--config", cfgPath}) }()
	delivered := func(n int) {
		t.Helper()
		waitUntil(t, fmt.Sprintf("%d events in the file sink", n), func() bool {
			select {
			case code := <-exited:
				t.Fatalf("serve exited by itself with %d:\n%s", code, errb.String())
			default:
			}
			b, _ := os.ReadFile(out)
			return bytes.Count(b, []byte("\n")) >= n
		})
	}
	delivered(200)

	// 1. API token to a new API token; the old one is revoked at once.
	tok2Info, tok2 := org.srv.Tokens().Add(oktasim.APIToken{Name: "idwatch-2", AdminID: "00uadmin", Roles: []oktasim.Role{oktasim.RoleReadOnlyAdmin}})
	tok2File := filepath.Join(dir, "token-2")
	if err := os.WriteFile(tok2File, []byte(tok2), 0o600); err != nil {
		t.Fatal(err)
	}
	org.appendSimEvents(t, 200, 300, now, nil)
	mustCLI(t, "integrations", "update", "acme", dd, "--api-token-file", tok2File)
	org.srv.Tokens().Revoke(org.tokenID)
	org.appendSimEvents(t, 300, 400, now, nil)
	delivered(400)

	// 2. API token to a service app (RSA key); the token is revoked at once.
	as, clientID := withSimServiceApp(t, org)
	key1 := newAppKey(t, as, clientID, "key-1", dir, true)
	org.appendSimEvents(t, 400, 500, now, nil)
	mustCLI(t, "integrations", "update", "acme", dd, "--client-id", clientID, "--key-id", "key-1", "--private-key-file", key1, "--scopes", "okta.logs.read")
	org.srv.Tokens().Revoke(tok2Info.ID)
	org.appendSimEvents(t, 500, 600, now, nil)
	delivered(600)
	dpop1 := storedIntegration(t, dd).Credentials.DPoPKeyPEM.Reveal()

	// 3. A new private key with a new key id; the old key and every token it obtained are revoked
	// at once.
	key2 := newAppKey(t, as, clientID, "key-2", dir, false)
	org.appendSimEvents(t, 600, 700, now, nil)
	mustCLI(t, "integrations", "update", "acme", dd, "--client-id", clientID, "--key-id", "key-2", "--private-key-file", key2, "--scopes", "okta.logs.read")
	if err := as.RevokeKey(clientID, "key-1"); err != nil {
		t.Fatal(err)
	}
	as.RevokeTokens(clientID)
	org.appendSimEvents(t, 700, 800, now, nil)
	delivered(800)

	cancel()
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("serve exited %d after cancel:\n%s", code, errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop after cancel")
	}
	checkEachOnce(t, "file sink", fileSinkIDs(t, out), 800)
	in := storedIntegration(t, dd)
	if in.KeyID != "key-2" || in.Credentials.DPoPKeyPEM.IsZero() || in.Credentials.DPoPKeyPEM.Reveal() == dpop1 {
		t.Fatalf("after the key rotation: key id %q, DPoP key renewed %t", in.KeyID, in.Credentials.DPoPKeyPEM.Reveal() != dpop1)
	}
	code, export, errOut := runCLI(t, "", "events", "export", dd)
	if code != 0 {
		t.Fatalf("events export: %d %s", code, errOut)
	}
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(export), "\n") {
		var rec struct {
			UUID string `json:"uuid"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("export line %q: %v", line, err)
		}
		ids = append(ids, rec.UUID)
	}
	checkEachOnce(t, "journal", ids, 800)
	if !strings.Contains(errb.String(), "integration changed") {
		t.Fatalf("serve did not log the switch to the new credentials:\n%s", errb.String())
	}
}

// storedIntegration reads the one integration of the data directory in dd (--data-dir=...).
func storedIntegration(t *testing.T, dd string) store.Integration {
	t.Helper()
	st, err := sqlite.OpenDataDir(t.Context(), strings.TrimPrefix(dd, "--data-dir="), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	in, err := st.IntegrationByName(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	return in
}

package server

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/idwatch/idwatch/internal/store"
)

// privateJWK turns a PEM private key into a JWK (with "d"), as an admin might paste it.
func privateJWK(t *testing.T, pemKey, kid string) string {
	t.Helper()
	blk, _ := pem.Decode([]byte(pemKey))
	if blk == nil {
		t.Fatal("no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		if k, err = x509.ParsePKCS1PrivateKey(blk.Bytes); err != nil {
			t.Fatal(err)
		}
	}
	b, err := json.Marshal(jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: "RS256", Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSecretsNeverLeave drives integrations through the API with every kind of secret (an API
// token, a service app key as PEM and as JWK, a rotation, a verify, a backfill) and then looks
// for each secret in the database file and its WAL, in the logs and in every response body.
func TestSecretsNeverLeave(t *testing.T) {
	e := newEnv(t)
	admin := e.keys[store.RoleAdmin]
	info := e.sim.Info
	jwk := privateJWK(t, info.ServiceApp.PrivateKeyPEM, info.ServiceApp.KeyID)
	steps := []call{
		{method: "POST", path: "/api/v1/integrations", key: admin, body: map[string]any{"name": "tok", "orgUrl": info.OrgURL, "apiToken": info.APIToken}},
		{method: "POST", path: "/api/v1/integrations", key: admin, body: map[string]any{"name": "pem", "orgUrl": info.OrgURL,
			"serviceApp": map[string]any{"clientId": info.ServiceApp.ClientID, "keyId": info.ServiceApp.KeyID, "privateKey": info.ServiceApp.PrivateKeyPEM}}},
		{method: "POST", path: "/api/v1/integrations", key: admin, body: map[string]any{"name": "jwk", "orgUrl": info.OrgURL, "noVerify": true,
			"serviceApp": map[string]any{"clientId": info.ServiceApp.ClientID, "privateKey": jwk}}},
		{method: "PUT", path: "/api/v1/integrations/tok/credentials", key: admin, body: map[string]any{"apiToken": info.APIToken}},
		{method: "POST", path: "/api/v1/integrations/pem/verify", key: admin},
		{method: "GET", path: "/api/v1/integrations", key: e.keys[store.RoleViewer]},
		{method: "GET", path: "/api/v1/integrations/jwk", key: admin},
		{method: "POST", path: "/api/v1/integrations/tok/backfill", key: admin, body: map[string]any{"since": time.Now().Add(-20 * time.Minute).UTC().Format(time.RFC3339)}},
		{method: "GET", path: "/api/v1/integrations/tok/backfill", key: admin},
		{method: "DELETE", path: "/api/v1/integrations/tok/backfill", key: admin},
		{method: "GET", path: "/api/v1/whoami", key: admin},
	}
	for _, c := range steps {
		c.invalid = true // the bodies' shapes are the document's; this test looks only for secrets
		code, body := e.do(c)
		if code >= 500 || (c.path == "/api/v1/integrations" && c.method == "POST" && code != http.StatusCreated) {
			t.Fatalf("%s %s: %d %s", c.method, c.path, code, body)
		}
	}
	_ = e.st.Close()
	db, _ := os.ReadFile(e.dbPath)
	wal, _ := os.ReadFile(e.dbPath + "-wal")
	var jwkD struct {
		D string `json:"d"`
	}
	if err := json.Unmarshal([]byte(jwk), &jwkD); err != nil || jwkD.D == "" {
		t.Fatalf("JWK without d: %v", err)
	}
	pemBody := strings.Join(strings.Split(strings.TrimSpace(info.ServiceApp.PrivateKeyPEM), "\n")[1:3], "")
	secrets := map[string]string{"API token": info.APIToken, "private key (PEM)": pemBody, "private key (JWK d)": jwkD.D}
	for r, k := range e.keys {
		secrets["API key of "+string(r)] = k
	}
	e.mu.Lock()
	bodies := strings.Join(e.bodies, "\n")
	e.mu.Unlock()
	for what, s := range secrets {
		for where, hay := range map[string][]byte{"database": db, "WAL": wal, "logs": []byte(e.logs.String()), "responses": []byte(bodies)} {
			if bytes.Contains(hay, []byte(s)) {
				t.Errorf("the %s is in the %s", what, where)
			}
		}
	}
}

// TestMetricsPassPromtool scrapes /metrics after some API traffic and checks it with promtool.
func TestMetricsPassPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool is missing in CI: install Debian's prometheus package (.ci/run does)")
		}
		t.Skip("SKIPPED LOUDLY: promtool not installed (apt install prometheus); /metrics is not checked by promtool")
	}
	e := newEnv(t)
	e.addTokenIntegration("acme")
	e.do(call{method: "GET", path: "/api/v1/integrations", key: e.keys[store.RoleViewer]})
	code, body := e.do(call{method: "GET", path: "/metrics"})
	if code != http.StatusOK || !bytes.Contains(body, []byte("idwatch_")) {
		t.Fatalf("/metrics: %d %.300s", code, body)
	}
	// Verifying acme asked its org: the answers are counted by status class.
	if !regexp.MustCompile(`idwatch_integration_responses_total\{class="2xx",integration="acme"\} [1-9]`).Match(body) {
		t.Errorf("no 2xx answers counted for acme:\n%s", grepLines(body, "idwatch_integration_responses_total"))
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// grepLines returns the lines of b that contain s.
func grepLines(b []byte, s string) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

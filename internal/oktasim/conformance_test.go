package oktasim

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/idwatch/idwatch/internal/clock"
)

// These tests follow okta-api.md §4 and §8 items 3–4 against the running simulator with raw
// HTTP, building assertions and proofs by hand as the documentation describes them.

type dpopParty struct {
	t     *testing.T
	sim   *Simulation
	key   *ecdsa.PrivateKey
	clock *clock.Manual
}

func (d *dpopParty) sign(opts *jose.SignerOptions, key jose.SigningKey, claims map[string]any) string {
	d.t.Helper()
	signer, err := jose.NewSigner(key, opts)
	if err != nil {
		d.t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	obj, err := signer.Sign(payload)
	if err != nil {
		d.t.Fatal(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		d.t.Fatal(err)
	}
	return s
}

// assertion is the private-key JWT client assertion (§4.2).
func (d *dpopParty) assertion() string {
	app := d.sim.Info.ServiceApp
	now := d.clock.Now()
	return d.sign((&jose.SignerOptions{}).WithHeader("kid", app.KeyID), jose.SigningKey{Algorithm: jose.RS256, Key: d.sim.ServiceAppKey},
		map[string]any{"iss": app.ClientID, "sub": app.ClientID, "aud": d.sim.Info.OrgURL + "/oauth2/v1/token",
			"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": randomID(20)})
}

// proof is a DPoP proof (RFC 9449 §4.2) for method and target, with extra claims.
func (d *dpopParty) proof(method, target string, extra map[string]any) string {
	claims := map[string]any{"htm": method, "htu": target, "iat": d.clock.Now().Unix(), "jti": randomID(20)}
	for k, v := range extra {
		claims[k] = v
	}
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt")
	return d.sign(opts, jose.SigningKey{Algorithm: jose.ES256, Key: d.key}, claims)
}

func (d *dpopParty) do(req *http.Request) (*http.Response, map[string]any) {
	d.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp, body
}

func (d *dpopParty) tokenRequest(proof string) (*http.Response, map[string]any) {
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"okta.logs.read"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {d.assertion()}}
	req, _ := http.NewRequest(http.MethodPost, d.sim.Info.OrgURL+"/oauth2/v1/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	return d.do(req)
}

func (d *dpopParty) resource(scheme, token, proof string) (*http.Response, map[string]any) {
	req, _ := http.NewRequest(http.MethodGet, d.sim.Info.OrgURL+"/api/v1/logs", nil)
	req.Header.Set("Authorization", scheme+" "+token)
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	return d.do(req)
}

func TestConformanceDPoPExchange(t *testing.T) {
	sim, clock := runningSim(t, nil)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	d := &dpopParty{t: t, sim: sim, key: key, clock: clock}
	tokenURL := sim.Info.OrgURL + "/oauth2/v1/token"

	// Missing proof for a DPoP app.
	if resp, body := d.tokenRequest(""); resp.StatusCode != 400 || body["error"] != "invalid_dpop_proof" {
		t.Fatalf("no proof: %d %v", resp.StatusCode, body)
	}
	// First proof: the nonce challenge.
	resp, body := d.tokenRequest(d.proof("POST", tokenURL, nil))
	nonce := resp.Header.Get("DPoP-Nonce")
	if resp.StatusCode != 400 || body["error"] != "use_dpop_nonce" || nonce == "" {
		t.Fatalf("first proof: %d %v %v", resp.StatusCode, body, resp.Header)
	}
	// Retry with the nonce: a DPoP-bound token of 3600 s.
	resp, body = d.tokenRequest(d.proof("POST", tokenURL, map[string]any{"nonce": nonce}))
	if resp.StatusCode != 200 || body["token_type"] != "DPoP" || body["expires_in"] != float64(3600) || body["scope"] != "okta.logs.read" {
		t.Fatalf("token: %d %v", resp.StatusCode, body)
	}
	tok := body["access_token"].(string)
	var claims map[string]any
	parts := strings.Split(tok, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	_ = json.Unmarshal(raw, &claims)
	jwk := jose.JSONWebKey{Key: &key.PublicKey}
	thumb, _ := jwk.Thumbprint(crypto.SHA256)
	if cnf, _ := claims["cnf"].(map[string]any); cnf["jkt"] != base64.RawURLEncoding.EncodeToString(thumb) {
		t.Fatalf("cnf %v, want the proof key's thumbprint", claims["cnf"])
	}

	logsURL := sim.Info.OrgURL + "/api/v1/logs"
	ath := sha256.Sum256([]byte(tok))
	athClaim := base64.RawURLEncoding.EncodeToString(ath[:])
	good := d.proof("GET", logsURL, map[string]any{"ath": athClaim})
	if resp, body := d.resource("DPoP", tok, good); resp.StatusCode != 200 {
		t.Fatalf("resource call: %d %v", resp.StatusCode, body)
	}
	checks := []struct {
		name, scheme, proof string
	}{
		{"replayed jti", "DPoP", good},
		{"no ath", "DPoP", d.proof("GET", logsURL, nil)},
		{"wrong htu", "DPoP", d.proof("GET", sim.Info.OrgURL+"/api/v1/users", map[string]any{"ath": athClaim})},
		{"stale iat", "DPoP", d.proof("GET", logsURL, map[string]any{"ath": athClaim, "iat": clock.Now().Add(-6 * time.Minute).Unix()})},
		{"wrong htm", "DPoP", d.proof("POST", logsURL, map[string]any{"ath": athClaim})},
	}
	for _, c := range checks {
		resp, _ := d.resource(c.scheme, tok, c.proof)
		if resp.StatusCode < 400 || resp.StatusCode > 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "DPoP") ||
			!strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_dpop_proof") {
			t.Errorf("%s: %d %q", c.name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
	// A DPoP-bound token presented as a Bearer token: 400 invalid_request (§4.3 error catalog).
	if resp, _ := d.resource("Bearer", tok, ""); resp.StatusCode != 400 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_request") {
		t.Fatalf("bound token as Bearer: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	// The token expires after 3600 s.
	clock.Advance(time.Hour + time.Second)
	resp, _ = d.resource("DPoP", tok, d.proof("GET", logsURL, map[string]any{"ath": athClaim}))
	if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("expired token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

func TestConformanceSSWS(t *testing.T) {
	sim, _ := runningSim(t, nil)
	if code, body := apiCall(t, sim, "00bogus", http.MethodGet, "/api/v1/logs", ""); code != 401 || body["errorCode"] != "E0000011" {
		t.Fatalf("invalid token: %d %v", code, body)
	}
	_, report := sim.Server.Tokens().Add(APIToken{Name: "report", AdminID: "00urep", Roles: []Role{RoleReportAdmin}})
	if code, body := apiCall(t, sim, report, http.MethodGet, "/api/v1/users", ""); code != 403 || body["errorCode"] != "E0000006" {
		t.Fatalf("missing permission: %d %v", code, body)
	}
}

// TestConformanceInfoKeyMatchesApp checks the info file's key is the one the app is registered with.
func TestConformanceInfoKeyMatchesApp(t *testing.T) {
	sim, _ := runningSim(t, nil)
	b, _ := pem.Decode([]byte(sim.Info.ServiceApp.PrivateKeyPEM))
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil || !sim.ServiceAppKey.Equal(k) {
		t.Fatalf("info key does not match the registered key: %v", err)
	}
}

package collect

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/oktasim/oauth"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
)

var (
	appKeyOnce sync.Once
	appKey     *rsa.PrivateKey
)

// withServiceApp adds the org authorization server to s and registers a DPoP-requiring service app
// with scopes, holding Read-Only Administrator and the custom response role; it returns the server and the integration record for the app.
func withServiceApp(t *testing.T, s *sim, ttl time.Duration, scopes ...string) (*oauth.Server, store.Integration) {
	t.Helper()
	appKeyOnce.Do(func() {
		var err error
		if appKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	as, err := oauth.New(oauth.Config{Issuer: s.ts.URL, Clock: oauth.ClockFunc(s.now), TokenTTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	app, err := as.AddApp(oauth.AppSpec{Name: "idwatch", Scopes: scopes,
		Keys: []jose.JSONWebKey{{Key: &appKey.PublicKey, KeyID: "idwatch-1", Algorithm: "RS256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	s.srv.HandlePublic(http.MethodPost, "/oauth2/v1/token", as.TokenHandler().ServeHTTP)
	s.srv.SetAuthServer(as)
	s.srv.AddAuthenticator(&oktasim.OAuthAuthenticator{AS: as, Roles: func(string) ([]oktasim.Role, []oktasim.Permission) {
		return []oktasim.Role{oktasim.RoleReadOnlyAdmin}, []oktasim.Permission{oktasim.PermUsersManage, oktasim.PermSessionsManage, oktasim.PermFactorsManage}
	}})
	der, _ := x509.MarshalPKCS8PrivateKey(appKey)
	in := store.Integration{Name: "acme-app", OrgURL: s.ts.URL, AuthKind: store.AuthOAuth, ClientID: app.ClientID, KeyID: "idwatch-1",
		Scopes: scopes, Enabled: true, Credentials: store.Credentials{PrivateKeyPEM: secret.New(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))}}
	return as, in
}

// TestServiceAppCollectsThroughNonceRotationAndTokenExpiry collects with a DPoP-bound token while
// the DPoP nonce rotates and access tokens expire mid-stream: nothing lost.
func TestServiceAppCollectsThroughNonceRotationAndTokenExpiry(t *testing.T) {
	s := newSim(t, simOptions{noLimit: true})
	as, in := withServiceApp(t, s, 10*time.Minute, "okta.logs.read")
	e := newEnv(t, s, okta.GovernorConfig{})
	ctx := context.Background()
	in, err := e.st.CreateIntegration(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if in, err = EnsureDPoPKey(ctx, e.st, in); err != nil {
		t.Fatal(err)
	}
	e.in = in
	p := e.poller(t, Config{PageLimit: 100})
	for i := range 12 {
		s.add(t, 150, 0, 0, nil)
		s.clock.Advance(4 * time.Minute) // three rounds per token lifetime
		if i%4 == 1 {
			as.RotateNonce(true)
		}
		if err := p.CatchUp(ctx, 0); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
	}
	assertTruth(t, s, e.st)
	if h := e.health(t); h.State != store.HealthCollecting {
		t.Fatalf("health %+v", h)
	}
	tokens := 0
	for _, r := range s.srv.RequestLog(0) {
		if r.Path == "/oauth2/v1/token" && r.Status == http.StatusOK {
			tokens++
		}
	}
	_ = tokens // the token endpoint is public and not in the API request log
}

// TestVerifyServiceAppScopes verifies a service app granted only okta.logs.read: logs pass,
// inventory and response scopes warn with their fix; and one without okta.logs.read fails.
func TestVerifyServiceAppScopes(t *testing.T) {
	s := newSim(t, simOptions{noLimit: true})
	_, in := withServiceApp(t, s, time.Hour, "okta.logs.read")
	in.Scopes = nil // request every scope; Okta grants what the app has
	v := &Verifier{HTTPClient: s.ts.Client(), Clock: s.clock}
	r := v.VerifyIntegration(context.Background(), in)
	if !r.CanCollectLogs {
		t.Fatalf("report %+v", r)
	}
	if c := findCheck(t, r, "credentials"); c.Status != CheckOK || c.Detail != "client assertion accepted; DPoP proof accepted" {
		t.Fatalf("credentials %+v", c)
	}
	for _, sc := range append(slices.Clone(InventoryScopes), ResponseScopes...) {
		if c := findCheck(t, r, "scope:"+sc); c.Status != CheckWarn || c.Fix == "" {
			t.Fatalf("scope %s: %+v", sc, c)
		}
	}
	if !slices.Contains(r.FeaturesOff, FeatureInventory) || !slices.Contains(r.FeaturesOff, FeatureResponse) {
		t.Fatalf("features off %v", r.FeaturesOff)
	}

	s2 := newSim(t, simOptions{noLimit: true})
	_, in2 := withServiceApp(t, s2, time.Hour, "okta.users.read")
	in2.Scopes = nil
	r2 := (&Verifier{HTTPClient: s2.ts.Client(), Clock: s2.clock}).VerifyIntegration(context.Background(), in2)
	if c := findCheck(t, r2, "scope:okta.logs.read"); c.Status != CheckFail || r2.CanCollectLogs {
		t.Fatalf("without logs scope: %+v", r2)
	}
}

// TestVerifyServiceAppAllGranted verifies a service app granted every scope idwatch uses: its
// admin roles come from the org's client role assignments and every check passes.
func TestVerifyServiceAppAllGranted(t *testing.T) {
	s := newSim(t, simOptions{noLimit: true})
	_, in := withServiceApp(t, s, time.Hour, DefaultScopes()...)
	r := (&Verifier{HTTPClient: s.ts.Client(), Clock: s.clock}).VerifyIntegration(context.Background(), in)
	for _, c := range r.Checks {
		if c.Status != CheckOK {
			t.Fatalf("check %s: %s %s (%s)", c.ID, c.Status, c.Detail, c.Fix)
		}
	}
	if c := findCheck(t, r, "roles"); c.Detail != "roles: READ_ONLY_ADMIN, CUSTOM" || !slices.Equal(r.GrantedScopes, DefaultScopes()) {
		t.Fatalf("roles %+v, granted %v", c, r.GrantedScopes)
	}
}

// TestVerifyServiceAppWrongKey reports a rejected client assertion with the fix.
func TestVerifyServiceAppWrongKey(t *testing.T) {
	s := newSim(t, simOptions{noLimit: true})
	_, in := withServiceApp(t, s, time.Hour, "okta.logs.read")
	in.KeyID = "not-registered"
	r := (&Verifier{HTTPClient: s.ts.Client(), Clock: s.clock}).VerifyIntegration(context.Background(), in)
	c := findCheck(t, r, "credentials")
	if c.Status != CheckFail || c.Fix == "" || r.CanCollectLogs {
		t.Fatalf("report %+v", r)
	}
}

package collect

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/idwatch/idwatch/internal/feature"
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

// TestVerifyServiceAppScopes verifies a service app granted only okta.logs.read: logs only needs
// nothing more and no other scope is asked for; turning inventory on without its scopes fails
// (Okta would refuse every token request naming them), with the fix; and one without
// okta.logs.read fails.
func TestVerifyServiceAppScopes(t *testing.T) {
	s := newSim(t, simOptions{noLimit: true})
	_, in := withServiceApp(t, s, time.Hour, "okta.logs.read")
	in.Scopes = nil // the default: what the features need
	v := &Verifier{HTTPClient: s.ts.Client(), Clock: s.clock}
	r := v.VerifyIntegration(context.Background(), in)
	if !r.CanCollectLogs || len(r.FeaturesOff) != 0 || !slices.Equal(r.GrantedScopes, []string{"okta.logs.read"}) {
		t.Fatalf("report %+v", r)
	}
	if c := findCheck(t, r, "credentials"); c.Status != CheckOK || c.Detail != "client assertion accepted; DPoP proof accepted" {
		t.Fatalf("credentials %+v", c)
	}
	if c := findCheck(t, r, "roles"); c.Status != CheckSkip || c.Fix != "" {
		t.Fatalf("roles %+v", c)
	}
	var scopeChecks []string
	for _, c := range r.Checks {
		if strings.HasPrefix(c.ID, "scope:") {
			scopeChecks = append(scopeChecks, c.ID)
		}
	}
	if !slices.Equal(scopeChecks, []string{"scope:okta.logs.read"}) {
		t.Fatalf("scopes checked with logs only: %v", scopeChecks)
	}
	if f := featureLine(t, r, feature.Inventory); f.On || !strings.HasPrefix(f.Fix, "grant okta.users.read, okta.groups.read, okta.roles.read, okta.schemas.read to the service app") {
		t.Fatalf("inventory %+v", f)
	}

	in.Features = []string{"inventory"}
	r = v.VerifyIntegration(context.Background(), in)
	c := findCheck(t, r, "scope:okta.users.read")
	if c.Status != CheckFail || r.CanCollectLogs || !strings.Contains(c.Fix, "grant okta.users.read, or turn inventory off (--features \"\")") {
		t.Fatalf("inventory without its scopes: %+v", c)
	}
	if f := featureLine(t, r, feature.Logs); !f.On || f.Working || f.Fix == "" {
		t.Fatalf("logs %+v", f)
	}

	in.Features, in.Scopes = nil, []string{"okta.logs.read", "okta.users.manage"}
	r = v.VerifyIntegration(context.Background(), in)
	if c := findCheck(t, r, "scope:okta.users.manage"); c.Status != CheckFail || !strings.Contains(c.Fix, "leave it out of --scopes") {
		t.Fatalf("an unneeded scope not granted: %+v", c)
	}

	s2 := newSim(t, simOptions{noLimit: true})
	_, in2 := withServiceApp(t, s2, time.Hour, "okta.users.read")
	in2.Scopes = nil
	r2 := (&Verifier{HTTPClient: s2.ts.Client(), Clock: s2.clock}).VerifyIntegration(context.Background(), in2)
	if c := findCheck(t, r2, "scope:okta.logs.read"); c.Status != CheckFail || r2.CanCollectLogs {
		t.Fatalf("without logs scope: %+v", r2)
	}
}

// everyScope is what a service app granted every feature's scopes holds.
var everyScope = []string{"okta.logs.read", "okta.users.read", "okta.groups.read", "okta.roles.read", "okta.schemas.read", "okta.users.manage"}

// TestVerifyServiceAppAllGranted verifies a service app granted every scope idwatch uses with
// every feature on: its admin roles come from the org's client role assignments and every check
// passes.
func TestVerifyServiceAppAllGranted(t *testing.T) {
	s := newSim(t, simOptions{noLimit: true})
	_, in := withServiceApp(t, s, time.Hour, everyScope...)
	in.Scopes, in.Features = nil, []string{"inventory", "response"}
	r := (&Verifier{HTTPClient: s.ts.Client(), Clock: s.clock}).VerifyIntegration(context.Background(), in)
	for _, c := range r.Checks {
		if c.Status != CheckOK {
			t.Fatalf("check %s: %s %s (%s)", c.ID, c.Status, c.Detail, c.Fix)
		}
	}
	if c := findCheck(t, r, "roles"); c.Detail != "roles: READ_ONLY_ADMIN, CUSTOM" || !slices.Equal(r.GrantedScopes, everyScope) {
		t.Fatalf("roles %+v, granted %v", c, r.GrantedScopes)
	}
}

// TestVerifyServiceAppExplicitScopes: explicit --scopes are judged against the features: a scope
// no feature uses is more privilege than needed, one a feature needs and --scopes lacks turns
// that feature off.
func TestVerifyServiceAppExplicitScopes(t *testing.T) {
	s := newSim(t, simOptions{noLimit: true})
	_, in := withServiceApp(t, s, time.Hour, everyScope...)
	v := &Verifier{HTTPClient: s.ts.Client(), Clock: s.clock}
	r := v.VerifyIntegration(context.Background(), in) // logs only, every scope requested
	if c := findCheck(t, r, "scope:okta.users.manage"); c.Status != CheckWarn || !strings.Contains(c.Detail, "no enabled feature uses it") || !r.CanCollectLogs {
		t.Fatalf("surplus scope: %+v", c)
	}
	in.Scopes, in.Features = []string{"okta.logs.read"}, []string{"inventory"}
	r = v.VerifyIntegration(context.Background(), in)
	c := findCheck(t, r, "scope:okta.groups.read")
	if c.Status != CheckWarn || !strings.Contains(c.Detail, "needed by inventory but not in the integration's --scopes") ||
		!r.CanCollectLogs || !slices.Contains(r.FeaturesOff, FeatureInventory) {
		t.Fatalf("missing scope: %+v, off %v", c, r.FeaturesOff)
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

package collect

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
)

// TestManagerSwitchesToRotatedCredentials replaces a running integration's credentials in the
// store and revokes the old ones at once: within a few watch intervals (far less than the resync
// interval) the manager collects with the new ones, and the journal holds every event once.
func TestManagerSwitchesToRotatedCredentials(t *testing.T) {
	for _, kind := range []string{"api token", "service app key"} {
		t.Run(kind, func(t *testing.T) {
			clk := clock.NewManual(t0)
			s := newSim(t, simOptions{noLimit: true, clock: clk})
			e := newEnv(t, s, okta.GovernorConfig{})
			ctx := context.Background()
			// rotate replaces the credentials in the store and revokes the old ones in the org.
			var rotate func() store.Integration
			switch kind {
			case "api token":
				rotate = func() store.Integration {
					_, tok := s.srv.Tokens().Add(oktasim.APIToken{Name: "idwatch-2", AdminID: "00uadmin", Roles: []oktasim.Role{oktasim.RoleReadOnlyAdmin}})
					in, err := e.st.Integration(ctx, e.in.ID)
					if err != nil {
						t.Fatal(err)
					}
					in.Credentials = store.Credentials{APIToken: secret.New(tok)}
					if in, err = e.st.UpdateIntegration(ctx, in); err != nil {
						t.Fatal(err)
					}
					s.srv.Tokens().Revoke(s.tokenID)
					return in
				}
			case "service app key":
				as, app := withServiceApp(t, s, time.Hour, "okta.logs.read")
				app.ID, app.Name = e.in.ID, e.in.Name
				var err error
				if e.in, err = e.st.UpdateIntegration(ctx, app); err != nil {
					t.Fatal(err)
				}
				s.srv.Tokens().Revoke(s.tokenID) // only the service app can read now
				rotate = func() store.Integration {
					key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
					if err != nil {
						t.Fatal(err)
					}
					if err := as.AddKey(app.ClientID, jose.JSONWebKey{Key: &key.PublicKey, KeyID: "idwatch-2", Algorithm: "ES256", Use: "sig"}); err != nil {
						t.Fatal(err)
					}
					der, _ := x509.MarshalPKCS8PrivateKey(key)
					in, err := e.st.Integration(ctx, e.in.ID)
					if err != nil {
						t.Fatal(err)
					}
					in.KeyID = "idwatch-2"
					in.Credentials = store.Credentials{PrivateKeyPEM: secret.New(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))}
					if in, err = e.st.UpdateIntegration(ctx, in); err != nil {
						t.Fatal(err)
					}
					// The strictest operator: the old key and every token it obtained stop working now.
					if err := as.RevokeKey(app.ClientID, "idwatch-1"); err != nil {
						t.Fatal(err)
					}
					as.RevokeTokens(app.ClientID)
					return in
				}
			}
			s.add(t, 400, 0, 0, nil)
			clk.Advance(time.Second)
			m, err := NewManager(ManagerConfig{Store: e.st, Clients: e.clients(), Collect: Config{Clock: clk}, Resync: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- m.Run(rctx) }()
			defer func() { cancel(); <-done }()
			count := func(n int64) func() bool {
				return func() bool {
					c, err := e.st.CountJournal(ctx, store.ReadFilter{})
					return err == nil && c == n
				}
			}
			watchUntil(t, clk, 20, count(400))
			before, err := e.st.Integration(ctx, e.in.ID)
			if err != nil {
				t.Fatal(err)
			}
			rotated := rotate()
			for range 3 {
				s.add(t, 100, 0, 0, nil)
				clk.Advance(time.Second)
			}
			// A few watch intervals: the one-hour resync never comes.
			watchUntil(t, clk, 6, count(700))
			assertTruth(t, s, e.st)
			after, err := e.st.Integration(ctx, e.in.ID)
			if err != nil {
				t.Fatal(err)
			}
			if after.Credentials.APIToken.Reveal() != rotated.Credentials.APIToken.Reveal() || after.KeyID != rotated.KeyID ||
				after.Credentials.PrivateKeyPEM.Reveal() != rotated.Credentials.PrivateKeyPEM.Reveal() {
				t.Fatal("the stored credentials are not the rotated ones")
			}
			if kind == "service app key" {
				if after.Credentials.DPoPKeyPEM.IsZero() || after.Credentials.DPoPKeyPEM.Reveal() == before.Credentials.DPoPKeyPEM.Reveal() {
					t.Fatal("the rotated service app got no new DPoP key")
				}
			}
			if h := e.health(t); h.State != store.HealthCollecting {
				t.Fatalf("health after rotation: %+v", h)
			}
		})
	}
}

// watchUntil advances the clock by one default watch interval at a time, whenever the manager and
// its poller are both waiting, until cond holds; more than steps advances fail the test.
func watchUntil(t *testing.T, clk *clock.Manual, steps int, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := 0; !cond(); i++ {
		if i == steps {
			t.Fatalf("condition not reached after %d watch intervals", steps)
		}
		if err := clk.WaitForTimers(ctx, 2); err != nil {
			t.Fatal("condition not reached before the deadline")
		}
		if cond() {
			return
		}
		clk.Advance(DefaultWatch)
	}
}

// TestEnsureDPoPKeyKeepsNewerCredentials: a collector starting from a record read just before
// the credentials were replaced stores its new DPoP key without bringing the old credentials back,
// and runs with the new ones.
func TestEnsureDPoPKeyKeepsNewerCredentials(t *testing.T) {
	s := newSim(t, simOptions{noLimit: true})
	e := newEnv(t, s, okta.GovernorConfig{})
	ctx := context.Background()
	_, app := withServiceApp(t, s, time.Hour, "okta.logs.read")
	app.ID, app.Name = e.in.ID, e.in.Name
	stale, err := e.st.UpdateIntegration(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	rotated := stale
	rotated.KeyID = "idwatch-2"
	if rotated, err = e.st.UpdateIntegration(ctx, rotated); err != nil {
		t.Fatal(err)
	}
	got, err := EnsureDPoPKey(ctx, e.st, stale)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := e.st.Integration(ctx, e.in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.KeyID != "idwatch-2" || stored.KeyID != "idwatch-2" {
		t.Fatalf("key id: collector runs with %q, store holds %q; want the rotated idwatch-2", got.KeyID, stored.KeyID)
	}
	if stored.Credentials.DPoPKeyPEM.IsZero() || stored.Credentials.DPoPKeyPEM.Reveal() != got.Credentials.DPoPKeyPEM.Reveal() ||
		!stored.UpdatedAt.Equal(got.UpdatedAt) || !got.UpdatedAt.After(rotated.UpdatedAt) {
		t.Fatalf("the DPoP key or change time the collector holds is not the stored one")
	}
}

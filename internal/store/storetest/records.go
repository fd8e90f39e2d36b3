package storetest

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
)

// Plaintext secrets the suite stores; implementations' own tests can look for them on disk.
const (
	SampleToken      = "00SAMPLE-ssws-token-7f3a9c1e5b"
	SamplePrivateKey = "-----BEGIN PRIVATE KEY-----\nMIIEvSAMPLEprivateKEYmaterial0123456789\n-----END PRIVATE KEY-----\n"
)

// sampleIntegration returns a valid API-token integration named name.
func sampleIntegration(name string) store.Integration {
	return store.Integration{
		Name: name, OrgURL: "https://" + name + ".okta.com", AuthKind: store.AuthAPIToken,
		Scopes: []string{"okta.logs.read"}, CustomAttributes: store.DefaultAttributeNames, Enabled: true,
		Credentials: store.Credentials{APIToken: secret.New(SampleToken)},
	}
}

func (su suite) integrations(t *testing.T) {
	t.Run("CRUD", func(t *testing.T) {
		f := su.open(t)
		in := sampleIntegration("acme")
		created, err := f.s.CreateIntegration(f.ctx, in)
		f.must(err)
		if created.ID == 0 || !created.CreatedAt.Equal(epoch) || !created.UpdatedAt.Equal(epoch) {
			t.Fatalf("created %+v", created)
		}
		_, err = f.s.CreateIntegration(f.ctx, in)
		wantErr(t, "duplicate name", err, store.ErrConflict)

		oauth := store.Integration{
			Name: "globex", OrgURL: "https://globex.okta.com", AuthKind: store.AuthOAuth, ClientID: "0oa1", KeyID: "kid-1",
			Scopes:           []string{"okta.logs.read", "okta.users.read"},
			Features:         []string{"inventory", "response"},
			CustomAttributes: store.AttributeNames{ObjectSID: "adSid", ObjectGUID: "adGuid", DistinguishedName: "adDn"},
			Credentials:      store.Credentials{PrivateKeyPEM: secret.New(SamplePrivateKey), DPoPKeyPEM: secret.New("dpop-key-pem")},
		}
		second, err := f.s.CreateIntegration(f.ctx, oauth)
		f.must(err)
		got, err := f.s.IntegrationByName(f.ctx, "globex")
		f.must(err)
		if got.ID != second.ID || got.ClientID != "0oa1" || got.KeyID != "kid-1" || !slices.Equal(got.Scopes, oauth.Scopes) ||
			!slices.Equal(got.Features, oauth.Features) || got.CustomAttributes != oauth.CustomAttributes || got.Enabled ||
			got.Credentials.PrivateKeyPEM.Reveal() != SamplePrivateKey || got.Credentials.DPoPKeyPEM.Reveal() != "dpop-key-pem" ||
			!got.Credentials.APIToken.IsZero() {
			t.Fatalf("round trip: %+v", got)
		}

		f.h.Clock.Advance(time.Hour)
		created.OrgURL = "https://acme.okta-emea.com"
		created.Credentials.APIToken = secret.New("rotated-token")
		created.Features = []string{"inventory"}
		updated, err := f.s.UpdateIntegration(f.ctx, created)
		f.must(err)
		if !updated.UpdatedAt.Equal(epoch.Add(time.Hour)) || !updated.CreatedAt.Equal(epoch) {
			t.Fatalf("update times %+v", updated)
		}
		got, err = f.s.Integration(f.ctx, created.ID)
		f.must(err)
		if got.OrgURL != created.OrgURL || got.Credentials.APIToken.Reveal() != "rotated-token" || !slices.Equal(got.Features, []string{"inventory"}) {
			t.Fatalf("after update: %+v", got)
		}
		created.Name = "globex"
		_, err = f.s.UpdateIntegration(f.ctx, created)
		wantErr(t, "rename onto an existing name", err, store.ErrConflict)
		ghost := sampleIntegration("ghost")
		ghost.ID = 999
		_, err = f.s.UpdateIntegration(f.ctx, ghost)
		wantErr(t, "update missing", err, store.ErrNotFound)

		// Org identity and reachability round-trip; the org id is recorded without touching UpdatedAt.
		created.Name, created.CustomDomain, created.CAPEM = "acme", true, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
		reached, err := f.s.UpdateIntegration(f.ctx, created)
		f.must(err)
		f.h.Clock.Advance(time.Hour)
		f.must(f.s.SetIntegrationOrgID(f.ctx, created.ID, "00o1n8sbwArJ7OQRw4x7"))
		got, err = f.s.Integration(f.ctx, created.ID)
		f.must(err)
		if got.OrgID != "00o1n8sbwArJ7OQRw4x7" || !got.CustomDomain || got.CAPEM != created.CAPEM || !got.UpdatedAt.Equal(reached.UpdatedAt) {
			t.Fatalf("org identity round trip: %+v", got)
		}
		wantErr(t, "org id of a missing integration", f.s.SetIntegrationOrgID(f.ctx, 999, "00o1"), store.ErrNotFound)

		f.must(f.s.SetIntegrationEnabled(f.ctx, second.ID, true))
		list, err := f.s.ListIntegrations(f.ctx)
		f.must(err)
		if len(list) != 2 || list[0].Name != "acme" || !list[1].Enabled {
			t.Fatalf("list %+v", list)
		}

		f.must(f.s.SetCursor(f.ctx, second.ID, store.Cursor{Next: "n"}))
		f.must(f.s.SetHealth(f.ctx, store.Health{IntegrationID: second.ID, State: store.HealthCollecting}))
		f.must(f.s.DeleteIntegration(f.ctx, second.ID))
		_, err = f.s.Integration(f.ctx, second.ID)
		wantErr(t, "deleted integration", err, store.ErrNotFound)
		_, err = f.s.Cursor(f.ctx, second.ID)
		wantErr(t, "deleted integration's cursor", err, store.ErrNotFound)
		_, err = f.s.Health(f.ctx, second.ID)
		wantErr(t, "deleted integration's health", err, store.ErrNotFound)
		wantErr(t, "delete twice", f.s.DeleteIntegration(f.ctx, second.ID), store.ErrNotFound)
		wantErr(t, "enable missing", f.s.SetIntegrationEnabled(f.ctx, second.ID, true), store.ErrNotFound)
	})
	t.Run("Invalid", func(t *testing.T) {
		f := su.open(t)
		for _, in := range []store.Integration{
			{Name: "", OrgURL: "https://x.okta.com", AuthKind: store.AuthAPIToken, Credentials: store.Credentials{APIToken: secret.New("t")}},
			{Name: "x", OrgURL: "https://x.okta.com", AuthKind: store.AuthAPIToken},
			{Name: "x", OrgURL: "https://x.okta.com", AuthKind: store.AuthOAuth, ClientID: "c"},
			{Name: "x", OrgURL: "https://x.okta.com", AuthKind: "password"},
		} {
			_, err := f.s.CreateIntegration(f.ctx, in)
			wantErr(t, "invalid integration", err, store.ErrInvalid)
		}
	})
	t.Run("SecretsRedactedAndSealed", func(t *testing.T) {
		f := su.open(t)
		created, err := f.s.CreateIntegration(f.ctx, sampleIntegration("acme"))
		f.must(err)
		js, err := json.Marshal(created)
		f.must(err)
		if bytes.Contains(js, []byte(SampleToken)) {
			t.Fatal("integration JSON carries the token")
		}
		// The same data opened with another master key cannot read the secrets, and says why.
		f.must(f.s.Close())
		other, err := secret.NewKeyring(bytes.Repeat([]byte{8}, secret.KeySize))
		f.must(err)
		f.h.Sealer = other
		f.s = su.newStore(t, f.h)
		_, err = f.s.Integration(f.ctx, created.ID)
		wantErr(t, "read with another master key", err, secret.ErrUnknownKey)
		if err != nil && strings.Contains(err.Error(), SampleToken) {
			t.Fatal("error carries the token")
		}
	})
	t.Run("Reseal", func(t *testing.T) {
		f := su.open(t)
		created, err := f.s.CreateIntegration(f.ctx, sampleIntegration("acme"))
		f.must(err)
		_, err = f.s.PutEventHook(f.ctx, store.EventHook{IntegrationID: created.ID, URL: "https://x/hooks/okta/acme",
			HeaderName: "Authorization", Secret: secret.New("hook-secret")})
		f.must(err)
		f.must(f.s.Close())
		oldKey := bytes.Repeat([]byte{7}, secret.KeySize)
		rotated, err := secret.NewKeyring(bytes.Repeat([]byte{9}, secret.KeySize), oldKey)
		f.must(err)
		f.h.Sealer = rotated
		f.s = su.newStore(t, f.h)
		n, err := f.s.ResealSecrets(f.ctx)
		f.must(err)
		if n != 1 {
			t.Fatalf("resealed %d integrations, want 1", n)
		}
		if n, err := f.s.ResealSecrets(f.ctx); err != nil || n != 0 {
			t.Fatalf("second reseal: %d %v", n, err)
		}
		// Now the new key alone reads the secret.
		f.must(f.s.Close())
		f.h.Sealer, err = secret.NewKeyring(bytes.Repeat([]byte{9}, secret.KeySize))
		f.must(err)
		f.s = su.newStore(t, f.h)
		got, err := f.s.Integration(f.ctx, created.ID)
		f.must(err)
		if got.Credentials.APIToken.Reveal() != SampleToken {
			t.Fatal("secret lost in reseal")
		}
		if h, err := f.s.EventHook(f.ctx, created.ID); err != nil || h.Secret.Reveal() != "hook-secret" {
			t.Fatalf("event hook secret after reseal: %v", err)
		}
	})
}

func (su suite) health(t *testing.T) {
	f := su.open(t)
	_, err := f.s.Health(f.ctx, 1)
	wantErr(t, "missing health", err, store.ErrNotFound)
	h := store.Health{
		IntegrationID: 1, State: store.HealthDegraded, Reason: "rate limited (429) on /api/v1/logs", Fix: "lower the budget share",
		LastEventAt: epoch.Add(-time.Minute), Lag: 75 * time.Second, EventsCollected: 1234, RequestsMade: 56, BudgetShareUsed: 0.42,
	}
	f.must(f.s.SetHealth(f.ctx, h))
	f.h.Clock.Advance(time.Second)
	f.must(f.s.SetHealth(f.ctx, store.Health{IntegrationID: 2, State: store.HealthPending}))
	got, err := f.s.Health(f.ctx, 1)
	f.must(err)
	h.UpdatedAt = epoch
	if !got.LastEventAt.Equal(h.LastEventAt) || !got.UpdatedAt.Equal(epoch) {
		t.Fatalf("health times %+v", got)
	}
	got.LastEventAt, got.UpdatedAt, h.LastEventAt, h.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if got != h {
		t.Fatalf("health %+v, want %+v", got, h)
	}
	h.State, h.Reason, h.Fix = store.HealthCollecting, "", ""
	f.must(f.s.SetHealth(f.ctx, h))
	all, err := f.s.ListHealth(f.ctx)
	f.must(err)
	if len(all) != 2 || all[0].State != store.HealthCollecting || all[0].Reason != "" || all[1].State != store.HealthPending {
		t.Fatalf("list %+v", all)
	}
	wantErr(t, "unknown state", f.s.SetHealth(f.ctx, store.Health{IntegrationID: 1, State: "sleepy"}), store.ErrInvalid)
}

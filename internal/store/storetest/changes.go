package storetest

import (
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
)

// integrationChanges checks what running collectors rely on to notice rotated credentials: every
// write moves an integration's UpdatedAt forward even when the clock does not move, versions
// are readable without secrets, and SetDPoPKey never overwrites a record that changed meanwhile.
func (su suite) integrationChanges(t *testing.T) {
	f := su.open(t) // the clock stays at epoch throughout
	in, err := f.s.CreateIntegration(f.ctx, store.Integration{Name: "globex", OrgURL: "https://globex.okta.com", AuthKind: store.AuthOAuth,
		ClientID: "0oa1", KeyID: "kid-1", Enabled: true, CustomAttributes: store.DefaultAttributeNames,
		Credentials: store.Credentials{PrivateKeyPEM: secret.New(SamplePrivateKey)}})
	f.must(err)
	other, err := f.s.CreateIntegration(f.ctx, sampleIntegration("acme"))
	f.must(err)
	version := func(id int64) time.Time {
		t.Helper()
		vs, err := f.s.IntegrationVersions(f.ctx)
		f.must(err)
		if len(vs) != 2 {
			t.Fatalf("versions of %d integrations, want 2", len(vs))
		}
		return vs[id]
	}
	v0 := version(in.ID)
	if !v0.Equal(in.UpdatedAt) {
		t.Fatalf("version %s, record says %s", v0, in.UpdatedAt)
	}
	stale := in
	in.KeyID = "kid-2"
	in, err = f.s.UpdateIntegration(f.ctx, in)
	f.must(err)
	v1 := version(in.ID)
	if !v1.After(v0) || !v1.Equal(in.UpdatedAt) {
		t.Fatalf("update within one clock tick: version %s -> %s (record %s)", v0, v1, in.UpdatedAt)
	}
	f.must(f.s.SetIntegrationEnabled(f.ctx, in.ID, false))
	v2 := version(in.ID)
	if !v2.After(v1) {
		t.Fatalf("disable within one clock tick: version %s -> %s", v1, v2)
	}
	if !version(other.ID).Equal(other.UpdatedAt) {
		t.Fatal("another integration's version moved")
	}

	_, err = f.s.SetDPoPKey(f.ctx, in.ID, secret.New("dpop-old"), stale.UpdatedAt)
	wantErr(t, "DPoP key for a stale record", err, store.ErrChanged)
	_, err = f.s.SetDPoPKey(f.ctx, 9999, secret.New("dpop"), v2)
	wantErr(t, "DPoP key for a missing record", err, store.ErrChanged)
	v3, err := f.s.SetDPoPKey(f.ctx, in.ID, secret.New("dpop-new"), v2)
	f.must(err)
	got, err := f.s.Integration(f.ctx, in.ID)
	f.must(err)
	if !v3.After(v2) || !got.UpdatedAt.Equal(v3) || got.KeyID != "kid-2" || got.Enabled ||
		got.Credentials.DPoPKeyPEM.Reveal() != "dpop-new" || got.Credentials.PrivateKeyPEM.Reveal() != SamplePrivateKey {
		t.Fatalf("after SetDPoPKey: version %s -> %s, record %+v", v2, v3, got)
	}
}

package sqlite

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
)

// dataDirWith makes a data directory whose key file holds one key and whose integrations named
// names each have an API token sealed under it.
func dataDirWith(t *testing.T, names ...string) string {
	t.Helper()
	t.Setenv(secret.EnvMasterKey, "")
	dir := filepath.Join(t.TempDir(), "data")
	s, err := OpenDataDir(t.Context(), dir, Options{Keys: KeyStore})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, n := range names {
		if _, err := s.CreateIntegration(t.Context(), store.Integration{Name: n, OrgURL: "https://" + n + ".okta.com",
			AuthKind: store.AuthAPIToken, Credentials: store.Credentials{APIToken: secret.New("token-" + n)}}); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func keyFileID(t *testing.T, dir string) uint32 {
	t.Helper()
	keys, err := secret.ReadKeyFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	return secret.KeyID(keys[0])
}

// TestLostKeyFile: with master.key gone, collecting refuses and names the fix instead of
// creating a new key; listing shows each integration as unreadable; storing new credentials
// creates a new key, after which the rest stay listed as unreadable and collection may start.
func TestLostKeyFile(t *testing.T) {
	dir := dataDirWith(t, "acme", "globex")
	oldID := keyFileID(t, dir)
	keyPath := filepath.Join(dir, secret.KeyFileName)
	if err := os.Remove(keyPath); err != nil {
		t.Fatal(err)
	}
	_, err := OpenDataDir(t.Context(), dir, Options{Keys: KeyCollect})
	if !errors.Is(err, ErrMasterKey) {
		t.Fatalf("collecting without the key: %v, want ErrMasterKey", err)
	}
	for _, want := range []string{"acme, globex", secret.KeyFileName, "integrations update", fmtID(oldID)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not mention %q", err, want)
		}
	}
	if _, err := os.Stat(keyPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a new key file was created while sealed credentials exist: %v", err)
	}

	s, err := OpenDataDir(t.Context(), dir, Options{Keys: KeyRead})
	if err != nil {
		t.Fatalf("reading without the key: %v", err)
	}
	list, err := s.ListIntegrations(t.Context())
	if err != nil || len(list) != 2 {
		t.Fatalf("list without the key: %d, %v", len(list), err)
	}
	for _, in := range list {
		if !strings.HasPrefix(in.CredentialsError, "credentials unreadable: sealed under master key "+fmtID(oldID)) || !in.Credentials.APIToken.IsZero() {
			t.Fatalf("listed %s with credentials error %q", in.Name, in.CredentialsError)
		}
	}
	_, err = s.Integration(t.Context(), list[0].ID)
	if !errors.Is(err, store.ErrCredentialsUnreadable) || !errors.Is(err, secret.ErrUnknownKey) || !strings.Contains(err.Error(), "integrations update acme") {
		t.Fatalf("get without the key: %v", err)
	}
	if err := s.SetIntegrationEnabled(t.Context(), list[1].ID, false); err != nil {
		t.Fatalf("disable an unreadable integration: %v", err)
	}
	s.Close()
	if _, err := os.Stat(keyPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a read-only open created a key file")
	}

	s, err = OpenDataDir(t.Context(), dir, Options{Keys: KeyStore})
	if err != nil {
		t.Fatalf("storing new credentials without the key: %v", err)
	}
	acme := list[0]
	acme.Credentials.APIToken, acme.CredentialsError = secret.New("fresh"), ""
	if _, err := s.UpdateIntegration(t.Context(), acme); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if newID := keyFileID(t, dir); newID == oldID {
		t.Fatal("the new key has the old id")
	}
	s, err = OpenDataDir(t.Context(), dir, Options{Keys: KeyCollect})
	if err != nil {
		t.Fatalf("collecting with one readable integration: %v", err)
	}
	defer s.Close()
	got, err := s.Integration(t.Context(), acme.ID)
	if err != nil || got.Credentials.APIToken.Reveal() != "fresh" {
		t.Fatalf("updated integration: %v", err)
	}
	list, _ = s.ListIntegrations(t.Context())
	if list[0].CredentialsError != "" || list[1].CredentialsError == "" {
		t.Fatalf("after updating one: %q, %q", list[0].CredentialsError, list[1].CredentialsError)
	}
}

// TestWrongEnvKey: an IDWATCH_MASTER_KEY that opens none of the stored secrets is refused for
// collection, naming the key ids, and tolerated for reading.
func TestWrongEnvKey(t *testing.T) {
	dir := dataDirWith(t, "acme")
	oldID := keyFileID(t, dir)
	wrong := bytes.Repeat([]byte{5}, secret.KeySize)
	t.Setenv(secret.EnvMasterKey, base64.StdEncoding.EncodeToString(wrong))
	_, err := OpenDataDir(t.Context(), dir, Options{Keys: KeyCollect})
	if !errors.Is(err, ErrMasterKey) || !strings.Contains(err.Error(), secret.EnvMasterKey) ||
		!strings.Contains(err.Error(), fmtID(oldID)) || !strings.Contains(err.Error(), fmtID(secret.KeyID(wrong))) {
		t.Fatalf("collecting with a wrong key: %v", err)
	}
	s, err := OpenDataDir(t.Context(), dir, Options{Keys: KeyRead})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	list, err := s.ListIntegrations(t.Context())
	if err != nil || len(list) != 1 || !strings.Contains(list[0].CredentialsError, "which is not loaded") {
		t.Fatalf("list with a wrong key: %+v %v", list, err)
	}
	counts, err := s.SealedKeyIDs(t.Context())
	if err != nil || len(counts) != 1 || counts[oldID] != 1 {
		t.Fatalf("sealed key ids %v %v", counts, err)
	}
}

// TestDamagedSecretListed: a damaged ciphertext makes its integration unreadable, not the list.
func TestDamagedSecretListed(t *testing.T) {
	dir := dataDirWith(t, "acme", "globex")
	s, err := OpenDataDir(t.Context(), dir, Options{Keys: KeyCollect})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.w.ExecContext(context.Background(), `UPDATE integrations SET api_token = X'0102' WHERE name = 'globex'`); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListIntegrations(t.Context())
	if err != nil || len(list) != 2 || list[0].CredentialsError != "" || list[0].Credentials.APIToken.Reveal() != "token-acme" ||
		!strings.Contains(list[1].CredentialsError, "damaged") {
		t.Fatalf("list with a damaged secret: %+v %v", list, err)
	}
}

func fmtID(id uint32) string { return fmt.Sprintf("%08x", id) }

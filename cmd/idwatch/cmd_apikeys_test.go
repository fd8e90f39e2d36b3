package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/server"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// TestAPIKeysCommands creates, lists and revokes keys: the key is printed once, only its hash is
// stored, list never shows it, and a revoked key no longer authenticates.
func TestAPIKeysCommands(t *testing.T) {
	t.Setenv("IDWATCH_MASTER_KEY", "")
	dir := t.TempDir()
	code, out, errOut := runCLI(t, "", "apikeys", "create", "--name", "soc-bot", "--role", "analyst", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("create: %d %s", code, errOut)
	}
	key := strings.TrimSpace(out)
	if !strings.HasPrefix(key, server.KeyPrefix) || !strings.Contains(errOut, "only time it is shown") {
		t.Fatalf("create printed %q / %q", out, errOut)
	}
	if code, _, errOut := runCLI(t, "", "apikeys", "create", "--name", "soc-bot", "--role", "viewer", "--data-dir", dir); code == 0 {
		t.Fatalf("a second key with the same name was created: %s", errOut)
	}
	if code, _, errOut := runCLI(t, "", "apikeys", "create", "--name", "x", "--role", "root", "--data-dir", dir); code == 0 || !strings.Contains(errOut, "admin, analyst or viewer") {
		t.Fatalf("unknown role: %d %s", code, errOut)
	}
	code, out, _ = runCLI(t, "", "apikeys", "list", "--json", "--data-dir", dir)
	if code != 0 || strings.Contains(out, key) || !strings.Contains(out, `"role":"analyst"`) {
		t.Fatalf("list: %d %s", code, out)
	}
	db, err := os.ReadFile(filepath.Join(dir, "idwatch.db"))
	if err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile(filepath.Join(dir, "idwatch.db-wal"))
	if bytes.Contains(append(db, wal...), []byte(key)) {
		t.Fatal("the key itself is in the database")
	}
	st, err := sqlite.OpenDataDir(t.Context(), dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if k, err := st.APIKeyByHash(t.Context(), server.HashKey(key)); err != nil || k.Name != "soc-bot" {
		t.Fatalf("look-up by hash: %+v %v", k, err)
	}
	st.Close()
	if code, _, errOut := runCLI(t, "", "apikeys", "revoke", "soc-bot", "--data-dir", dir); code != 0 {
		t.Fatalf("revoke: %s", errOut)
	}
	st, err = sqlite.OpenDataDir(t.Context(), dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.APIKeyByHash(t.Context(), server.HashKey(key)); err == nil {
		t.Fatal("a revoked key still authenticates")
	}
	if code, _, _ := runCLI(t, "", "apikeys", "revoke", "soc-bot", "--data-dir", dir); code == 0 {
		t.Fatal("revoking twice succeeded")
	}
}

// TestFirstStartAdminKey: with no active key, serve's start creates one admin key, prints it,
// and (stderr not being a terminal) writes it 0600 to the data directory; a second start does
// nothing.
func TestFirstStartAdminKey(t *testing.T) {
	t.Setenv("IDWATCH_MASTER_KEY", "")
	dir := t.TempDir()
	st, err := sqlite.OpenDataDir(t.Context(), dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var errb bytes.Buffer
	io := stdio{out: &bytes.Buffer{}, err: &errb, log: slog.New(slog.DiscardHandler)}
	if err := ensureAdminKey(context.Background(), io, st, dir); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, initialAdminFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(string(b))
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", fi.Mode().Perm())
	}
	if !strings.Contains(errb.String(), key) {
		t.Fatalf("the key was not printed: %s", errb.String())
	}
	k, err := st.APIKeyByHash(t.Context(), server.HashKey(key))
	if err != nil || k.Role != "admin" || k.Name != "initial-admin" {
		t.Fatalf("stored key %+v %v", k, err)
	}
	errb.Reset()
	if err := ensureAdminKey(context.Background(), io, st, dir); err != nil || errb.Len() != 0 {
		t.Fatalf("second start: %v %q", err, errb.String())
	}
	keys, _ := st.ListAPIKeys(t.Context())
	if len(keys) != 1 {
		b, _ := json.Marshal(keys)
		t.Fatalf("keys after two starts: %s", b)
	}
}

package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// rotationDataDir makes a data directory with two integrations sealed under its key file.
func rotationDataDir(t *testing.T) (string, string) {
	t.Helper()
	t.Setenv(secret.EnvMasterKey, "")
	dir := filepath.Join(t.TempDir(), "data")
	dd := "--data-dir=" + dir
	for _, n := range []string{"acme", "globex"} {
		mustCLI(t, "integrations", "add", dd, "--name", n, "--org-url", "https://"+n+".okta.com", "--api-token", "tok-"+n, "--no-verify")
	}
	return dir, dd
}

// fileKeyIDs returns the ids of the key file's keys, newest first.
func fileKeyIDs(t *testing.T, dir string) []uint32 {
	t.Helper()
	keys, err := secret.ReadKeyFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint32
	for _, k := range keys {
		ids = append(ids, secret.KeyID(k))
	}
	return ids
}

// checkOpens asserts that the data directory opens for collection with the keys it holds and
// that every integration's token reads back.
func checkOpens(t *testing.T, dir string) {
	t.Helper()
	st, err := sqlite.OpenDataDir(t.Context(), dir, sqlite.Options{Keys: sqlite.KeyCollect})
	if err != nil {
		t.Fatalf("data directory does not open: %v", err)
	}
	defer st.Close()
	ins, err := st.ListIntegrations(t.Context())
	if err != nil || len(ins) != 2 {
		t.Fatalf("list: %d, %v", len(ins), err)
	}
	for _, in := range ins {
		if in.CredentialsError != "" || in.Credentials.APIToken.Reveal() != "tok-"+in.Name {
			t.Fatalf("%s unreadable: %s", in.Name, in.CredentialsError)
		}
	}
}

func TestMasterKeyRotate(t *testing.T) {
	dir, dd := rotationDataDir(t)
	old := fileKeyIDs(t, dir)
	var res rotationResult
	if err := json.Unmarshal([]byte(mustCLI(t, "masterkey", "rotate", dd, "--json")), &res); err != nil {
		t.Fatal(err)
	}
	now := fileKeyIDs(t, dir)
	if len(old) != 1 || len(now) != 1 || now[0] == old[0] {
		t.Fatalf("key file ids %x before, %x after: want one new key", old, now)
	}
	if res.Resealed != 2 || len(res.Retired) != 1 || res.Retired[0] != fmtKeyID(old[0]) || res.KeyID != fmtKeyID(now[0]) {
		t.Fatalf("result %+v", res)
	}
	checkOpens(t, dir)
	st, err := sqlite.OpenDataDir(t.Context(), dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	counts, err := st.SealedKeyIDs(t.Context())
	st.Close()
	if err != nil || len(counts) != 1 || counts[now[0]] != 2 {
		t.Fatalf("sealed key ids after rotation: %v %v", counts, err)
	}
	out := mustCLI(t, "masterkey", "rotate", dd)
	if !strings.Contains(out, "back up the new") || fileKeyIDs(t, dir)[0] == now[0] {
		t.Fatalf("second rotation: %s", out)
	}
	checkOpens(t, dir)
}

// TestMasterKeyRotateCrash stops rotation after each durable step, as a kill would: the data
// directory must open with the key file as left, and rotating again must finish the job.
func TestMasterKeyRotateCrash(t *testing.T) {
	for _, step := range []string{"extended", "resealed", "retired"} {
		t.Run(step, func(t *testing.T) {
			dir, dd := rotationDataDir(t)
			r := keyRotation{dir: dir, io: stdio{log: slog.New(slog.DiscardHandler)}, after: func(s string) error {
				if s == step {
					return errors.New("killed")
				}
				return nil
			}}
			if _, err := r.run(t.Context()); err == nil || err.Error() != "killed" {
				t.Fatalf("rotation stopped at %s: %v", step, err)
			}
			checkOpens(t, dir)
			mustCLI(t, "masterkey", "rotate", dd)
			if ids := fileKeyIDs(t, dir); len(ids) != 1 {
				t.Fatalf("after finishing: %d keys in the key file", len(ids))
			}
			checkOpens(t, dir)
		})
	}
}

// TestMasterKeyRotateRefusals: rotation refuses while serve holds the data directory, while
// credentials no key opens are stored, and with one key in the environment.
func TestMasterKeyRotateRefusals(t *testing.T) {
	dir, dd := rotationDataDir(t)
	c := &common{dataDir: dir}
	lock, err := c.lockDataDir("serve")
	if err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "", "masterkey", "rotate", dd)
	if code != 1 || !strings.Contains(errOut, "in use by idwatch serve (pid") {
		t.Fatalf("rotate beside serve: exit %d\n%s", code, errOut)
	}
	lock.Release()

	key := func(b byte) []byte { return bytes.Repeat([]byte{b}, secret.KeySize) }
	t.Setenv(secret.EnvMasterKey, base64.StdEncoding.EncodeToString(key(1)))
	code, _, errOut = runCLI(t, "", "masterkey", "rotate", dd)
	if code != 2 || !strings.Contains(errOut, "NEW,OLD") {
		t.Fatalf("rotate with one env key: exit %d\n%s", code, errOut)
	}
	t.Setenv(secret.EnvMasterKey, base64.StdEncoding.EncodeToString(key(2))+","+base64.StdEncoding.EncodeToString(key(1)))
	code, _, errOut = runCLI(t, "", "masterkey", "rotate", dd)
	if code != 1 || !strings.Contains(errOut, "cannot re-seal credentials that no loaded key opens") || !strings.Contains(errOut, "acme") {
		t.Fatalf("rotate with keys that open nothing: exit %d\n%s", code, errOut)
	}
}

// TestMasterKeyRotateEnv: with NEW,OLD in the environment, rotate re-seals under NEW, after
// which NEW alone opens everything.
func TestMasterKeyRotateEnv(t *testing.T) {
	dir, dd := rotationDataDir(t)
	keys, err := secret.ReadKeyFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	fresh := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, secret.KeySize))
	t.Setenv(secret.EnvMasterKey, fresh+","+base64.StdEncoding.EncodeToString(keys[0]))
	if out := mustCLI(t, "masterkey", "rotate", dd); !strings.Contains(out, "set IDWATCH_MASTER_KEY to its first key alone") {
		t.Fatalf("env rotation: %s", out)
	}
	t.Setenv(secret.EnvMasterKey, fresh)
	checkOpens(t, dir)
}

func fmtKeyID(id uint32) string { return fmt.Sprintf("%08x", id) }

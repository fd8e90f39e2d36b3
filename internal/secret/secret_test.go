package secret

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const token = "00abcDEFsupersecretTOKEN123"

func TestValueNeverPrints(t *testing.T) {
	v := New(token)
	type holder struct {
		Name  string
		Token Value
		Ptr   *Value
	}
	h := holder{Name: "x", Token: v, Ptr: &v}
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("m", "token", v, "holder", h)
	js, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	outs := []string{
		fmt.Sprint(v), fmt.Sprintf("%v %+v %#v %s %q %x %X %d", v, v, v, v, v, v, v, v),
		fmt.Sprintf("%v %+v %#v", h, h, h), fmt.Sprintf("%v", &h), string(js), logBuf.String(), v.String(),
	}
	for _, o := range outs {
		if strings.Contains(o, token) || strings.Contains(o, fmt.Sprintf("%x", token)) {
			t.Errorf("secret leaked in %q", o)
		}
		if !strings.Contains(o, Redacted) {
			t.Errorf("no redaction marker in %q", o)
		}
	}
	if v.Reveal() != token {
		t.Fatal("Reveal lost the secret")
	}
	if New("").String() != "" {
		t.Error("empty value should print empty")
	}
}

func TestValueUnmarshal(t *testing.T) {
	var v Value
	if err := json.Unmarshal([]byte(`"abc"`), &v); err != nil || v.Reveal() != "abc" {
		t.Fatalf("got %v, %v", v.Reveal(), err)
	}
	if err := json.Unmarshal([]byte(`"`+Redacted+`"`), &v); err == nil {
		t.Fatal("accepted the redacted placeholder as a secret")
	}
	if err := json.Unmarshal([]byte(`12`), &v); err == nil {
		t.Fatal("accepted a number")
	}
}

func key(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func TestSealOpen(t *testing.T) {
	k, err := NewKeyring(key(1))
	if err != nil {
		t.Fatal(err)
	}
	aad := []byte("integration/1/api_token")
	ct, err := k.Seal([]byte(token), aad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, []byte(token)) {
		t.Fatal("ciphertext contains plaintext")
	}
	if len(ct) != len(token)+Overhead {
		t.Fatalf("len %d, want %d", len(ct), len(token)+Overhead)
	}
	ct2, _ := k.Seal([]byte(token), aad)
	if bytes.Equal(ct, ct2) {
		t.Fatal("two seals of the same plaintext are equal: nonce reuse")
	}
	pt, err := k.Open(ct, aad)
	if err != nil || string(pt) != token {
		t.Fatalf("open: %q, %v", pt, err)
	}
	if _, err := k.Open(ct, []byte("integration/2/api_token")); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("wrong aad: %v", err)
	}
	for i := range ct {
		bad := bytes.Clone(ct)
		bad[i] ^= 0x40
		if _, err := k.Open(bad, aad); err == nil {
			t.Fatalf("flipping byte %d went unnoticed", i)
		}
	}
	other, _ := NewKeyring(key(2))
	if _, err := other.Open(ct, aad); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("other key: %v", err)
	}
}

func TestRotation(t *testing.T) {
	old, _ := NewKeyring(key(1))
	ct, _ := old.Seal([]byte(token), nil)
	rotated, err := NewKeyring(key(2), key(1))
	if err != nil {
		t.Fatal(err)
	}
	if !rotated.NeedsReseal(ct) {
		t.Fatal("old ciphertext should need resealing")
	}
	pt, err := rotated.Open(ct, nil)
	if err != nil || string(pt) != token {
		t.Fatalf("open with old key: %v", err)
	}
	ct2, _ := rotated.Seal(pt, nil)
	if rotated.NeedsReseal(ct2) {
		t.Fatal("new ciphertext should use the primary key")
	}
	if _, err := NewKeyring(key(1), key(1)); err == nil {
		t.Fatal("duplicate key accepted")
	}
	if _, err := NewKeyring([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
	if s := fmt.Sprintf("%v %#v", rotated, rotated); strings.Contains(s, string(key(2))) {
		t.Fatal("keyring printed key material")
	}
}

func TestLoadFromEnv(t *testing.T) {
	env := map[string]string{EnvMasterKey: base64.StdEncoding.EncodeToString(key(3)) + "," + base64.RawURLEncoding.EncodeToString(key(4))}
	k, err := Load(LoadOptions{Getenv: func(s string) string { return env[s] }})
	if err != nil {
		t.Fatal(err)
	}
	if k.PrimaryID() != KeyID(key(3)) || len(k.order) != 2 {
		t.Fatalf("wrong keyring %v", k)
	}
	secretText := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 16))
	env[EnvMasterKey] = secretText
	_, err = Load(LoadOptions{Getenv: func(s string) string { return env[s] }})
	if err == nil || strings.Contains(err.Error(), secretText) {
		t.Fatalf("short key: err %v must exist and not echo the key", err)
	}
}

func TestLoadKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	noEnv := func(string) string { return "" }
	if _, err := Load(LoadOptions{DataDir: dir, Getenv: noEnv}); !errors.Is(err, ErrNoKey) {
		t.Fatalf("load without Create and without a key: %v, want ErrNoKey", err)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatal("load without Create made the data directory")
	}
	k1, err := Load(LoadOptions{DataDir: dir, Getenv: noEnv, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, KeyFileName)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %o, want 600", st.Mode().Perm())
	}
	k2, err := Load(LoadOptions{DataDir: dir, Getenv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	if k1.PrimaryID() != k2.PrimaryID() {
		t.Fatal("second load made a new key")
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(LoadOptions{DataDir: dir, Getenv: noEnv}); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable key file: %v", err)
	}
	if _, err := Load(LoadOptions{Getenv: noEnv}); err == nil {
		t.Fatal("no dir and no env accepted")
	}
}

func FuzzOpen(f *testing.F) {
	k, _ := NewKeyring(key(1))
	ct, _ := k.Seal([]byte("seed"), []byte("a"))
	f.Add(ct, []byte("a"))
	f.Add([]byte{}, []byte{})
	f.Add([]byte{1, 0, 0, 0, 0}, []byte("a"))
	f.Fuzz(func(t *testing.T, ct, aad []byte) {
		pt, err := k.Open(ct, aad)
		if err == nil && (string(pt) != "seed" || string(aad) != "a") {
			t.Fatalf("forged ciphertext opened: %q", pt)
		}
	})
}

func FuzzParseKeys(f *testing.F) {
	f.Add(base64.StdEncoding.EncodeToString(key(1)))
	f.Add("# comment\n" + base64.RawURLEncoding.EncodeToString(key(1)) + ", x")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		keys, err := ParseKeys(s)
		if err != nil {
			return
		}
		for _, k := range keys {
			if len(k) != KeySize {
				t.Fatalf("key of %d bytes accepted", len(k))
			}
		}
	})
}

// TestLoadCreateConcurrent starts many first loads of one data directory at once: each must see
// a whole key file, and all the same key.
func TestLoadCreateConcurrent(t *testing.T) {
	noEnv := func(string) string { return "" }
	for round := range 10 {
		dir := filepath.Join(t.TempDir(), fmt.Sprint("data", round))
		const n = 8
		ids := make([]uint32, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				k, err := Load(LoadOptions{DataDir: dir, Getenv: noEnv, Create: true})
				if err == nil {
					ids[i] = k.PrimaryID()
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("round %d load %d: %v", round, i, errs[i])
			}
			if ids[i] != ids[0] {
				t.Fatalf("round %d: loads got different keys %08x and %08x", round, ids[0], ids[i])
			}
		}
		left, _ := filepath.Glob(filepath.Join(dir, ".master.key.tmp-*"))
		if len(left) > 0 {
			t.Fatalf("temporary key files left behind: %v", left)
		}
	}
}

func TestWriteKeyFile(t *testing.T) {
	dir := t.TempDir()
	if err := WriteKeyFile(dir, key(1), key(2)); err != nil {
		t.Fatal(err)
	}
	keys, err := ReadKeyFile(dir)
	if err != nil || len(keys) != 2 || !bytes.Equal(keys[0], key(1)) || !bytes.Equal(keys[1], key(2)) {
		t.Fatalf("read back %d keys, %v", len(keys), err)
	}
	if err := WriteKeyFile(dir, key(3)); err != nil {
		t.Fatal(err)
	}
	k, err := Load(LoadOptions{DataDir: dir, Getenv: func(string) string { return "" }})
	if err != nil || k.PrimaryID() != KeyID(key(3)) || len(k.IDs()) != 1 || !k.Has(KeyID(key(3))) || k.Has(KeyID(key(1))) {
		t.Fatalf("after replacing: %v %v", k, err)
	}
	st, err := os.Stat(filepath.Join(dir, KeyFileName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", st, err)
	}
	if _, err := ReadKeyFile(t.TempDir()); !errors.Is(err, ErrNoKey) {
		t.Fatalf("missing key file: %v", err)
	}
	if err := WriteKeyFile(dir); err == nil {
		t.Fatal("wrote a key file without keys")
	}
}

// TestWriteExclusive covers key creation on file systems without hard links.
func TestWriteExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), KeyFileName)
	created, err := writeExclusive(path, FormatKeys(key(4)))
	if err != nil || !created {
		t.Fatalf("first: %v %v", created, err)
	}
	if created, err := writeExclusive(path, FormatKeys(key(5))); err != nil || created {
		t.Fatalf("second: %v %v", created, err)
	}
	k, err := readKeyFile(path)
	if err != nil || k.PrimaryID() != KeyID(key(4)) {
		t.Fatalf("kept %v, %v; want the first key", k, err)
	}
}

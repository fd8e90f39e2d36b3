package secret

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// EnvMasterKey is the environment variable holding the master key(s), base64, comma separated,
// newest (sealing) key first.
const EnvMasterKey = "IDWATCH_MASTER_KEY"

// KeyFileName is the key file created in the data directory when EnvMasterKey is not set.
const KeyFileName = "master.key"

// LoadOptions says where Load looks for the master key.
type LoadOptions struct {
	// DataDir holds the key file when the environment does not supply a key.
	DataDir string
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// Logger reports where the key came from (never the key); nil discards.
	Logger *slog.Logger
	// Create lets Load write DataDir/master.key with a fresh key when neither the environment nor
	// the data directory holds one. Without it Load returns ErrNoKey instead: only a caller that
	// knows no secret is sealed under a lost key may create one.
	Create bool
}

// ErrNoKey means neither the environment nor the data directory holds a master key.
var ErrNoKey = errors.New("secret: no master key: " + EnvMasterKey + " is not set and the data directory has no " + KeyFileName)

// EnvValue returns EnvMasterKey's value, trimmed ("" when unset).
func (o LoadOptions) EnvValue() string {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	return strings.TrimSpace(getenv(EnvMasterKey))
}

// Source names where Load takes the key from: the environment variable or the key file's path.
func (o LoadOptions) Source() string {
	if o.EnvValue() != "" {
		return EnvMasterKey
	}
	return filepath.Join(o.DataDir, KeyFileName)
}

// FromEnv reports whether Load takes the key from the environment.
func (o LoadOptions) FromEnv() bool { return o.Source() == EnvMasterKey }

// Validate checks that the options can locate a key.
func (o LoadOptions) Validate() error {
	if o.DataDir == "" {
		return errors.New("secret: no data directory to keep the master key in; pass --data-dir or set " + EnvMasterKey)
	}
	return nil
}

// Load returns the keyring from EnvMasterKey when set, otherwise from DataDir/master.key, creating
// that file (mode 0600, a fresh random key) when o.Create is set and it is missing. Errors never
// contain key material.
func Load(o LoadOptions) (*Keyring, error) {
	getenv, log := o.Getenv, o.Logger
	if getenv == nil {
		getenv = os.Getenv
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if v := strings.TrimSpace(getenv(EnvMasterKey)); v != "" {
		keys, err := ParseKeys(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvMasterKey, err)
		}
		k, err := NewKeyring(keys...)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvMasterKey, err)
		}
		log.Info("master key loaded", "source", "env", "var", EnvMasterKey, "key_id", fmt.Sprintf("%08x", k.PrimaryID()))
		return k, nil
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	path := filepath.Join(o.DataDir, KeyFileName)
	var created uint32
	if o.Create {
		var err error
		if created, err = ensureKeyFile(o.DataDir, path); err != nil {
			return nil, err
		}
	}
	k, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w (%s)", ErrNoKey, path)
	}
	if err != nil {
		return nil, err
	}
	if created != 0 && created != k.PrimaryID() {
		return nil, fmt.Errorf("secret: key file %s changed while it was being created; check that only idwatch writes it", path)
	}
	if created != 0 {
		log.Warn("created a new master key file; back it up: secrets stored with it cannot be read without it",
			"path", path, "key_id", fmt.Sprintf("%08x", k.PrimaryID()))
	} else {
		log.Info("master key loaded", "source", "file", "path", path, "key_id", fmt.Sprintf("%08x", k.PrimaryID()))
	}
	return k, nil
}

// ParseKeys decodes base64 keys separated by commas, spaces or newlines (standard or URL alphabet,
// padded or not). Lines starting with # are comments.
func ParseKeys(s string) ([][]byte, error) {
	var keys [][]byte
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, f := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\r' }) {
			key, err := decodeKey(f)
			if err != nil {
				return nil, fmt.Errorf("key %d: %w", len(keys)+1, err)
			}
			keys = append(keys, key)
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("no key found (expected base64 of 32 random bytes: head -c 32 /dev/urandom | base64)")
	}
	return keys, nil
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("decodes to %d bytes, want %d (generate one with: head -c 32 /dev/urandom | base64)", len(b), KeySize)
			}
			return b, nil
		}
	}
	return nil, errors.New("not valid base64 (generate one with: head -c 32 /dev/urandom | base64)")
}

// ensureKeyFile creates the key file with a fresh key unless it exists, and returns the new key's
// id (0 when the file existed). The key is written and synced under a temporary name and then
// linked into place, which fails if the name exists: a process starting at the same time sees
// either no key file or a whole one, and two processes never end up with different keys.
func ensureKeyFile(dir, path string) (uint32, error) {
	if _, err := os.Stat(path); err == nil {
		return 0, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("secret: reading key file %s: %w", path, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, fmt.Errorf("secret: creating data directory %s: %w (fix its permissions or choose another --data-dir)", dir, err)
	}
	key := make([]byte, KeySize)
	defer clear(key)
	if _, err := rand.Read(key); err != nil {
		return 0, fmt.Errorf("secret: generating master key: %w", err)
	}
	content := FormatKeys(key)
	tmp, err := writeTemp(dir, KeyFileName, content)
	if err != nil {
		return 0, fmt.Errorf("secret: creating key file %s: %w (make the directory writable or set %s)", path, err, EnvMasterKey)
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); errors.Is(err, fs.ErrExist) {
		return 0, nil // another process created it first; use that one
	} else if err != nil {
		// A file system without hard links: claim the name exclusively and fill it in place.
		if created, err := writeExclusive(path, content); err != nil || !created {
			return 0, err
		}
	}
	if err := syncDir(dir); err != nil {
		return 0, fmt.Errorf("secret: creating key file %s: %w", path, err)
	}
	return KeyID(key), nil
}

// writeExclusive creates path with content unless it exists, reporting whether it did.
func writeExclusive(path, content string) (bool, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("secret: creating key file %s: %w (make the directory writable or set %s)", path, err, EnvMasterKey)
	}
	_, err = f.WriteString(content)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return false, fmt.Errorf("secret: writing key file %s: %w", path, err)
	}
	return true, nil
}

func readKeyFile(path string) (*Keyring, error) {
	keys, err := readKeys(path)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, k := range keys {
			clear(k)
		}
	}()
	k, err := NewKeyring(keys...)
	if err != nil {
		return nil, fmt.Errorf("secret: key file %s: %w", path, err)
	}
	return k, nil
}

// ReadKeyFile returns the keys of DataDir/master.key, newest first, for rotation; a missing file
// is ErrNoKey.
func ReadKeyFile(dir string) ([][]byte, error) {
	path := filepath.Join(dir, KeyFileName)
	keys, err := readKeys(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w (%s)", ErrNoKey, path)
	}
	return keys, err
}

// readKeys reads and parses a key file, refusing one that others can read.
func readKeys(path string) ([][]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("secret: key file %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("secret: key file %s is not a regular file", path)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secret: key file %s has mode %04o, readable by others; run: chmod 600 %s", path, st.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret: reading key file %s: %w", path, err)
	}
	defer clear(b)
	keys, err := ParseKeys(string(bytes.TrimSpace(b)))
	if err != nil {
		return nil, fmt.Errorf("secret: key file %s: %w", path, err)
	}
	return keys, nil
}

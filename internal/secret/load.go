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
}

// Validate checks that the options can locate a key.
func (o LoadOptions) Validate() error {
	if o.DataDir == "" {
		return errors.New("secret: no data directory to keep the master key in; pass --data-dir or set " + EnvMasterKey)
	}
	return nil
}

// Load returns the keyring from EnvMasterKey when set, otherwise from DataDir/master.key, creating
// that file (mode 0600, a fresh random key) on first use. Errors never contain key material.
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
	created, err := ensureKeyFile(o.DataDir, path)
	if err != nil {
		return nil, err
	}
	k, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	if created {
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

// ensureKeyFile creates the key file with a fresh key unless it exists; it reports whether it did.
func ensureKeyFile(dir, path string) (bool, error) {
	if _, err := os.Stat(path); err == nil {
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("secret: reading key file %s: %w", path, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("secret: creating data directory %s: %w (fix its permissions or choose another --data-dir)", dir, err)
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return false, fmt.Errorf("secret: generating master key: %w", err)
	}
	// O_EXCL: two processes starting at once must not each write a different key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("secret: creating key file %s: %w (make the directory writable or set %s)", path, err, EnvMasterKey)
	}
	content := "# idwatch master key: back it up; newest key first, older keys after it for rotation\n" +
		base64.StdEncoding.EncodeToString(key) + "\n"
	_, werr := f.WriteString(content)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = os.Remove(path)
		return false, fmt.Errorf("secret: writing key file %s: %w", path, werr)
	}
	return true, nil
}

func readKeyFile(path string) (*Keyring, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("secret: key file %s: %w", path, err)
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
	k, err := NewKeyring(keys...)
	if err != nil {
		return nil, fmt.Errorf("secret: key file %s: %w", path, err)
	}
	return k, nil
}

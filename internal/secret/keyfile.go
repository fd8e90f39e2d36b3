package secret

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// keyFileHeader opens every key file idwatch writes.
const keyFileHeader = "# idwatch master key: back it up, away from the database; newest key first, older keys after it during rotation\n"

// FormatKeys renders keys (newest first) as the content of a key file.
func FormatKeys(keys ...[]byte) string {
	var b strings.Builder
	b.WriteString(keyFileHeader)
	for _, k := range keys {
		b.WriteString(base64.StdEncoding.EncodeToString(k))
		b.WriteByte('\n')
	}
	return b.String()
}

// WriteKeyFile replaces DataDir/master.key with keys (newest first) atomically: the new content is
// written and synced under a temporary name, renamed over the old file, and the directory is
// synced, so a crash leaves either the old file or the new one, never a mix or nothing.
func WriteKeyFile(dir string, keys ...[]byte) error {
	if len(keys) == 0 {
		return errors.New("secret: no key to write")
	}
	path := filepath.Join(dir, KeyFileName)
	content := FormatKeys(keys...)
	tmp, err := writeTemp(dir, KeyFileName, content)
	if err != nil {
		return fmt.Errorf("secret: writing key file %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("secret: replacing key file %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("secret: replacing key file %s: %w", path, err)
	}
	return nil
}

// writeTemp writes content to a new owner-only file next to name in dir and syncs it; the caller
// links or renames it into place.
func writeTemp(dir, name, content string) (string, error) {
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return "", err
	}
	// CreateTemp makes the file 0600 already; Chmod keeps that true whatever the platform does.
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.WriteString(content)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// syncDir makes a link or rename in dir durable. Systems that cannot sync a directory (Windows)
// report an error that is not about durability, which is ignored.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return nil
}

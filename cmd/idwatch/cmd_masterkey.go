package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/idwatch/idwatch/internal/dirlock"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

func runMasterKey(ctx context.Context, io stdio, args []string) error {
	if len(args) == 0 || args[0] != "rotate" {
		return fmt.Errorf("%w: masterkey rotate", errUsage)
	}
	fs := newFlagSet(io, "masterkey rotate", "masterkey rotate [--data-dir D]")
	c := addCommon(fs)
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: masterkey rotate takes no arguments", errUsage)
	}
	lock, err := c.lockDataDir("masterkey rotate")
	if err != nil {
		return err
	}
	defer lock.Release()
	keysLock, err := dirlock.TryExclusive(filepath.Join(c.dataDir, keysLockFileName), "masterkey rotate")
	if errors.Is(err, dirlock.ErrHeld) {
		return fmt.Errorf("an integrations add or update is storing credentials in %s; run this again when it has finished", c.dataDir)
	}
	if err != nil {
		return err
	}
	defer keysLock.Release()
	r := keyRotation{dir: c.dataDir, io: io, env: secret.LoadOptions{DataDir: c.dataDir}.FromEnv()}
	res, err := r.run(ctx)
	if err != nil {
		return err
	}
	if c.json {
		return writeJSON(io, res)
	}
	fmt.Fprintf(io.out, "re-sealed the credentials of %d integrations under master key %s; retired %s\n",
		res.Resealed, res.KeyID, strings.Join(res.Retired, ", "))
	if r.env {
		fmt.Fprintf(io.out, "now set %s to its first key alone, and keep that key in your secrets manager\n", secret.EnvMasterKey)
	} else {
		fmt.Fprintf(io.out, "back up the new %s now, away from the database: without it the stored credentials cannot be read\n",
			filepath.Join(c.dataDir, secret.KeyFileName))
	}
	return nil
}

// rotationResult is what masterkey rotate did.
type rotationResult struct {
	// KeyID is the id of the key that now seals every secret.
	KeyID string `json:"keyId"`
	// Retired are the ids of the keys no secret needs any more.
	Retired []string `json:"retired"`
	// Resealed counts the integrations whose secrets were re-sealed.
	Resealed int `json:"resealed"`
}

// keyRotation re-seals every stored secret under a new master key and retires the old ones. Each
// step is atomic (a key file rename or one database transaction) and the steps are ordered so
// that, if the process dies between any two, the key file holds a key for every stored secret:
//
//  1. the key file becomes [new, old…] (a keyring that opens everything, seals under new);
//  2. one transaction re-seals every secret under the new key;
//  3. the key file becomes [new].
//
// Running rotate again after a crash starts a fresh rotation from whatever keys the file holds.
// With the key in the environment, the operator supplies the new key first in
// IDWATCH_MASTER_KEY, rotate does step 2, and the operator does step 3.
type keyRotation struct {
	dir string
	io  stdio
	env bool
	// after is called after each durable step ("extended", "resealed", "retired"); an error stops
	// the rotation there, as a crash would. Nil outside tests.
	after func(step string) error
}

func (r keyRotation) run(ctx context.Context) (rotationResult, error) {
	keys, err := r.keys()
	if err != nil {
		return rotationResult{}, err
	}
	kr, err := secret.NewKeyring(keys...)
	if err != nil {
		return rotationResult{}, err
	}
	st, err := sqlite.OpenDataDir(ctx, r.dir, sqlite.Options{Sealer: kr, Logger: r.io.log})
	if err != nil {
		return rotationResult{}, err
	}
	defer st.Close()
	ins, err := st.ListIntegrations(ctx)
	if err != nil {
		return rotationResult{}, err
	}
	var unreadable []string
	for _, in := range ins {
		if in.CredentialsError != "" {
			unreadable = append(unreadable, in.Name+" ("+in.CredentialsError+")")
		}
	}
	if len(unreadable) > 0 {
		return rotationResult{}, fmt.Errorf("cannot re-seal credentials that no loaded key opens: %s; add the key that sealed them to %s (after the current one), or give them new credentials (idwatch integrations update NAME) or remove them, then rotate again",
			strings.Join(unreadable, "; "), r.source())
	}
	if !r.env {
		if err := secret.WriteKeyFile(r.dir, keys...); err != nil {
			return rotationResult{}, err
		}
		if err := r.step("extended"); err != nil {
			return rotationResult{}, err
		}
	}
	n, err := st.ResealSecrets(ctx)
	if err != nil {
		return rotationResult{}, fmt.Errorf("re-sealing credentials (nothing was changed; the key file still opens them): %w", err)
	}
	if err := r.step("resealed"); err != nil {
		return rotationResult{}, err
	}
	counts, err := st.SealedKeyIDs(ctx)
	if err != nil {
		return rotationResult{}, err
	}
	for id := range counts {
		if id != kr.PrimaryID() {
			return rotationResult{}, fmt.Errorf("after re-sealing, %d secrets are still sealed under key %08x; the old keys were kept, run rotate again", counts[id], id)
		}
	}
	if !r.env {
		if err := secret.WriteKeyFile(r.dir, keys[0]); err != nil {
			return rotationResult{}, err
		}
		if err := r.step("retired"); err != nil {
			return rotationResult{}, err
		}
	}
	res := rotationResult{KeyID: fmt.Sprintf("%08x", kr.PrimaryID()), Resealed: n, Retired: []string{}}
	for _, id := range kr.IDs()[1:] {
		res.Retired = append(res.Retired, fmt.Sprintf("%08x", id))
	}
	slices.Sort(res.Retired)
	r.io.log.Info("master key rotated", "key_id", res.KeyID, "retired", strings.Join(res.Retired, ","), "resealed", n)
	return res, nil
}

// keys returns the keyring to rotate with, newest (sealing) key first: a fresh key before those of
// the key file, or the environment's keys, where the operator put the new one first.
func (r keyRotation) keys() ([][]byte, error) {
	if r.env {
		keys, err := secret.ParseKeys(secret.LoadOptions{}.EnvValue())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", secret.EnvMasterKey, err)
		}
		if len(keys) < 2 {
			return nil, fmt.Errorf("%w: %s holds one key, and idwatch cannot change the environment: generate a new key (head -c 32 /dev/urandom | base64), "+
				"set %s=NEW,OLD and run idwatch masterkey rotate, then set %s=NEW", errUsage, secret.EnvMasterKey, secret.EnvMasterKey, secret.EnvMasterKey)
		}
		return keys, nil
	}
	old, err := secret.ReadKeyFile(r.dir)
	if errors.Is(err, secret.ErrNoKey) {
		return nil, fmt.Errorf("%w; there is no key to rotate (idwatch creates one when credentials are first stored)", err)
	}
	if err != nil {
		return nil, err
	}
	fresh := make([]byte, secret.KeySize)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("generating a master key: %w", err)
	}
	return append([][]byte{fresh}, old...), nil
}

func (r keyRotation) step(name string) error {
	if r.after == nil {
		return nil
	}
	return r.after(name)
}

func (r keyRotation) source() string {
	if r.env {
		return secret.EnvMasterKey
	}
	return filepath.Join(r.dir, secret.KeyFileName)
}

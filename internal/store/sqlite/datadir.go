package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/idwatch/idwatch/internal/secret"
)

// FileName is the database file's name inside a data directory.
const FileName = "idwatch.db"

// KeyUse says what a caller of OpenDataDir needs the master key for, which decides whether a
// missing key may be created and whether a key that opens no stored secret is refused.
type KeyUse int

const (
	// KeyRead is for callers that use no secret or cope with unreadable ones (listing, export,
	// removal): a missing key is not created, and unreadable integrations are listed as such.
	KeyRead KeyUse = iota
	// KeyCollect is for callers that collect with the stored secrets (serve, collect): a missing
	// key is created only while no secret is stored, and opening fails when secrets are stored
	// and no loaded key opens any of them.
	KeyCollect
	// KeyStore is for callers that store new secrets (integrations add, update): a missing key is
	// created even when secrets sealed under a lost key exist, and the log names those.
	KeyStore
)

// ErrMasterKey means secrets are stored and the loaded master key (if any) opens none of them.
var ErrMasterKey = errors.New("the master key cannot open the stored credentials")

// OpenDataDir opens dir/idwatch.db with the master key from the environment
// (secret.EnvMasterKey) or dir/master.key. o.Keys decides what happens when that key is missing
// or opens none of the stored secrets; a key is never created while secrets sealed under another
// one are stored, unless o.Keys is KeyStore. A Sealer in o is used instead of loading a key;
// other fields of o apply as in Open.
func OpenDataDir(ctx context.Context, dir string, o Options) (*Store, error) {
	if dir == "" {
		return nil, errors.New("sqlite store: no data directory; pass --data-dir")
	}
	o.Path = filepath.Join(dir, FileName)
	if o.Sealer != nil {
		return Open(ctx, o)
	}
	lo := secret.LoadOptions{DataDir: dir, Logger: o.Logger}
	kr, err := secret.Load(lo)
	if err != nil && !errors.Is(err, secret.ErrNoKey) {
		return nil, err
	}
	if kr != nil {
		o.Sealer = kr
	}
	s, err := Open(ctx, o)
	if err != nil {
		return nil, err
	}
	if err := s.settleKey(ctx, lo, kr, o.Keys); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// settleKey applies the KeyUse policy once the database is open and its stored secrets can be
// examined: it creates a missing key where allowed and refuses a key that opens nothing.
func (s *Store) settleKey(ctx context.Context, lo secret.LoadOptions, kr *secret.Keyring, use KeyUse) error {
	ins, err := s.ListIntegrations(ctx)
	if err != nil {
		return err
	}
	if kr == nil {
		// Another process may have created the key since Load. A secret is sealed only after
		// its key file exists, so a key file missing now was missing for every secret listed.
		if kr, err = secret.Load(lo); err == nil {
			s.sealer = kr
			if ins, err = s.ListIntegrations(ctx); err != nil {
				return err
			}
		} else if !errors.Is(err, secret.ErrNoKey) {
			return err
		}
	}
	var unreadable, readable []string
	for _, in := range ins {
		if in.CredentialsError != "" {
			unreadable = append(unreadable, in.Name)
		} else {
			readable = append(readable, in.Name)
		}
	}
	if kr == nil && use != KeyRead && (len(unreadable) == 0 || use == KeyStore) {
		lo.Create = true
		if kr, err = secret.Load(lo); err != nil {
			return err
		}
		s.sealer = kr
		if len(unreadable) > 0 {
			s.log.Warn("created a new master key while integrations hold credentials sealed under a missing one; "+
				"they stay unreadable until the old key is added to the key file after the new one, or they get new credentials",
				"integrations", strings.Join(unreadable, ","), "key_file", lo.Source())
		}
		return nil
	}
	if len(unreadable) == 0 {
		return nil
	}
	sealedUnder, err := s.lostKeyIDs(ctx, kr)
	if err != nil {
		return err
	}
	if use == KeyCollect && len(readable) == 0 && sealedUnder != "" {
		what := fmt.Sprintf("%s does not exist and %s is not set", lo.Source(), secret.EnvMasterKey)
		if kr != nil {
			what = fmt.Sprintf("the master key from %s (key id %08x) opens none of them", lo.Source(), kr.PrimaryID())
		}
		return fmt.Errorf("%w: integrations %s hold credentials sealed under master key %s, and %s. "+
			"Restore that key (the backed-up %s, or set %s to it), or enter new credentials for each: "+
			"idwatch integrations update NAME --api-token-file F (or remove it: idwatch integrations remove NAME). "+
			"idwatch does not replace a key while credentials sealed under it are stored",
			ErrMasterKey, strings.Join(unreadable, ", "), sealedUnder, what, secret.KeyFileName, secret.EnvMasterKey)
	}
	s.log.Warn("integrations whose credentials cannot be opened are skipped: restore the master key that sealed them or run idwatch integrations update NAME",
		"integrations", strings.Join(unreadable, ","), "sealed_under", sealedUnder)
	return nil
}

// lostKeyIDs names the key ids of stored secrets that kr (possibly nil) does not hold.
func (s *Store) lostKeyIDs(ctx context.Context, kr *secret.Keyring) (string, error) {
	counts, err := s.SealedKeyIDs(ctx)
	if err != nil {
		return "", err
	}
	var ids []string
	for id := range counts {
		if kr == nil || !kr.Has(id) {
			ids = append(ids, fmt.Sprintf("%08x", id))
		}
	}
	slices.Sort(ids)
	return strings.Join(ids, ", "), nil
}

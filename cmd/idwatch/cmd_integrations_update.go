package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/dirlock"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// keysLockFileName is the lock that keeps master key rotation apart from commands sealing new
// credentials: those hold it shared, rotation exclusively, so no secret is sealed under a key
// that rotation is about to retire.
const keysLockFileName = "keys.lock"

// lockKeys takes the keys lock shared for a command that seals new credentials, waiting briefly
// for a rotation to finish.
func (c *common) lockKeys(ctx context.Context) (*dirlock.Lock, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	l, err := dirlock.Shared(ctx, filepath.Join(c.dataDir, keysLockFileName))
	if errors.Is(err, dirlock.ErrHeld) {
		var held *dirlock.HeldError
		errors.As(err, &held)
		return nil, fmt.Errorf("the master key of %s is being rotated by %s; run this again when it has finished", c.dataDir, held.Holder)
	}
	return l, err
}

// lookupIntegration finds an integration in a store opened only for reading.
func lookupIntegration(ctx context.Context, io stdio, c *common, name string) (store.Integration, error) {
	st, err := c.openStore(ctx, io, sqlite.KeyRead)
	if err != nil {
		return store.Integration{}, err
	}
	defer st.Close()
	return integration(ctx, st, name)
}

// integrationsUpdate replaces an integration's credentials, keeping its id, cursor, consumer
// offsets, health counters and collected events. The new credentials are verified against the
// org first and refused if the System Log cannot be collected with them. It works whatever state
// the old credentials are in, including sealed under a lost master key.
func integrationsUpdate(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "integrations update", "integrations update NAME (--api-token-file F | --api-token T | --client-id C --key-id K --private-key-file P [--scopes S]) [--features F] [--custom-domain] [--ca-file F] | integrations update NAME --features F")
	c := addCommon(fs)
	var sf secretFlags
	addSecretFlags(fs, &sf)
	feats := addFeaturesFlag(fs)
	var rf reachFlags
	addReachFlags(fs, &rf)
	name, err := parseNameAndFlags(fs, args, "update")
	if err != nil {
		return err
	}
	if feats.given && sf.noCredentials() {
		return integrationsSetFeatures(ctx, io, c, name, feats.set())
	}
	// Check the flags before anything is opened, so a typo writes nothing.
	if err := sf.apply(&store.Integration{}); err != nil {
		return err
	}
	if _, err := readCAFile(rf.caFile); err != nil {
		return err
	}
	if c.dataDir == "" {
		return fmt.Errorf("%w: --data-dir is empty", errUsage)
	}
	lock, err := c.lockKeys(ctx)
	if err != nil {
		return err
	}
	defer lock.Release()
	// Look the integration up without touching the key: credentials that fail verification must
	// leave everything as it was, a missing master key included.
	in, err := lookupIntegration(ctx, io, c, name)
	if err != nil {
		return err
	}
	wasUnreadable := in.CredentialsError != ""
	if err := sf.apply(&in); err != nil {
		return err
	}
	if err := rf.applyGiven(fs, &in); err != nil {
		return err
	}
	in.CredentialsError = ""
	if feats.given {
		in.Features = feats.set().List()
	}
	rep := (&collect.Verifier{Logger: io.log, Dial: io.dial}).VerifyIntegration(ctx, in)
	if !c.json {
		printReport(io, rep)
	}
	if f := rep.Failed(); f != nil {
		if c.json {
			_ = writeJSON(io, map[string]any{"integration": in.Name, "id": in.ID, "action": "update", "updated": false, "verification": rep})
		} else {
			fmt.Fprintf(io.out, "%s: credentials not changed: fix the failed check and run this again\n", in.Name)
		}
		return verifyFailed{}
	}
	if in.OrgID == "" {
		in.OrgID = rep.OrgID
	}
	st, err := c.openStore(ctx, io, sqlite.KeyStore)
	if err != nil {
		return err
	}
	defer st.Close()
	// The record may have changed while Okta was asked: keep its current name, org and state.
	all, err := st.ListIntegrations(ctx)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(all, func(x store.Integration) bool { return x.ID == in.ID })
	if i < 0 {
		return fmt.Errorf("integration %q was removed while its new credentials were verified", name)
	}
	cur := all[i]
	if cur.OrgURL != in.OrgURL {
		return fmt.Errorf("integration %q changed its org while its new credentials were verified; run this again", name)
	}
	in.Name, in.Enabled, in.CustomAttributes = cur.Name, cur.Enabled, cur.CustomAttributes
	if in, err = storeUpdated(ctx, st, in); err != nil {
		return err
	}
	if c.json {
		return writeJSON(io, map[string]any{"integration": in.Name, "id": in.ID, "action": "update", "updated": true, "verification": rep})
	}
	msg := "credentials replaced; collection continues from where it stopped"
	if wasUnreadable {
		msg = "credentials replaced (the old ones could not be opened); collection continues from where it stopped"
	}
	if !in.Enabled {
		msg += "; the integration is disabled: idwatch integrations enable " + in.Name
	}
	fmt.Fprintf(io.out, "%s: %s\n", in.Name, msg)
	return nil
}

// storeUpdated stores a changed integration and resets its health: an error from its old settings
// no longer applies, and the poller reports afresh.
func storeUpdated(ctx context.Context, st *sqlite.Store, in store.Integration) (store.Integration, error) {
	in, err := st.UpdateIntegration(ctx, in)
	if err != nil {
		return in, err
	}
	state := store.HealthPending
	if !in.Enabled {
		state = store.HealthDisabled
	}
	return in, setState(ctx, st, in.ID, state, "", "")
}

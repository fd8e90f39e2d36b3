package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/feature"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// featuresFlag is --features of integrations add and update and of verify.
type featuresFlag struct {
	raw   string
	given bool
}

func addFeaturesFlag(fs *flag.FlagSet) *featuresFlag {
	f := &featuresFlag{}
	fs.Func("features", "comma-separated features to turn on besides log collection: "+feature.Join(feature.Optional())+
		" (default: logs only); a service app requests only the scopes they need", func(s string) error {
		f.raw, f.given = s, true
		_, err := feature.Parse(s)
		return err
	})
	return f
}

// set returns the features given (logs only when the flag is absent).
func (f *featuresFlag) set() feature.Set {
	s, _ := feature.Parse(f.raw) // checked when the flag was parsed
	return s
}

// noCredentials reports whether none of the credential flags was given.
func (f *secretFlags) noCredentials() bool {
	return f.apiToken == "" && f.apiTokenFile == "" && f.clientID == "" && f.keyID == "" && f.keyFile == "" && f.scopes == ""
}

// integrationsSetFeatures changes the features of an integration, keeping its credentials: the
// service app then requests the scopes the new set needs. Verified first; refused, changing
// nothing, if the System Log could not be collected with it.
func integrationsSetFeatures(ctx context.Context, io stdio, c *common, name string, set feature.Set) error {
	lock, err := c.lockKeys(ctx)
	if err != nil {
		return err
	}
	defer lock.Release()
	st, err := c.openStore(ctx, io, sqlite.KeyStore)
	if err != nil {
		return err
	}
	defer st.Close()
	in, err := integration(ctx, st, name)
	if err != nil {
		return err
	}
	if err := readable(in); err != nil {
		return err
	}
	explicit := in.Scopes
	in.Features, in.Scopes = set.List(), nil
	rep := (&collect.Verifier{Logger: io.log}).VerifyIntegration(ctx, in)
	if !c.json {
		printReport(io, rep)
	}
	if f := rep.Failed(); f != nil {
		if c.json {
			_ = writeJSON(io, map[string]any{"integration": in.Name, "id": in.ID, "action": "update", "updated": false, "verification": rep})
		} else {
			fmt.Fprintf(io.out, "%s: features not changed: fix the failed check and run this again\n", in.Name)
		}
		return verifyFailed{}
	}
	if in, err = storeUpdated(ctx, st, in); err != nil {
		return err
	}
	if c.json {
		return writeJSON(io, map[string]any{"integration": in.Name, "id": in.ID, "action": "update", "updated": true, "verification": rep})
	}
	msg := "features now " + set.String()
	if in.AuthKind == store.AuthOAuth {
		scopes, _ := collect.RequestedScopes(in)
		msg += "; the service app requests " + strings.Join(scopes, ", ")
		if len(explicit) > 0 {
			msg += " (instead of its --scopes " + strings.Join(explicit, ", ") + ")"
		}
	}
	fmt.Fprintf(io.out, "%s: %s\n", in.Name, msg)
	return nil
}

// printFeatures writes a line per feature: on, on but not working (with the fix), or off with
// what turns it on.
func printFeatures(io stdio, r collect.Report) {
	for _, f := range r.Features {
		switch {
		case f.On && f.Working:
			fmt.Fprintf(io.out, "%s: on\n", f.Name)
		case f.On:
			fmt.Fprintf(io.out, "%s: on, not working — %s\n", f.Name, f.Fix)
		case f.Ready:
			fmt.Fprintf(io.out, "%s: off — the API token's admin already has the role it needs: %s\n", f.Name, turnOn(r.Integration, f.Flag))
		default:
			fmt.Fprintf(io.out, "%s: off — %s, then %s\n", f.Name, f.Fix, turnOn(r.Integration, f.Flag))
		}
	}
}

// turnOn says how to turn features on: integrations update for a stored integration, else
// --features on the command.
func turnOn(integration, flag string) string {
	if integration == "" {
		return "add --features " + flag
	}
	return "run idwatch integrations update " + integration + " --features " + flag
}

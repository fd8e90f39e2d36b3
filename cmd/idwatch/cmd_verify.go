package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// verifyFailed is the exit status of a verification that found the System Log uncollectable; the
// report already said why.
type verifyFailed struct{}

func (verifyFailed) Error() string { return "" }
func (verifyFailed) ExitCode() int { return 1 }

func runVerify(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "verify", "verify (--integration N | --org-url U [--custom-domain] [--ca-file F] (--api-token-file F | --client-id C --key-id K --private-key-file P)) [--features inventory,response]")
	c := addCommon(fs)
	name := fs.String("integration", "", "verify a stored integration")
	cf := addCredFlags(fs)
	feats := addFeaturesFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var rep collect.Report
	switch {
	case *name != "" && cf.orgURL != "":
		return fmt.Errorf("%w: give --integration or --org-url with credentials, not both", errUsage)
	case *name != "":
		st, err := c.openStore(ctx, io, sqlite.KeyRead)
		if err != nil {
			return err
		}
		defer st.Close()
		in, err := integration(ctx, st, *name)
		if err != nil {
			return err
		}
		if err := readable(in); err != nil {
			return err
		}
		if feats.given { // what the integration would need with these features
			in.Features = feats.set().List()
		}
		rep = (&collect.Verifier{Logger: io.log, Dial: io.dial}).VerifyIntegration(ctx, in)
		recordOrgID(ctx, io, st, in, rep)
	case cf.orgURL != "":
		in, err := cf.integration("")
		if err != nil {
			return err
		}
		// The same defaults as integrations add: the scopes of the features given, logs only.
		in.Features = feats.set().List()
		rep = (&collect.Verifier{Logger: io.log, Dial: io.dial}).VerifyIntegration(ctx, in)
	default:
		return fmt.Errorf("%w: give --integration N, or --org-url U with credentials", errUsage)
	}
	if c.json {
		if err := writeJSON(io, rep); err != nil {
			return err
		}
	} else {
		printReport(io, rep)
	}
	if !rep.CanCollectLogs {
		return verifyFailed{}
	}
	return nil
}

// printReport writes one line per check, its fix under it, and what stays off.
func printReport(io stdio, r collect.Report) {
	for _, c := range r.Checks {
		fmt.Fprintf(io.out, "%-5s %s", strings.ToUpper(string(c.Status)), c.Name)
		if c.Detail != "" {
			fmt.Fprintf(io.out, ": %s", c.Detail)
		}
		fmt.Fprintln(io.out)
		if c.Fix != "" && c.Status != "ok" {
			fmt.Fprintf(io.out, "      fix: %s\n", c.Fix)
		}
	}
	printFeatures(io, r)
	switch {
	case !r.CanCollectLogs:
		fmt.Fprintln(io.out, "RESULT: the System Log cannot be collected until the failed check is fixed")
	case len(r.FeaturesOff) > 0:
		fmt.Fprintf(io.out, "RESULT: logs can be collected; off until fixed: %s\n", strings.Join(r.FeaturesOff, ", "))
	default:
		fmt.Fprintln(io.out, "RESULT: every prerequisite of the features that are on is met")
	}
}

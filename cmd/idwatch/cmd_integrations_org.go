package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/store"
)

// reachFlags say how an integration's org is reached: whether its URL is a custom URL domain and
// which CAs to trust on top of the system roots (integrations add, update; ad-hoc verify).
type reachFlags struct {
	customDomain bool
	caFile       string
}

func addReachFlags(fs *flag.FlagSet, f *reachFlags) {
	fs.BoolVar(&f.customDomain, "custom-domain", false, "the org URL is the org's custom URL domain (e.g. https://login.acme.com): any https host is accepted, and verification confirms that an Okta org answers there")
	fs.StringVar(&f.caFile, "ca-file", "", "PEM file of CA certificates to trust on top of the system roots for this org, e.g. a TLS-inspecting proxy's CA (for every connection of the process: env SSL_CERT_FILE or SSL_CERT_DIR)")
}

// parseOrgURL validates an org URL typed on the command line under the --custom-domain policy.
func parseOrgURL(raw string, customDomain bool) (okta.OrgURL, error) {
	var org okta.OrgURL
	var err error
	if customDomain {
		org, err = okta.ParseCustomDomainOrgURL(raw)
	} else {
		org, err = okta.ParseOrgURL(raw)
	}
	if err != nil {
		return org, fmt.Errorf("%w: --org-url: %v", errUsage, err)
	}
	return org, nil
}

// readCAFile reads and checks a --ca-file bundle; "" gives "".
func readCAFile(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%w: --ca-file: %v", errUsage, err)
	}
	if _, err := collect.ParseCABundle(b); err != nil {
		return "", fmt.Errorf("%w: --ca-file %s %v", errUsage, path, err)
	}
	return string(b), nil
}

// apply sets in's org URL policy and CA bundle from the flags.
func (f *reachFlags) apply(in *store.Integration) error {
	ca, err := readCAFile(f.caFile)
	if err != nil {
		return err
	}
	in.CustomDomain, in.CAPEM = f.customDomain, ca
	return nil
}

// applyGiven changes only what the flags given on the command line say (integrations update):
// --custom-domain (or --custom-domain=false) and --ca-file (--ca-file "" drops the bundle).
func (f *reachFlags) applyGiven(fs *flag.FlagSet, in *store.Integration) error {
	var err error
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "custom-domain":
			in.CustomDomain = f.customDomain
		case "ca-file":
			in.CAPEM, err = readCAFile(f.caFile)
		}
	})
	return err
}

// sameOrg returns the stored integration (other than in itself) that is the same org as in: the
// same org id, or, where either id is unknown, the same org URL.
func sameOrg(all []store.Integration, in store.Integration) (store.Integration, bool) {
	for _, x := range all {
		if x.ID == in.ID && in.ID != 0 {
			continue
		}
		if (in.OrgID != "" && x.OrgID == in.OrgID) || strings.EqualFold(strings.TrimSuffix(x.OrgURL, "/"), strings.TrimSuffix(in.OrgURL, "/")) {
			return x, true
		}
	}
	return store.Integration{}, false
}

// duplicateError refuses a second integration of one org, naming the existing integration.
type duplicateError struct {
	existing store.Integration
	orgURL   string
	orgID    string
}

func (e *duplicateError) Error() string {
	what := e.orgURL
	if e.orgID != "" {
		what += " (Okta org " + e.orgID + ")"
	}
	via := ""
	if !strings.EqualFold(e.existing.OrgURL, e.orgURL) {
		via = " at " + e.existing.OrgURL
	}
	return fmt.Sprintf("%s is the org of integration %q (id %d%s): a second integration would collect its System Log twice and raise every alert twice; "+
		"change that one instead (idwatch integrations update %s), or add --allow-duplicate if a second integration of this org is really wanted",
		what, e.existing.Name, e.existing.ID, via, e.existing.Name)
}

// refuseDuplicate fails when another stored integration is the same org as in, unless allowed.
func refuseDuplicate(ctx context.Context, st store.Integrations, in store.Integration, allow bool) error {
	if allow {
		return nil
	}
	all, err := st.ListIntegrations(ctx)
	if err != nil {
		return err
	}
	if x, dup := sameOrg(all, in); dup {
		return &duplicateError{existing: x, orgURL: in.OrgURL, orgID: in.OrgID}
	}
	return nil
}

// recordOrgID stores the org id verification found for an integration that has none yet.
func recordOrgID(ctx context.Context, io stdio, st store.Integrations, in store.Integration, rep collect.Report) {
	if in.OrgID != "" || rep.OrgID == "" {
		return
	}
	if err := st.SetIntegrationOrgID(ctx, in.ID, rep.OrgID); err != nil && !errors.Is(err, context.Canceled) {
		io.log.Warn("org id not recorded", "integration", in.Name, "error", err)
	}
}

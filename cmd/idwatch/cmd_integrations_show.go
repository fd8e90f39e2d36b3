package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/idwatch/idwatch/internal/feature"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// integrationDetail is integrations show --json: everything about one integration but its secrets.
type integrationDetail struct {
	ID               int64                `json:"id"`
	Name             string               `json:"name"`
	OrgURL           string               `json:"orgUrl"`
	AuthKind         store.AuthKind       `json:"authKind"`
	ClientID         string               `json:"clientId,omitempty"`
	KeyID            string               `json:"keyId,omitempty"`
	Features         []string             `json:"features"`
	Scopes           []string             `json:"scopes,omitempty"`
	CustomAttributes store.AttributeNames `json:"customAttributes"`
	Enabled          bool                 `json:"enabled"`
	CreatedAt        time.Time            `json:"createdAt"`
	UpdatedAt        time.Time            `json:"updatedAt"`
	Credentials      credentialSummary    `json:"credentials"`
	Health           store.Health         `json:"health"`
	Cursor           *cursorSummary       `json:"cursor,omitempty"`
	EventHook        *hookHealth          `json:"eventHook,omitempty"`
}

// credentialSummary describes stored credentials without any secret or fingerprint of one.
type credentialSummary struct {
	Description string `json:"description"`
	// SigningAlgorithm is the service app key's JOSE algorithm (RS256, ES256, ...).
	SigningAlgorithm string `json:"signingAlgorithm,omitempty"`
	// DPoPKey says whether a DPoP proof key is stored (it is made on the first collection).
	DPoPKey bool   `json:"dpopKey,omitempty"`
	Error   string `json:"error,omitempty"`
	Fix     string `json:"fix,omitempty"`
}

// cursorSummary is where collection resumes.
type cursorSummary struct {
	// LastPublished is the newest published time collected; polling continues after it.
	LastPublished time.Time `json:"lastPublished"`
	// Next is the System Log URL polling requests next.
	Next      string    `json:"next"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// integrationsShow prints one integration: its settings, a description of its credentials (never
// a secret), its health and its cursor.
func integrationsShow(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "integrations show", "integrations show NAME")
	c := addCommon(fs)
	name, err := parseNameAndFlags(fs, args, "show")
	if err != nil {
		return err
	}
	st, err := c.openStore(ctx, io, sqlite.KeyRead)
	if err != nil {
		return err
	}
	defer st.Close()
	in, err := integration(ctx, st, name)
	if err != nil {
		return err
	}
	d := integrationDetail{ID: in.ID, Name: in.Name, OrgURL: in.OrgURL, AuthKind: in.AuthKind, ClientID: in.ClientID, KeyID: in.KeyID,
		Features: featureNames(in), Scopes: in.Scopes, CustomAttributes: in.CustomAttributes, Enabled: in.Enabled, CreatedAt: in.CreatedAt, UpdatedAt: in.UpdatedAt,
		Credentials: describeCredentials(in), Health: store.Health{IntegrationID: in.ID, State: store.HealthPending}}
	if h, err := st.Health(ctx, in.ID); err == nil {
		d.Health = h
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if !in.Enabled {
		d.Health.State = store.HealthDisabled
	}
	if in.CredentialsError != "" {
		d.Health.State, d.Health.Reason, d.Health.Fix = store.HealthError, in.CredentialsError, store.CredentialsFix(in.Name)
	}
	if cur, err := st.Cursor(ctx, in.ID); err == nil {
		d.Cursor = &cursorSummary{LastPublished: cur.LastPublished, Next: cur.Next, UpdatedAt: cur.UpdatedAt}
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if d.EventHook, err = integrationHook(ctx, st, in); err != nil {
		return err
	}
	if c.json {
		return writeJSON(io, d)
	}
	printIntegrationDetail(io, d)
	return nil
}

// describeCredentials says what kind of credentials an integration holds.
func describeCredentials(in store.Integration) credentialSummary {
	var s credentialSummary
	if in.CredentialsError != "" {
		s.Error, s.Fix = in.CredentialsError, store.CredentialsFix(in.Name)
	}
	switch in.AuthKind {
	case store.AuthAPIToken:
		s.Description = "API token (SSWS), encrypted at rest; it acts with the roles of the admin who created it"
	case store.AuthOAuth:
		s.Description = "OAuth service app: private-key JWT client assertion, DPoP-bound access tokens; keys encrypted at rest"
		if !in.Credentials.PrivateKeyPEM.IsZero() {
			if k, err := okta.ParsePrivateKey([]byte(in.Credentials.PrivateKeyPEM.Reveal())); err == nil {
				s.SigningAlgorithm = string(k.Alg)
			}
		}
		s.DPoPKey = !in.Credentials.DPoPKeyPEM.IsZero()
	default:
		s.Description = fmt.Sprintf("unknown kind %q", in.AuthKind)
	}
	return s
}

func printIntegrationDetail(io stdio, d integrationDetail) {
	tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s:\t"+format+"\n", append([]any{k}, a...)...) }
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	row("name", "%s (id %d)", d.Name, d.ID)
	row("org", "%s", d.OrgURL)
	row("enabled", "%t", d.Enabled)
	row("features", "%s", strings.Join(d.Features, ", "))
	row("auth", "%s", d.AuthKind)
	row("credentials", "%s", d.Credentials.Description)
	if d.AuthKind == store.AuthOAuth {
		row("client id", "%s", d.ClientID)
		kid := d.KeyID
		if kid == "" {
			kid = "(from the key's JWK)"
		}
		row("key id", "%s", kid)
		if d.Credentials.SigningAlgorithm != "" {
			row("signing algorithm", "%s", d.Credentials.SigningAlgorithm)
		}
		scopes := strings.Join(d.Scopes, ", ")
		if scopes == "" {
			scopes = "none stored: those of its features"
		}
		row("scopes", "%s", scopes)
		dpop := "not yet made (made on the first collection)"
		if d.Credentials.DPoPKey {
			dpop = "stored"
		}
		row("DPoP key", "%s", dpop)
	}
	if d.Credentials.Error != "" {
		row("credentials error", "%s — fix: %s", d.Credentials.Error, d.Credentials.Fix)
	}
	row("created", "%s", stamp(d.CreatedAt))
	row("updated", "%s", stamp(d.UpdatedAt))
	h := d.Health
	state := string(h.State)
	if h.Reason != "" {
		state += ": " + h.Reason
	}
	if h.Fix != "" {
		state += " — fix: " + h.Fix
	}
	row("state", "%s", state)
	row("last event", "%s", stamp(h.LastEventAt))
	row("lag", "%s", h.Lag.Round(time.Second))
	row("events", "%d collected in %d requests", h.EventsCollected, h.RequestsMade)
	row("budget", "%.0f%% of the rate limit", h.BudgetShareUsed*100)
	if d.Cursor == nil {
		row("cursor", "none yet (the first poll starts the lookback window back)")
	} else {
		row("cursor", "after events published %s (stored %s)", stamp(d.Cursor.LastPublished), stamp(d.Cursor.UpdatedAt))
	}
	printHookRows(row, d.EventHook)
	tw.Flush()
}

// featureNames lists every feature an integration has on, logs included, as verify names them.
func featureNames(in store.Integration) []string {
	set, err := feature.FromList(in.Features)
	if err != nil {
		return append([]string{"logs"}, in.Features...) // verify and collect name the unknown one
	}
	return strings.Split(set.String(), ", ")
}

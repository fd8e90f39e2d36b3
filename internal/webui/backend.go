// Package webui is the console's backend in a running `idwatch serve`: it implements
// console.Backend over the REST API's own handlers (server.Invoke, so the console validates,
// stores and answers exactly as the API does), the store, the verifier and the sinks' state.
// Alerts, events and rule management come from the services plugged in (services.go).
package webui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/console"
	"github.com/idwatch/idwatch/internal/server"
	"github.com/idwatch/idwatch/internal/store"
)

// Options are what New needs; Server, Store and Verifier are required.
type Options struct {
	Server   *server.Server
	Store    store.Store
	Verifier *collect.Verifier
	// BudgetShare is collect.share, the part of each org's rate budget idwatch may use.
	BudgetShare float64
	// AlertsEvents serves the alert and event pages (nil: the API's alert and event routes).
	AlertsEvents AlertsEvents
	Logger       *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Backend implements console.Backend.
type Backend struct {
	o      Options
	log    *slog.Logger
	now    func() time.Time
	series *series
}

var _ console.Backend = (*Backend)(nil)

// New returns the backend. Call Run to keep the integrations' charts and health history.
func New(o Options) (*Backend, error) {
	if o.Server == nil || o.Store == nil || o.Verifier == nil {
		return nil, errors.New("webui: Options.Server, Store and Verifier are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	b := &Backend{o: o, log: o.Logger, now: o.Now, series: newSeries()}
	if b.o.AlertsEvents == nil {
		b.o.AlertsEvents = apiAlertsEvents{b}
	}
	return b, nil
}

// system is the principal the backend reads as on its own behalf (the sampler).
var system = server.Principal{Name: "console", Role: store.RoleViewer}

// Authenticate implements console.Backend with the API's keys and roles.
func (b *Backend) Authenticate(ctx context.Context, key string) (console.Principal, error) {
	p, err := b.o.Server.Authenticate(ctx, key)
	if errors.Is(err, server.ErrBadKey) {
		return console.Principal{}, console.ErrUnauthenticated
	}
	if err != nil {
		return console.Principal{}, err
	}
	return console.Principal{Name: p.Name, Role: console.Role(p.Role)}, nil
}

// act returns the API principal of a console change. The key is looked up again, so a key revoked
// elsewhere (idwatch apikeys revoke) stops changing things at once, and its current role counts.
func (b *Backend) act(ctx context.Context, by console.Principal) (server.Principal, error) {
	keys, err := b.o.Store.ListAPIKeys(ctx)
	if err != nil {
		return server.Principal{}, err
	}
	for _, k := range keys {
		if k.Name == by.Name && k.Active() {
			return server.Principal{KeyID: k.ID, Name: k.Name, Role: k.Role}, nil
		}
	}
	return server.Principal{}, &console.Error{Message: fmt.Sprintf("The API key %q you signed in with is revoked", by.Name),
		Fix: "Sign out and sign in again with an active key."}
}

// fields maps the API's body fields to the console form's.
var fields = map[string]string{"name": "name", "orgUrl": "org_url", "apiToken": "api_token", "serviceApp.clientId": "client_id",
	"serviceApp.keyId": "key_id", "serviceApp.privateKey": "private_key", "since": "since", "until": "until"}

// userErr turns an API error into what the console shows: the API's message, fix and field.
func userErr(err error) error {
	var re *server.RequestError
	if !errors.As(err, &re) {
		return err
	}
	if re.Status == http.StatusNotFound {
		return fmt.Errorf("%w: %s", console.ErrNotFound, re.Body.Message)
	}
	return &console.Error{Message: re.Body.Message, Fix: re.Body.Fix, Field: fields[re.Body.Field]}
}

// APIKeys implements console.Backend.
func (b *Backend) APIKeys(ctx context.Context) ([]console.APIKeyRow, error) {
	keys, err := b.o.Store.ListAPIKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]console.APIKeyRow, 0, len(keys))
	for _, k := range keys {
		out = append(out, console.APIKeyRow{Name: k.Name, Role: console.Role(k.Role), Created: k.CreatedAt, LastUsed: k.LastUsedAt, Revoked: !k.Active()})
	}
	return out, nil
}

// CreateAPIKey implements console.Backend; the key is returned once and only its hash is stored.
func (b *Backend) CreateAPIKey(ctx context.Context, by console.Principal, name string, role console.Role) (string, console.APIKeyRow, error) {
	if _, err := b.act(ctx, by); err != nil {
		return "", console.APIKeyRow{}, err
	}
	key, k, err := server.CreateKey(ctx, b.o.Store, name, store.Role(role))
	switch {
	case errors.Is(err, store.ErrConflict):
		return "", console.APIKeyRow{}, &console.Error{Message: fmt.Sprintf("A key named %q exists (revoked keys keep their names)", name), Fix: "Pick another name.", Field: "name"}
	case errors.Is(err, store.ErrInvalid):
		return "", console.APIKeyRow{}, &console.Error{Message: err.Error(), Fix: "Name the key (1 to 100 characters) and pick viewer, analyst or admin.", Field: "name"}
	case err != nil:
		return "", console.APIKeyRow{}, err
	}
	b.log.Info("API key created", "key", k.Name, "role", k.Role, "by", by.Name, "via", "console")
	return key, console.APIKeyRow{Name: k.Name, Role: console.Role(k.Role), Created: k.CreatedAt}, nil
}

// RevokeAPIKey implements console.Backend.
func (b *Backend) RevokeAPIKey(ctx context.Context, by console.Principal, name string) error {
	if _, err := b.act(ctx, by); err != nil {
		return err
	}
	_, err := b.o.Store.RevokeAPIKey(ctx, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return console.ErrNotFound
	case errors.Is(err, store.ErrChanged):
		return &console.Error{Message: fmt.Sprintf("The key %q is already revoked", name), Fix: "Reload the page to see the current keys."}
	case err != nil:
		return err
	}
	b.log.Info("API key revoked", "key", name, "by", by.Name, "via", "console")
	return nil
}

// cutTactic returns the ATT&CK tactic of a Sigma tag such as attack.credential_access (technique
// tags, attack.t1110, are not tactics).
func cutTactic(tag string) (string, bool) {
	rest, ok := strings.CutPrefix(strings.ToLower(tag), "attack.")
	if !ok || rest == "" || (rest[0] == 't' && len(rest) > 1 && rest[1] >= '0' && rest[1] <= '9') || rest[0] == 'g' && len(rest) > 1 && rest[1] >= '0' && rest[1] <= '9' {
		return "", false
	}
	return strings.ReplaceAll(rest, "_", " "), true
}

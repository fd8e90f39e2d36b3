package oktasim

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/idwatch/idwatch/internal/oktasim/oauth"
)

// World is what a simulation runs: the org's directory, its benign traffic and its storylines.
type World interface {
	Workforce
	StorylineSource
	// Users returns the org's users as of the traffic produced so far.
	Users() []User
}

// SimConfig configures RunSim.
type SimConfig struct {
	// Listen is the address to serve on; port 0 picks a free port.
	Listen string
	// TLS serves HTTPS with a certificate for the listen address (and OrgURL's host) signed by a CA
	// generated at start; the info file's caPem holds the CA for clients to trust.
	TLS bool
	// OrgURL, when set, is the org URL the simulation advertises instead of the listener's address,
	// e.g. https://acme.okta.com: Link headers, the OAuth issuer and the info file use it, and the
	// certificate names its host (TLS is implied). Clients reach it through a dialer that maps the
	// host to the listener (Simulation.Transport).
	OrgURL string
	// CAFile, if set, receives the CA certificate (PEM) once the server is ready.
	CAFile string
	// History is how much past traffic the org starts with (default 24h; 0 with NoHistory).
	History   time.Duration
	NoHistory bool
	// HistoryStorylines is how many attack storylines are placed in the history.
	HistoryStorylines int
	// Tick is how often live traffic is appended (default 1s).
	Tick time.Duration
	// UsersRefresh is how often the users API picks up the directory's changes (default 1m).
	UsersRefresh time.Duration
	// InfoFile, if set, receives the connection details once the server is ready (mode 0600).
	InfoFile string
	// TokenRoles, when set, replaces the setup the product's docs ask for (Read-Only Administrator
	// plus a custom role) on the API token's admin: e.g. Report Administrator only, to test the
	// collector's verification against a wrongly set-up org.
	TokenRoles []Role
	// AppOmitScopes are scopes of ServiceAppScopes the service app is not granted, for the same
	// purpose. Server.OmitADSchemaAttributes completes the set of setup mistakes.
	AppOmitScopes []string
	// Server configures the emulated org; OrgURL is set from the listener.
	Server Config
}

// Validate checks the configuration.
func (c SimConfig) Validate() error {
	if c.Listen == "" {
		return errors.New("listen address is empty; use e.g. 127.0.0.1:0")
	}
	if c.History < 0 || c.History > logsRetention {
		return fmt.Errorf("history %v must be between 0 and %v (Okta's retention)", c.History, logsRetention)
	}
	if c.HistoryStorylines < 0 {
		return fmt.Errorf("history storylines %d must not be negative", c.HistoryStorylines)
	}
	if c.OrgURL != "" {
		if _, _, err := parseAdvertisedOrgURL(c.OrgURL); err != nil {
			return err
		}
	}
	if len(c.Server.CustomDomains) > 0 && !c.TLS && c.OrgURL == "" {
		return errors.New("custom domains are served over https only; add TLS or an https org URL")
	}
	if c.CAFile != "" && !c.TLS && c.OrgURL == "" {
		return errors.New("a CA file is written only for a TLS org; add TLS or an https org URL")
	}
	if c.Tick < 0 || c.UsersRefresh < 0 {
		return errors.New("tick and users refresh must not be negative")
	}
	for _, r := range c.TokenRoles {
		if _, ok := RolePermissions(r); !ok {
			return fmt.Errorf("token role %q is not a standard admin role such as REPORT_ADMIN or READ_ONLY_ADMIN", r)
		}
	}
	for _, sc := range c.AppOmitScopes {
		if !slices.Contains(ServiceAppScopes, sc) {
			return fmt.Errorf("scope %q to omit is not one of the service app's scopes %v", sc, ServiceAppScopes)
		}
	}
	return nil
}

// SimInfo is what a client needs to connect to a running simulation; it is the info file's
// content, with exactly these keys.
type SimInfo struct {
	OrgURL string `json:"orgUrl"`
	// OrgID is the org's id (GET /.well-known/okta-organization).
	OrgID string `json:"orgId"`
	// CustomDomains are the custom URL domains that alias the org, served on the same listener.
	CustomDomains []string       `json:"customDomains,omitempty"`
	APIToken      string         `json:"apiToken"`
	ServiceApp    ServiceAppInfo `json:"serviceApp"`
	// Address is the listener's host:port; with an advertised org URL, clients map its host here.
	Address string `json:"address"`
	// CAPEM is the CA that signed the org's TLS certificate (PEM); empty for plain http.
	CAPEM string `json:"caPem,omitempty"`
}

// ServiceAppInfo is an OAuth service app's client credentials.
type ServiceAppInfo struct {
	ClientID      string   `json:"clientId"`
	KeyID         string   `json:"keyId"`
	PrivateKeyPEM string   `json:"privateKeyPem"`
	Scopes        []string `json:"scopes"`
}

// ServiceAppScopes are the scopes the product's docs tell users to grant its service app.
var ServiceAppScopes = []string{"okta.logs.read", "okta.users.read", "okta.roles.read", "okta.schemas.read",
	"okta.groups.read", "okta.users.manage", "okta.sessions.manage"}

// connectorRoles and connectorPermissions model the admin the product's docs ask for: Read-Only
// Administrator plus a custom role that may edit users' lifecycle states and authenticators.
var (
	connectorRoles       = []Role{RoleReadOnlyAdmin}
	connectorPermissions = []Permission{PermUsersManage, PermSessionsManage, PermFactorsManage}
)

// Simulation is a running emulated org.
type Simulation struct {
	Server *Server
	Info   SimInfo
	// ServiceAppKey is the service app's key pair; the OAuth server registers its public half.
	ServiceAppKey *rsa.PrivateKey
	// ServiceAdmin is the directory user the API token and the service app act as.
	ServiceAdmin User
	// APITokenID is the id (00T…) of Info.APIToken, the request log's principal for its calls.
	APITokenID string
	// ControlKey authenticates the /_sim/ control API.
	ControlKey string
	// AuthServer is the org authorization server that issues the service app's tokens.
	AuthServer *oauth.Server
}

// StartSim listens, builds the org with its history and returns it ready to serve; Serve then runs
// it. Splitting the two lets callers plug in more (OAuth, hooks) before serving.
func StartSim(cfg SimConfig, world World, clock Clock, log *slog.Logger) (*Simulation, net.Listener, error) {
	if cfg.History == 0 && !cfg.NoHistory {
		cfg.History = 24 * time.Hour
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	fail := func(err error) (*Simulation, net.Listener, error) {
		ln.Close()
		return nil, nil, err
	}
	orgURL, caPEM := "http://"+ln.Addr().String(), ""
	if cfg.TLS || cfg.OrgURL != "" {
		orgURL = "https://" + ln.Addr().String()
		var hosts []string
		if cfg.OrgURL != "" {
			var host string
			orgURL, host, _ = parseAdvertisedOrgURL(cfg.OrgURL) // Validate checked it
			hosts = append(hosts, host)
		}
		for _, d := range cfg.Server.CustomDomains {
			_, host, _ := parseAdvertisedOrgURL(d) // Validate checked it
			hosts = append(hosts, host)
		}
		ca, err := newOrgCA(clock.Now())
		if err != nil {
			return fail(err)
		}
		cert, err := ca.serverCert(ln.Addr(), hosts, clock.Now())
		if err != nil {
			return fail(err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		caPEM = string(ca.pem)
	}
	scfg := cfg.Server
	scfg.OrgURL, scfg.Clock, scfg.Logger = orgURL, clock, log
	if scfg.ControlKey == "" {
		scfg.ControlKey = randomID(32)
	}
	srv, err := New(scfg)
	if err != nil {
		return fail(err)
	}
	sim := &Simulation{Server: srv, ControlKey: scfg.ControlKey}
	now := clock.Now()
	adminRoles, adminPerms := connectorRoles, connectorPermissions
	if len(cfg.TokenRoles) > 0 {
		adminRoles, adminPerms = slices.Clone(cfg.TokenRoles), nil
	}
	admin, tok, secret, err := srv.AddAdmin(User{AdminRoles: adminRoles, Permissions: adminPerms,
		Profile: map[string]any{"login": "idwatch.service@oktasim.local", "email": "idwatch.service@oktasim.local",
			"firstName": "idwatch", "lastName": "Service", "userType": "Service"}}, "idwatch")
	if err != nil {
		return fail(err)
	}
	sim.ServiceAdmin, sim.APITokenID = admin, tok.ID
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fail(fmt.Errorf("generate service app key: %w", err))
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fail(fmt.Errorf("encode service app key: %w", err))
	}
	sim.ServiceAppKey = key
	sim.Info = SimInfo{OrgURL: scfg.OrgURL, OrgID: srv.OrgID(), CustomDomains: slices.Clone(scfg.CustomDomains), APIToken: secret, Address: ln.Addr().String(), CAPEM: caPEM, ServiceApp: ServiceAppInfo{
		ClientID: "0oa" + randomID(17), KeyID: randomID(43),
		PrivateKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		Scopes:        slices.DeleteFunc(slices.Clone(ServiceAppScopes), func(sc string) bool { return slices.Contains(cfg.AppOmitScopes, sc) })}}
	if err := sim.plugOAuth(srv.Clock(), log); err != nil {
		return fail(err)
	}
	srv.SetStorylines(world)
	if err := sim.buildHistory(cfg, world, now); err != nil {
		return fail(err)
	}
	if err := sim.refreshUsers(world); err != nil {
		return fail(err)
	}
	return sim, ln, nil
}

// plugOAuth starts the org authorization server, registers the service app (DPoP required, as
// for new API Services apps) and lets its tokens call the API with the connector admin's roles.
func (sim *Simulation) plugOAuth(clock Clock, log *slog.Logger) error {
	as, err := oauth.New(oauth.Config{Issuer: sim.Info.OrgURL, Clock: clock, Logger: log})
	if err != nil {
		return err
	}
	app := sim.Info.ServiceApp
	if _, err := as.AddApp(oauth.AppSpec{ClientID: app.ClientID, Name: "idwatch", Scopes: app.Scopes,
		Keys: []jose.JSONWebKey{{Key: &sim.ServiceAppKey.PublicKey, KeyID: app.KeyID, Algorithm: string(jose.RS256), Use: "sig"}}}); err != nil {
		return fmt.Errorf("register service app: %w", err)
	}
	sim.AuthServer = as
	sim.Server.SetAuthServer(as)
	sim.Server.AddAuthenticator(&OAuthAuthenticator{AS: as, Roles: func(clientID string) ([]Role, []Permission) {
		if clientID == app.ClientID {
			return connectorRoles, connectorPermissions
		}
		return nil, nil
	}})
	sim.Server.HandlePublic(http.MethodPost, "/oauth2/v1/token", as.TokenHandler().ServeHTTP)
	sim.Server.HandlePublic(http.MethodGet, "/oauth2/v1/keys", as.KeysHandler().ServeHTTP)
	return nil
}

// buildHistory feeds the traffic before now, with storylines spread evenly through it.
func (sim *Simulation) buildHistory(cfg SimConfig, world World, now time.Time) error {
	var stories []Story
	infos := world.Storylines()
	for i := 0; i < cfg.HistoryStorylines && len(infos) > 0 && cfg.History > 0; i++ {
		at := now.Add(-cfg.History).Add(cfg.History * time.Duration(i+1) / time.Duration(cfg.HistoryStorylines+1))
		st, err := world.Storyline(infos[(i*5)%len(infos)].Name, at)
		if err != nil {
			return fmt.Errorf("history storyline: %w", err)
		}
		stories = append(stories, st)
	}
	return sim.Server.Feed(world, now, stories...)
}

func (sim *Simulation) refreshUsers(world World) error {
	if d, ok := world.(Directory); ok {
		sim.Server.SetDirectory(d.Groups(), d.Apps())
	}
	return sim.Server.SetUsers(world.Users()) // the service admin stays: AddAdmin added it
}

// Serve serves the simulation on ln, appending live traffic every tick, until ctx ends; it then
// shuts the server down and returns nil. The info file is written once serving has started.
func (sim *Simulation) Serve(ctx context.Context, cfg SimConfig, world World, ln net.Listener, clock Clock, log *slog.Logger) error {
	if cfg.Tick == 0 {
		cfg.Tick = time.Second
	}
	if cfg.UsersRefresh == 0 {
		cfg.UsersRefresh = time.Minute
	}
	ctx, stopHooks := context.WithCancel(ctx)
	hooksDone := make(chan struct{})
	go func() {
		defer close(hooksDone)
		_ = sim.Server.RunHooks(ctx)
	}()
	defer func() {
		stopHooks()
		<-hooksDone
	}()
	hs := &http.Server{Handler: sim.Server, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	if cfg.CAFile != "" {
		if err := writeFileAtomic(cfg.CAFile, []byte(sim.Info.CAPEM), 0o644); err != nil {
			_ = hs.Close()
			<-served
			return fmt.Errorf("write CA file: %w", err)
		}
	}
	if cfg.InfoFile != "" {
		if err := writeInfoFile(cfg.InfoFile, sim.Info); err != nil {
			_ = hs.Close()
			<-served
			return err
		}
	}
	tick := time.NewTicker(cfg.Tick)
	defer tick.Stop()
	lastRefresh := clock.Now()
	var err error
	for err == nil {
		select {
		case <-ctx.Done():
			shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := hs.Shutdown(shutCtx); err != nil {
				_ = hs.Close()
			}
			<-served
			return nil
		case e := <-served:
			return fmt.Errorf("serve: %w", e)
		case <-tick.C:
			now := clock.Now()
			if err = sim.Server.Feed(world, now); err == nil && now.Sub(lastRefresh) >= cfg.UsersRefresh {
				err, lastRefresh = sim.refreshUsers(world), now
			}
		}
	}
	_ = hs.Close()
	<-served
	return fmt.Errorf("live traffic: %w", err)
}

// writeInfoFile writes the connection details atomically, readable only by the owner (it holds
// credentials).
func writeInfoFile(path string, info SimInfo) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write info file: %w", err)
	}
	return nil
}

// writeFileAtomic writes b to path through a temporary file in the same directory and a rename.
func writeFileAtomic(path string, b []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".oktasim-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

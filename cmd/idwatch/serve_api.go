package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/config"
	"github.com/idwatch/idwatch/internal/console"
	"github.com/idwatch/idwatch/internal/hooks"
	"github.com/idwatch/idwatch/internal/inventory"
	"github.com/idwatch/idwatch/internal/process"
	"github.com/idwatch/idwatch/internal/respond"
	"github.com/idwatch/idwatch/internal/server"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/webui"
)

// apiServer is the REST API with the web console mounted, listening.
type apiServer struct {
	srv *server.Server
	ui  *webui.Backend
	ln  net.Listener
	tls bool
}

// apiOptions are what the API and the console of a serve or demo run share with collection.
type apiOptions struct {
	cfg     config.Config
	dataDir string
	st      store.Store
	clients *collect.Clients
	m       *collect.Manager
	log     *slog.Logger
	// metrics is the registry /metrics serves (nil: the server's own).
	metrics *prometheus.Registry
	// hooks, when set, receives Okta event hooks on the API listener under hooks.PathPrefix.
	hooks http.Handler
	// responder and inventories, when set, serve the response and inventory routes.
	responder   *respond.Responder
	inventories *inventory.Manager
}

// newAPIServer builds the API and the console over the running parts and opens the listener, so
// that a busy port fails the start before anything else runs.
func newAPIServer(o apiOptions) (*apiServer, error) {
	verifier := &collect.Verifier{Logger: o.log, Governors: o.clients.Governors, Dial: o.clients.Dial}
	srv, err := server.New(server.Options{Config: o.cfg.Server, Store: o.st, Logger: o.log, Verifier: verifier, Clients: o.clients,
		OnChange: o.m.Sync, Version: version, Registry: o.metrics, Sinks: o.cfg.SinksIn(o.dataDir), Responder: o.responder, SyncInventory: syncWith(o.inventories),
		Rules: process.RuleOptions{Dir: o.cfg.Process.RulesDir, SkipBad: !o.cfg.Process.StrictRules, Placeholders: o.cfg.PlaceholderMap()}})
	if err != nil {
		return nil, err
	}
	if o.hooks != nil {
		if err := srv.MountHooks(hooks.PathPrefix, o.hooks); err != nil {
			return nil, err
		}
	}
	ui, err := webui.New(webui.Options{Server: srv, Store: o.st, Verifier: verifier,
		BudgetShare: o.cfg.Collect.ShareOrDefault(), Logger: o.log,
	})
	if err != nil {
		return nil, err
	}
	tlsOn := o.cfg.Server.TLS.On()
	h, err := console.New(console.Options{Backend: ui, Logger: o.log, SecureCookies: tlsOn || o.cfg.Console.SecureCookies,
		ClientAddr: func(r *http.Request) string { return srv.ClientAddr(r).String() }})
	if err != nil {
		return nil, err
	}
	srv.MountConsole(h)
	ln, err := srv.Listen()
	if errors.Is(err, server.ErrAddrInUse) {
		return nil, fmt.Errorf("%w; set server.listen to a free address (port 0 picks one)", err)
	}
	if err != nil {
		return nil, err
	}
	return &apiServer{srv: srv, ui: ui, ln: ln, tls: tlsOn}, nil
}

// url is the console's address.
func (a *apiServer) url() string {
	scheme := "http"
	if a.tls {
		scheme = "https"
	}
	return scheme + "://" + a.ln.Addr().String() + "/"
}

// run serves until ctx ends, keeping the console's charts sampled meanwhile.
func (a *apiServer) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		_ = a.ui.Run(ctx)
	}()
	err := a.srv.Serve(ctx, a.ln)
	cancel()
	<-sampled
	return err
}

// syncWith runs a full sync through the running inventory of an integration (nil without one).
func syncWith(m *inventory.Manager) server.InventorySyncer {
	if m == nil {
		return nil
	}
	return func(ctx context.Context, id int64) (store.InventorySync, error) {
		svc := m.Service(id)
		if svc == nil {
			return store.InventorySync{}, fmt.Errorf("integration %d has no running inventory (is it enabled, with the okta.users.read scope?)", id)
		}
		snap, err := svc.Sync(ctx)
		return snap.Sync, err
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idwatch/idwatch/internal/config"
	"github.com/idwatch/idwatch/internal/hooks"
	"github.com/idwatch/idwatch/internal/store"
)

// hookServer is the event hook receiver on its own listener (hooks.listen).
type hookServer struct {
	ln   net.Listener
	srv  *http.Server
	recv *hooks.Receiver
	cfg  config.Hooks
}

// newHookReceiver builds the receiver; when hooks.listen is set it also opens its listener, so a
// port in use fails serve at start. Without hooks.listen the receiver belongs on the API
// listener (mounted at hooks.PathPrefix) and the returned server is nil.
func newHookReceiver(io stdio, cfg config.Hooks, st hooks.Store, reg prometheus.Registerer) (*hooks.Receiver, *hookServer, error) {
	recv, err := hooks.NewReceiver(hooks.Options{Store: st, Logger: io.log, Registerer: reg, MaxBodyBytes: cfg.MaxBodyBytes})
	if err != nil {
		return nil, nil, err
	}
	if cfg.Listen == "" {
		return recv, nil, nil
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, nil, fmt.Errorf("hooks.listen %s: %w", cfg.Listen, err)
	}
	mux := http.NewServeMux()
	mux.Handle(hooks.PathPrefix, recv)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 15 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	return recv, &hookServer{ln: ln, srv: srv, recv: recv, cfg: cfg}, nil
}

// Run serves deliveries until ctx ends, then drains them and stores the delivery statistics.
func (h *hookServer) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() {
		if h.cfg.TLSCert != "" {
			errc <- h.srv.ServeTLS(h.ln, h.cfg.TLSCert, h.cfg.TLSKey)
			return
		}
		errc <- h.srv.Serve(h.ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := h.srv.Shutdown(sctx)
	h.recv.Flush(sctx)
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	return err
}

// Addr is the listener's address.
func (h *hookServer) Addr() string { return h.ln.Addr().String() }

var _ hooks.Store = store.Store(nil)

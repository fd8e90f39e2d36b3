package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os/user"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/config"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/respond"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

const respondUsage = "idwatch respond suspend|unsuspend|deactivate|clear-sessions|reset-factors|expire-password --integration N --user U [--dry-run] [--reason TEXT] | respond list [--status S] | respond show ID | respond approve ID | respond reject ID"

func runRespond(ctx context.Context, io stdio, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, respondUsage)
	}
	switch args[0] {
	case "list":
		return respondList(ctx, io, args[1:])
	case "show":
		return respondShow(ctx, io, args[1:])
	case "approve", "reject":
		return respondDecide(ctx, io, args[0], args[1:])
	}
	if act, ok := respond.ParseAction(args[0]); ok {
		return respondAct(ctx, io, act, args[1:])
	}
	return fmt.Errorf("%w: unknown subcommand %q: %s", errUsage, args[0], respondUsage)
}

// responders builds Okta clients per integration for response actions, sharing govs.
type responders struct {
	st   store.Store
	govs *okta.GovernorSet
	log  *slog.Logger
	dial collect.DialFunc
	mu   sync.Mutex
	by   map[int64]*okta.Client
}

// client implements respond.Clients: one client per integration, built on first use.
func (rs *responders) client(ctx context.Context, id int64) (*okta.Client, store.Integration, error) {
	in, err := rs.st.Integration(ctx, id)
	if err != nil {
		return nil, in, err
	}
	if err := readable(in); err != nil {
		return nil, in, err
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if c := rs.by[id]; c != nil {
		return c, in, nil
	}
	if in, err = collect.EnsureDPoPKey(ctx, rs.st, in); err != nil {
		return nil, in, err
	}
	c, err := (&collect.Clients{Governors: rs.govs, Logger: rs.log, Dial: rs.dial}).Client(in)
	if err != nil {
		return nil, in, err
	}
	if rs.by == nil {
		rs.by = map[int64]*okta.Client{}
	}
	rs.by[id] = c
	return c, in, nil
}

// newResponder returns the responder of a store with the configuration's respond section.
func newResponder(st store.Store, cfg respond.Config, govs *okta.GovernorSet, io stdio) (*respond.Responder, error) {
	rs := &responders{st: st, govs: govs, log: io.log, dial: io.dial}
	return respond.New(cfg, respond.Deps{Store: st, Clients: rs.client, Logger: io.log})
}

// respondConfig reads the respond section of the configuration file at path ("" for none).
func respondConfig(path string) (respond.Config, error) {
	if path == "" {
		return respond.Config{}, nil
	}
	cfg, err := config.Load(path)
	if err != nil {
		return respond.Config{}, err
	}
	return cfg.Respond, nil
}

// requester names the person running the command in the audit trail.
func requester() string {
	if me, err := user.Current(); err == nil && me.Username != "" {
		return "cli:" + me.Username
	}
	return "cli:unknown"
}

func respondAct(ctx context.Context, io stdio, act respond.Action, args []string) error {
	name := strings.ReplaceAll(string(act), "_", "-")
	fs := newFlagSet(io, "respond "+name, "respond "+name+" --integration N --user U [--dry-run] [--reason TEXT]")
	c := addCommon(fs)
	integ := fs.String("integration", "", "integration (name or id) of the user's Okta org")
	userRef := fs.String("user", "", "Okta user id or login")
	dry := fs.Bool("dry-run", false, "check the guard rails and print the Okta calls that would be made; change nothing")
	reason := fs.String("reason", "", "why (a ticket or incident id), recorded in the audit trail")
	key := fs.String("idempotency-key", "", "the same key again returns the first result and sends nothing to Okta")
	cfgPath := fs.String("config", "", "configuration file whose respond section (protected users and groups, allowed actions) applies")
	confirm := fs.Bool("confirm", false, "deactivate only: confirm deprovisioning the user from every app (unsuspend cannot undo it)")
	oauth := fs.Bool("oauth-tokens", false, "clear-sessions only: also revoke the user's OAuth access and refresh tokens")
	keepDevices := fs.Bool("keep-devices", false, "clear-sessions only: keep remembered devices and factors (Okta forgets them by default)")
	sendEmail := fs.Bool("send-email", false, "deactivate only: have Okta email the user")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *userRef == "" {
		return fmt.Errorf("%w: --user is required (Okta user id or login)", errUsage)
	}
	rcfg, err := respondConfig(*cfgPath)
	if err != nil {
		return err
	}
	st, err := c.openStore(ctx, io, sqlite.KeyCollect)
	if err != nil {
		return err
	}
	defer st.Close()
	in, err := integration(ctx, st, *integ)
	if err != nil {
		return err
	}
	govs, err := okta.NewGovernorSet(okta.GovernorConfig{Logger: io.log})
	if err != nil {
		return err
	}
	r, err := newResponder(st, rcfg, govs, io)
	if err != nil {
		return err
	}
	opts := &respond.Options{OAuthTokens: *oauth || rcfg.RevokeOAuthTokens, ForgetDevices: !*keepDevices, SendEmail: *sendEmail}
	out, err := r.Execute(ctx, respond.Request{IntegrationID: in.ID, Action: act, User: *userRef, Options: opts, Reason: *reason,
		By: requester(), Key: *key, DryRun: *dry, Confirm: *confirm})
	if errors.Is(err, respond.ErrConfirm) {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if err != nil {
		return err
	}
	if c.json {
		return json.NewEncoder(io.out).Encode(out)
	}
	return printOutcome(io, act, *dry, out)
}

func printOutcome(io stdio, act respond.Action, dry bool, out respond.Outcome) error {
	w := io.out
	if dry {
		fmt.Fprintf(w, "dry run of %s on %s (status %s)\n", act, orDash(out.UserID), orDash(out.Status))
		for _, ch := range out.Checks {
			fmt.Fprintf(w, "  checked  %s  (%s)\n", ch, ch.Why)
		}
		if out.Refusal != "" {
			fmt.Fprintf(w, "would not act: %s\n", out.Refusal)
			return nil
		}
		for _, cl := range out.Calls {
			fmt.Fprintf(w, "  would    %s  (%s)\n", cl, cl.Why)
		}
		return nil
	}
	a := out.Action
	if out.Replayed {
		fmt.Fprintf(w, "action %s already exists for this idempotency key; nothing was sent\n", a.ID)
	}
	fmt.Fprintf(w, "%s %s on %s: %s\n  %s\n", a.ID, a.Action, orDash(a.UserID), a.Status, a.Result)
	switch a.Status {
	case store.ResponseExecuted, store.ResponsePending:
		return nil
	}
	return fmt.Errorf("%s was %s; see idwatch respond show %s", a.Action, a.Status, a.ID)
}

func respondList(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "respond list", "respond list [--status S] [--limit N] [--json]")
	c := addCommon(fs)
	status := fs.String("status", "", "only actions with this status: "+strings.Join(store.ResponseStatuses, ", "))
	limit := fs.Int("limit", 100, "at most this many actions, newest first")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *limit < 1 || *limit > sqlite.MaxReadLimit {
		return fmt.Errorf("%w: --limit must be 1..%d", errUsage, sqlite.MaxReadLimit)
	}
	st, err := c.openStore(ctx, io, sqlite.KeyRead)
	if err != nil {
		return err
	}
	defer st.Close()
	list, err := st.ListResponseActions(ctx, *status, *limit)
	if err != nil {
		return err
	}
	if c.json {
		enc := json.NewEncoder(io.out)
		for _, a := range list {
			if err := enc.Encode(a); err != nil {
				return err
			}
		}
		return nil
	}
	if len(list) == 0 {
		fmt.Fprintln(io.err, "no response actions")
		return nil
	}
	tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCREATED\tACTION\tUSER\tSTATUS\tBY\tALERT")
	for _, a := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.CreatedAt.UTC().Format(time.RFC3339), a.Action, a.User, a.Status, a.RequestedBy, orDash(a.AlertID))
	}
	return tw.Flush()
}

func respondShow(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "respond show", "respond show ID [--json]")
	c := addCommon(fs)
	id, err := parseWithID(fs, args, "show")
	if err != nil {
		return err
	}
	st, err := c.openStore(ctx, io, sqlite.KeyRead)
	if err != nil {
		return err
	}
	defer st.Close()
	a, err := st.GetResponseAction(ctx, id)
	if err != nil {
		return err
	}
	recs, err := st.ResponseRecords(ctx, id, 0, sqlite.MaxReadLimit)
	if err != nil {
		return err
	}
	if c.json {
		return json.NewEncoder(io.out).Encode(map[string]any{"action": a, "trail": recs})
	}
	fmt.Fprintf(io.out, "%s %s on %s (%s): %s\n  requested by %s (%s)", a.ID, a.Action, a.User, orDash(a.UserID), a.Status, a.RequestedBy, a.Mode)
	if a.AlertID != "" {
		fmt.Fprintf(io.out, ", rule %s, alert %s", a.RuleID, a.AlertID)
	}
	fmt.Fprintf(io.out, "\n  reason: %s\n  result: %s\n\n", orDash(a.Reason), orDash(a.Result))
	tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tBY\tSTEP\tSTATUS\tOKTA\tDETAIL")
	for _, r := range recs {
		okta, detail := "", r.Text
		if r.Method != "" {
			okta = fmt.Sprintf("%d %s", r.OktaStatus, r.OktaCode)
			detail = r.Method + " " + r.Path
			if r.Query != "" {
				detail += "?" + r.Query
			}
			if r.OktaRequestID != "" {
				detail += " [" + r.OktaRequestID + "]"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.At.UTC().Format(time.RFC3339), r.By, r.Kind, r.Status, orDash(strings.TrimSpace(okta)), detail)
	}
	return tw.Flush()
}

func respondDecide(ctx context.Context, io stdio, verb string, args []string) error {
	fs := newFlagSet(io, "respond "+verb, "respond "+verb+" ID [--note TEXT] [--confirm] [--config F]")
	c := addCommon(fs)
	note := fs.String("note", "", "why (reject)")
	confirm := fs.Bool("confirm", false, "approve of a deactivation: confirm deprovisioning the user from every app")
	cfgPath := fs.String("config", "", "configuration file whose respond section applies")
	id, err := parseWithID(fs, args, verb)
	if err != nil {
		return err
	}
	rcfg, err := respondConfig(*cfgPath)
	if err != nil {
		return err
	}
	st, err := c.openStore(ctx, io, sqlite.KeyCollect)
	if err != nil {
		return err
	}
	defer st.Close()
	govs, err := okta.NewGovernorSet(okta.GovernorConfig{Logger: io.log})
	if err != nil {
		return err
	}
	r, err := newResponder(st, rcfg, govs, io)
	if err != nil {
		return err
	}
	if verb == "reject" {
		a, err := r.Reject(ctx, id, requester(), *note)
		if err != nil {
			return decideErr(err, id)
		}
		fmt.Fprintf(io.out, "%s %s on %s: %s\n", a.ID, a.Action, a.User, a.Status)
		return nil
	}
	out, err := r.Approve(ctx, id, requester(), *confirm)
	if errors.Is(err, respond.ErrConfirm) {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if err != nil {
		return decideErr(err, id)
	}
	if c.json {
		return json.NewEncoder(io.out).Encode(out)
	}
	return printOutcome(io, respond.Action(out.Action.Action), false, out)
}

func decideErr(err error, id string) error {
	if errors.Is(err, store.ErrChanged) {
		return fmt.Errorf("%w; only pending actions can be approved or rejected (idwatch respond show %s)", err, id)
	}
	return err
}

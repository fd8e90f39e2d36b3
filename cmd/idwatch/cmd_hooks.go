package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/hooks"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/process"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// hookHeader is the header carrying the shared secret on every delivery.
const hookHeader = "Authorization"

func runHooks(ctx context.Context, io stdio, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: hooks register|list|remove", errUsage)
	}
	switch args[0] {
	case "register":
		return hooksRegister(ctx, io, args[1:])
	case "list":
		return hooksList(ctx, io, args[1:])
	case "remove":
		return hooksRemove(ctx, io, args[1:])
	}
	return fmt.Errorf("%w: unknown hooks subcommand %q (register, list, remove)", errUsage, args[0])
}

// detectionEventTypes lists the eventType values the built-in detections require.
func detectionEventTypes() ([]string, error) {
	rs, _, err := process.LoadRules("", false)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range rs.Rules() {
		if r.Detection == nil {
			continue // a correlation: its member rules name the types
		}
		if vals, ok := r.Detection.EqualityConstraint(event.MustPath("eventType")); ok {
			out = append(out, vals...)
		}
	}
	return out, nil
}

func hooksRegister(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "hooks register", "hooks register --integration N --url U [--manual]")
	c := addCommon(fs)
	name := fs.String("integration", "", "integration name or id")
	rawURL := fs.String("url", "", "public HTTPS URL Okta delivers to, ending in /hooks/okta/<integration>")
	manual := fs.Bool("manual", false, "do not call Okta's Event Hooks API; print the admin console steps")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	st, err := c.openStore(ctx, io, sqlite.KeyStore)
	if err != nil {
		return err
	}
	defer st.Close()
	in, err := integration(ctx, st, *name)
	if err != nil {
		return err
	}
	if err := hooks.CheckURL(*rawURL, in.Name); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	wanted, err := detectionEventTypes()
	if err != nil {
		return err
	}
	types := hooks.Subscription(wanted)
	h := store.EventHook{IntegrationID: in.ID, URL: *rawURL, HeaderName: hookHeader, Secret: secret.New(hooks.NewSecret()),
		EventTypes: types, Status: "MANUAL"}
	// Stored first: Okta's verification call must find the secret.
	if _, err := st.PutEventHook(ctx, h); err != nil {
		return err
	}
	if !*manual {
		oh, err := registerWithOkta(ctx, io, in, h)
		var apiErr *okta.APIError
		switch {
		case err == nil:
			h.OktaHookID, h.Status = oh.ID, oh.Status+" "+oh.VerificationStatus
			if _, err := st.PutEventHook(ctx, h); err != nil {
				return err
			}
			fmt.Fprintf(io.out, "event hook %s created in %s, %s, delivering %d event types to %s\n", oh.ID, in.OrgURL, strings.ToLower(h.Status), len(types), h.URL)
			return nil
		case errors.As(err, &apiErr) && (apiErr.Status == 401 || apiErr.Status == 403):
			fmt.Fprintf(io.err, "the credentials of %s cannot manage event hooks (%v); set it up in the admin console instead:\n\n", in.Name, err)
		default:
			return fmt.Errorf("event hook for %s: %w (the secret is stored; fix the cause and run hooks register again, or use --manual)", in.Name, err)
		}
	}
	printManualSteps(io, in, h)
	return nil
}

// registerWithOkta creates, verifies and activates the hook through Okta's Event Hooks API.
func registerWithOkta(ctx context.Context, io stdio, in store.Integration, h store.EventHook) (okta.EventHook, error) {
	govs, err := okta.NewGovernorSet(okta.GovernorConfig{Logger: io.log})
	if err != nil {
		return okta.EventHook{}, err
	}
	cl, err := (&collect.Clients{Governors: govs, Logger: io.log, Dial: io.dial}).Client(in)
	if err != nil {
		return okta.EventHook{}, err
	}
	oh, err := cl.CreateEventHook(ctx, okta.EventHook{Name: "idwatch " + in.Name,
		Events: okta.EventHookEvents{Type: "EVENT_TYPE", Items: h.EventTypes},
		Channel: okta.EventHookChannel{Type: "HTTP", Version: "1.0.0", Config: okta.EventHookChannelConfig{URI: h.URL,
			AuthScheme: &okta.EventHookAuthScheme{Type: "HEADER", Key: h.HeaderName, Value: h.Secret.Reveal()}}}})
	if err != nil {
		return okta.EventHook{}, err
	}
	if oh, err = cl.EventHookLifecycle(ctx, oh.ID, "verify"); err != nil {
		return okta.EventHook{}, fmt.Errorf("Okta could not verify %s (is idwatch serve running with the hook receiver reachable there?): %w", h.URL, err)
	}
	if oh.Status != "ACTIVE" {
		if oh, err = cl.EventHookLifecycle(ctx, oh.ID, "activate"); err != nil {
			return okta.EventHook{}, err
		}
	}
	return oh, nil
}

// printManualSteps prints the admin console steps, with the secret shown this once.
func printManualSteps(io stdio, in store.Integration, h store.EventHook) {
	w := io.out
	fmt.Fprintf(w, "In the Okta Admin Console of %s:\n", in.OrgURL)
	fmt.Fprintln(w, "  1. Workflow > Event Hooks > Create Event Hook.")
	fmt.Fprintf(w, "  2. Name: idwatch %s. Endpoint URL: %s\n", in.Name, h.URL)
	fmt.Fprintf(w, "  3. Authentication field: %s. Authentication secret: %s\n", h.HeaderName, h.Secret.Reveal())
	fmt.Fprintln(w, "     (shown only now; it is stored encrypted. Running hooks register again makes a new one.)")
	fmt.Fprintf(w, "  4. Subscribe to these %d event types:\n", len(h.EventTypes))
	for _, t := range h.EventTypes {
		fmt.Fprintf(w, "       %s\n", t)
	}
	fmt.Fprintln(w, "  5. Save & Continue, then Verify (idwatch serve must be running and reachable at the URL).")
	fmt.Fprintln(w, "  6. Make sure the hook is Active. Then: idwatch hooks list")
}

// hookHealth is hooks list's view of one hook.
type hookHealth struct {
	Integration string `json:"integration"`
	store.EventHook
	// PolledFirst counts subscribed events stored by polling since the hook was set up: events
	// the hook should have delivered but did not, or not before polling read them.
	PolledFirst int64 `json:"polledFirst"`
}

func hooksHealth(ctx context.Context, st *sqlite.Store) ([]hookHealth, error) {
	list, err := st.ListEventHooks(ctx)
	if err != nil {
		return nil, err
	}
	ins, err := st.ListIntegrations(ctx)
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	for _, in := range ins {
		names[in.ID] = in.Name
	}
	out := make([]hookHealth, 0, len(list))
	for _, h := range list {
		n, err := st.CountPolledSince(ctx, h.IntegrationID, h.EventTypes, h.UpdatedAt)
		if err != nil {
			return nil, err
		}
		if time.Since(h.LastDelivery) > 2*time.Minute {
			h.PerMinute = 0 // the rate was measured while deliveries came; none came lately
		}
		out = append(out, hookHealth{Integration: names[h.IntegrationID], EventHook: h, PolledFirst: n})
	}
	return out, nil
}

func hooksList(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "hooks list", "hooks list")
	c := addCommon(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	st, err := c.openStore(ctx, io, sqlite.KeyRead)
	if err != nil {
		return err
	}
	defer st.Close()
	hs, err := hooksHealth(ctx, st)
	if err != nil {
		return err
	}
	if c.json {
		return writeJSON(io, hs)
	}
	tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INTEGRATION\tOKTA HOOK\tSTATUS\tLAST DELIVERY\tDELIVERIES/MIN\tEVENTS\tPOLLED FIRST\tURL")
	for _, h := range hs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1f\t%d\t%d\t%s\n", h.Integration, orDash(h.OktaHookID), h.Status, stampOrDash(h.LastDelivery),
			h.PerMinute, h.EventsReceived, h.PolledFirst, h.URL)
	}
	return tw.Flush()
}

func hooksRemove(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "hooks remove", "hooks remove NAME")
	c := addCommon(fs)
	name, err := parseNameAndFlags(fs, args, "remove")
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
	h, err := st.EventHook(ctx, in.ID)
	if err != nil && !errors.Is(err, store.ErrCredentialsUnreadable) {
		return err
	}
	if h.OktaHookID != "" {
		if err := removeFromOkta(ctx, io, in, h.OktaHookID); err != nil {
			fmt.Fprintf(io.err, "the hook %s could not be removed from Okta (%v): deactivate and delete it in Workflow > Event Hooks\n", h.OktaHookID, err)
		}
	}
	if err := st.DeleteEventHook(ctx, in.ID); err != nil {
		return err
	}
	fmt.Fprintf(io.out, "event hook of %s removed; deliveries to it are refused from now on (polling continues)\n", in.Name)
	return nil
}

func removeFromOkta(ctx context.Context, io stdio, in store.Integration, id string) error {
	if in.CredentialsError != "" {
		return errors.New(in.CredentialsError)
	}
	govs, err := okta.NewGovernorSet(okta.GovernorConfig{Logger: io.log})
	if err != nil {
		return err
	}
	cl, err := (&collect.Clients{Governors: govs, Logger: io.log, Dial: io.dial}).Client(in)
	if err != nil {
		return err
	}
	if _, err := cl.EventHookLifecycle(ctx, id, "deactivate"); err != nil {
		return err
	}
	return cl.DeleteEventHook(ctx, id)
}

func stampOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// integrationHook returns the integration's hook health, or nil when it has no hook.
func integrationHook(ctx context.Context, st *sqlite.Store, in store.Integration) (*hookHealth, error) {
	hs, err := hooksHealth(ctx, st)
	if err != nil {
		return nil, err
	}
	for i := range hs {
		if hs[i].IntegrationID == in.ID {
			return &hs[i], nil
		}
	}
	return nil, nil
}

// printHookRows adds the event hook's health to integrations show.
func printHookRows(row func(k, format string, a ...any), h *hookHealth) {
	if h == nil {
		row("event hook", "none (polling only; idwatch hooks register adds push delivery)")
		return
	}
	row("event hook", "%s %s → %s", orDash(h.OktaHookID), h.Status, h.URL)
	row("hook deliveries", "last %s, %.1f/min, %d events received", stampOrDash(h.LastDelivery), h.PerMinute, h.EventsReceived)
	row("hook missed", "%d subscribed events arrived by polling first since %s", h.PolledFirst, stampOrDash(h.UpdatedAt))
}

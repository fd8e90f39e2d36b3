package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/idwatch/idwatch/internal/server"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

const apikeysUsage = "idwatch apikeys create --name N --role admin|analyst|viewer | apikeys list | apikeys revoke N"

// runAPIKeys manages the REST API's and the console's keys. A key is shown once, when created;
// the store keeps only its SHA-256.
func runAPIKeys(ctx context.Context, io stdio, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, apikeysUsage)
	}
	switch args[0] {
	case "create":
		return apikeysCreate(ctx, io, args[1:])
	case "list":
		return apikeysList(ctx, io, args[1:])
	case "revoke":
		return apikeysRevoke(ctx, io, args[1:])
	}
	return fmt.Errorf("%w: unknown subcommand %q: %s", errUsage, args[0], apikeysUsage)
}

func apikeysCreate(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "apikeys create", "apikeys create --name N --role admin|analyst|viewer [--json] [--data-dir D]")
	c := addCommon(fs)
	name := fs.String("name", "", "a name for the key: who or what uses it (shown in histories and logs)")
	role := fs.String("role", "", "admin (everything), analyst (read, triage, run approved responses) or viewer (read only)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *name == "" || *role == "" {
		return fmt.Errorf("%w: give --name and --role (admin, analyst or viewer)", errUsage)
	}
	st, err := c.openStore(ctx, io, sqlite.KeyRead)
	if err != nil {
		return err
	}
	defer st.Close()
	key, rec, err := server.CreateKey(ctx, st, *name, store.Role(*role))
	if err != nil {
		return err
	}
	if c.json {
		return json.NewEncoder(io.out).Encode(struct {
			store.APIKey
			Key string `json:"key"`
		}{rec, key})
	}
	fmt.Fprintln(io.out, key)
	fmt.Fprintf(io.err, "API key %q (%s) created; this is the only time it is shown: keep it in a secret store\n", rec.Name, rec.Role)
	return nil
}

func apikeysList(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "apikeys list", "apikeys list [--json] [--data-dir D]")
	c := addCommon(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	st, err := c.openStore(ctx, io, sqlite.KeyRead)
	if err != nil {
		return err
	}
	defer st.Close()
	keys, err := st.ListAPIKeys(ctx)
	if err != nil {
		return err
	}
	if c.json {
		enc := json.NewEncoder(io.out)
		for _, k := range keys {
			if err := enc.Encode(k); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tLAST USED\tSTATE")
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, k := range keys {
		state := "active"
		if !k.Active() {
			state = "revoked " + stamp(k.RevokedAt)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.Name, k.Role, stamp(k.CreatedAt), stamp(k.LastUsedAt), state)
	}
	return tw.Flush()
}

func apikeysRevoke(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "apikeys revoke", "apikeys revoke NAME [--data-dir D]")
	c := addCommon(fs)
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if name == "" && fs.NArg() == 1 {
		name = fs.Arg(0)
	} else if fs.NArg() > 0 {
		name = ""
	}
	if name == "" {
		return fmt.Errorf("%w: apikeys revoke takes one key name (idwatch apikeys list shows them)", errUsage)
	}
	st, err := c.openStore(ctx, io, sqlite.KeyRead)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.RevokeAPIKey(ctx, name); err != nil {
		return err
	}
	fmt.Fprintf(io.out, "API key %q revoked; requests and console sessions with it are refused from now on\n", name)
	return nil
}

// initialAdminFile is where serve leaves the first admin key when nobody watches its output.
const initialAdminFile = "initial-admin.key"

// ensureAdminKey creates an admin key named initial-admin when no active key exists, so that a
// fresh serve can be signed in to. The key is printed once on stderr and, when stderr is not a
// terminal (a service manager's log), also written 0600 to the data directory.
func ensureAdminKey(ctx context.Context, io stdio, st store.APIKeys, dataDir string) error {
	keys, err := st.ListAPIKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.Active() {
			return nil
		}
	}
	name := "initial-admin"
	key, _, err := server.CreateKey(ctx, st, name, store.RoleAdmin)
	if errors.Is(err, store.ErrConflict) {
		name = "initial-admin-" + time.Now().UTC().Format("20060102-150405")
		key, _, err = server.CreateKey(ctx, st, name, store.RoleAdmin)
	}
	if err != nil {
		return fmt.Errorf("creating the first admin API key: %w", err)
	}
	fmt.Fprintf(io.err, "idwatch: no API key existed; created the admin key %q (shown once): %s\n", name, key)
	if isTerminal(io.err) {
		return nil
	}
	path := filepath.Join(dataDir, initialAdminFile)
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return fmt.Errorf("writing the first admin API key to %s: %w", path, err)
	}
	fmt.Fprintf(io.err, "idwatch: the key is also in %s (mode 0600); delete the file once it is in a secret store\n", path)
	return nil
}

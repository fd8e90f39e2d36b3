package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/idwatch/idwatch/internal/store/sqlite"
)

func runPosture(ctx context.Context, io stdio, args []string) error {
	fs := newFlagSet(io, "posture", "posture [--integration N] [--json] [--data-dir DIR]")
	c := addCommon(fs)
	name := fs.String("integration", "", "only this integration (name or id)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	st, err := c.openStore(ctx, io, sqlite.KeyRead)
	if err != nil {
		return err
	}
	defer st.Close()
	ins, err := inventoriesOf(ctx, st, *name)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(io.out)
	total := 0
	for _, in := range ins {
		fs, err := st.Posture(ctx, in.ID)
		if err != nil {
			return err
		}
		for _, f := range fs {
			total++
			if c.json {
				if err := enc.Encode(map[string]any{"integration": in.Name, "finding": f}); err != nil {
					return err
				}
				continue
			}
			accounts := f.Accounts
			more := ""
			if len(accounts) > 10 {
				accounts, more = accounts[:10], fmt.Sprintf(" and %d more (--json lists all)", len(f.Accounts)-10)
			}
			fmt.Fprintf(io.out, "[%s] %s: %s\n  accounts: %s%s\n  why: %s\n  fix: %s\n\n", strings.ToUpper(f.Severity), in.Name, f.Title,
				strings.Join(accounts, ", "), more, f.Why, f.Fix)
		}
	}
	if total == 0 && !c.json {
		fmt.Fprintln(io.err, "no posture findings (integrations without the inventory feature, or never synced, have none: idwatch inventory sync --integration N)")
	}
	return nil
}

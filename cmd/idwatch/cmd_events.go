package main

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/normalize"
	"github.com/idwatch/idwatch/internal/store"
)

func runEvents(ctx context.Context, io stdio, args []string) error {
	if len(args) == 0 || args[0] != "export" {
		return fmt.Errorf("%w: events export [--integration N] [--format raw|ocsf] [--since T]", errUsage)
	}
	fs := newFlagSet(io, "events export", "events export [--integration N] [--format raw|ocsf] [--since T]")
	c := addCommon(fs)
	name := fs.String("integration", "", "only this integration's events")
	format := fs.String("format", "raw", "raw: Okta LogEvent JSON as collected; ocsf: the normalized OCSF records of each event")
	sinceS := fs.String("since", "", "only events published at or after: RFC 3339 or a duration back from now (90m, 7d)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	switch *format {
	case "raw", "ocsf":
	default:
		return fmt.Errorf("%w: --format %q is not raw or ocsf", errUsage, *format)
	}
	var since time.Time
	if *sinceS != "" {
		var err error
		if since, err = parseTime(*sinceS, time.Now()); err != nil {
			return err
		}
	}
	st, err := c.openStore(ctx, io)
	if err != nil {
		return err
	}
	defer st.Close()
	var filter store.ReadFilter
	if *name != "" {
		in, err := integration(ctx, st, *name)
		if err != nil {
			return err
		}
		filter.Integrations = []int64{in.ID}
	}
	w := bufio.NewWriterSize(io.out, 1<<16)
	var write func(e store.Entry) error
	if *format == "ocsf" {
		write = ocsfWriter(w)
	} else {
		write = func(e store.Entry) error {
			w.Write(e.Raw)
			return w.WriteByte('\n')
		}
	}
	after := int64(0)
	for {
		es, err := st.ReadJournal(ctx, after, 5000, filter)
		if err != nil {
			return err
		}
		if len(es) == 0 {
			break
		}
		for _, e := range es {
			if err := ctx.Err(); err != nil {
				return err // a page of large events takes a while to normalize
			}
			if !since.IsZero() && e.Published.Before(since) {
				continue
			}
			if err := write(e); err != nil {
				return err
			}
		}
		after = es[len(es)-1].Seq
	}
	return w.Flush()
}

// ocsfWriter returns a function writing a journal entry's normalized records to w, one per line:
// metadata.tenant_uid is the integration id and metadata.logged_time the time the entry was
// stored.
func ocsfWriter(w *bufio.Writer) func(store.Entry) error {
	n := normalize.New()
	buf := make([]byte, 0, 8<<10)
	return func(e store.Entry) error {
		ev, err := event.DecodeOwned(e.Raw)
		if err != nil {
			return fmt.Errorf("journal entry %d (event %s) does not decode: %w", e.Seq, e.UUID, err)
		}
		meta := normalize.Meta{TenantUID: strconv.FormatInt(e.IntegrationID, 10), LoggedTime: e.StoredAt, Raw: e.Raw}
		for _, r := range n.Normalize(ev, meta) {
			if buf, err = r.AppendJSON(buf[:0], normalize.EncodeOptions{}); err != nil {
				return fmt.Errorf("encode event %s: %w", ev.UUID, err)
			}
			buf = append(buf, '\n')
			if _, err := w.Write(buf); err != nil {
				return fmt.Errorf("write records: %w", err)
			}
		}
		return nil
	}
}

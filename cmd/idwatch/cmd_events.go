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
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

func runEvents(ctx context.Context, io stdio, args []string) error {
	if len(args) == 0 || args[0] != "export" {
		return fmt.Errorf("%w: %s", errUsage, exportUsage)
	}
	fs := newFlagSet(io, "events export", exportUsage)
	c := addCommon(fs)
	name := fs.String("integration", "", "only this integration's events")
	format := fs.String("format", "raw", "raw: Okta LogEvent JSON as collected; ocsf: the normalized OCSF records of each event")
	sinceS := fs.String("since", "", "only events published at or after: RFC 3339 or a duration back from now (90m, 7d)")
	untilS := fs.String("until", "", "only events published before: RFC 3339 or a duration back from now")
	sortBy := fs.String("sort", "seq", "seq: in the order the journal received the events; published: in event-time order (ties by uuid), as replay needs for correlations")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	switch *format {
	case "raw", "ocsf":
	default:
		return fmt.Errorf("%w: --format %q is not raw or ocsf", errUsage, *format)
	}
	if *sortBy != "seq" && *sortBy != "published" {
		return fmt.Errorf("%w: --sort %q is not seq or published", errUsage, *sortBy)
	}
	now := time.Now()
	var since, until time.Time
	for _, f := range []struct {
		text string
		to   *time.Time
	}{{*sinceS, &since}, {*untilS, &until}} {
		if f.text == "" {
			continue
		}
		var err error
		if *f.to, err = parseTime(f.text, now); err != nil {
			return err
		}
	}
	if !since.IsZero() && !until.IsZero() && !until.After(since) {
		return fmt.Errorf("%w: --until %s is not after --since %s", errUsage, until.Format(time.RFC3339), since.Format(time.RFC3339))
	}
	st, err := c.openStore(ctx, io, sqlite.KeyRead)
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
	var werr error
	if *sortBy == "published" {
		werr = exportByTime(ctx, st, filter, since, until, write)
	} else {
		bounded := !since.IsZero() || !until.IsZero()
		werr = exportBySeq(ctx, st, filter, func(e store.Entry) error {
			if bounded && (e.Published.IsZero() || e.Published.Before(since) || (!until.IsZero() && !e.Published.Before(until))) {
				return nil
			}
			return write(e)
		})
	}
	if werr != nil {
		return werr
	}
	return w.Flush()
}

// exportUsage is the synopsis of events export.
const exportUsage = "events export [--integration N] [--format raw|ocsf] [--since T] [--until T] [--sort seq|published]"

// exportBySeq calls write for every journal entry matching filter, in seq order.
func exportBySeq(ctx context.Context, st store.Store, filter store.ReadFilter, write func(store.Entry) error) error {
	for after := int64(0); ; {
		es, err := st.ReadJournal(ctx, after, 5000, filter)
		if err != nil || len(es) == 0 {
			return err
		}
		for _, e := range es {
			if err := ctx.Err(); err != nil {
				return err // a page of large events takes a while to normalize
			}
			if err := write(e); err != nil {
				return err
			}
		}
		after = es[len(es)-1].Seq
	}
}

// exportByTime calls write for the journal entries matching filter published in [since, until)
// (zero: unbounded), in event-time order. Entries without a published time follow, in seq order,
// when no time bound excludes them, so an export of everything loses nothing.
func exportByTime(ctx context.Context, st store.Store, filter store.ReadFilter, since, until time.Time, write func(store.Entry) error) error {
	after := store.TimeKey{Published: since}
	for {
		es, err := st.ReadJournalByTime(ctx, after, 5000, store.TimeFilter{ReadFilter: filter, Until: until})
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
			if err := write(e); err != nil {
				return err
			}
		}
		after = es[len(es)-1].Key()
	}
	if !since.IsZero() || !until.IsZero() {
		return nil
	}
	return exportBySeq(ctx, st, filter, func(e store.Entry) error {
		if !e.Published.IsZero() {
			return nil
		}
		return write(e)
	})
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

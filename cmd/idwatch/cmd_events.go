package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/normalize"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

func runEvents(ctx context.Context, io stdio, args []string) error {
	if len(args) > 0 && args[0] == "search" {
		return runEventsSearch(ctx, io, args[1:])
	}
	if len(args) == 0 || args[0] != "export" {
		return fmt.Errorf("%w: %s | %s", errUsage, exportUsage, searchUsage)
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
	var ocsf *ocsfExport
	if *format == "ocsf" {
		ocsf = newOCSFExport(w, io.err)
		write = ocsf.write
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
	if err := w.Flush(); err != nil {
		return err
	}
	if ocsf != nil && ocsf.skipped > 0 {
		return fmt.Errorf("%d of %d journal entries were skipped (each is named above with its seq and uuid): they are not Okta events, so they have no OCSF records; the others were exported, and --format raw exports every entry as stored",
			ocsf.skipped, ocsf.entries)
	}
	return nil
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

// ocsfExport writes journal entries' normalized records to w, one per line:
// metadata.tenant_uid is the integration id and metadata.logged_time the time the entry was
// stored. An entry that does not decode as an Okta event is named on errw and skipped, as the
// processor skips it, so that one bad entry does not stop the export; skipped counts them.
type ocsfExport struct {
	w       *bufio.Writer
	errw    io.Writer
	n       *normalize.Normalizer
	buf     []byte
	entries int // entries written or skipped
	skipped int
}

// newOCSFExport returns an ocsfExport writing to w and naming skipped entries on errw.
func newOCSFExport(w *bufio.Writer, errw io.Writer) *ocsfExport {
	return &ocsfExport{w: w, errw: errw, n: normalize.New(), buf: make([]byte, 0, 8<<10)}
}

// write writes the records of one journal entry.
func (x *ocsfExport) write(e store.Entry) error {
	x.entries++
	ev, err := event.DecodeOwned(e.Raw)
	if err != nil {
		x.skipped++
		fmt.Fprintf(x.errw, "idwatch events export: skipped journal entry seq %d (event %q): it does not decode: %v\n", e.Seq, e.UUID, err)
		return nil
	}
	meta := normalize.Meta{TenantUID: strconv.FormatInt(e.IntegrationID, 10), LoggedTime: e.StoredAt, Raw: e.Raw}
	for _, r := range x.n.Normalize(ev, meta) {
		if x.buf, err = r.AppendJSON(x.buf[:0], normalize.EncodeOptions{}); err != nil {
			return fmt.Errorf("encode event %s: %w", ev.UUID, err)
		}
		x.buf = append(x.buf, '\n')
		if _, err := x.w.Write(x.buf); err != nil {
			return fmt.Errorf("write records: %w", err)
		}
	}
	return nil
}

package normalize

import "github.com/idwatch/idwatch/internal/event"

// writeFlaws writes what the decoder could not read into the event model as
// unmapped.unreadable_fields, one {path, problem, value} per flaw, the value as received: an
// event that could not be fully read still yields its records, and they say what is missing.
func writeFlaws(w *event.JSONWriter, flaws []event.Flaw) {
	if len(flaws) == 0 {
		return
	}
	w.Array("unreadable_fields", len(flaws), func(i int) {
		f := &flaws[i]
		w.Open()
		w.Str("path", f.Path)
		w.Str("problem", f.Problem)
		if f.Value != nil {
			w.Key("value")
			w.B = event.AppendCompact(w.B, string(f.Value))
		}
		w.Close()
	})
}

// eventTime is the record's time: the event's published time, or when it has none readable,
// the time idwatch stored it, else the time it was normalized (the event says which in
// unmapped.unreadable_fields).
func eventTime(ev *event.LogEvent, meta Meta) int64 {
	switch {
	case !ev.Published.IsZero():
		return ev.Published.UnixMilli()
	case !meta.LoggedTime.IsZero():
		return meta.LoggedTime.UnixMilli()
	case !meta.ProcessedTime.IsZero():
		return meta.ProcessedTime.UnixMilli()
	}
	return 0
}

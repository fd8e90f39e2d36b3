package process

import (
	"strings"
	"unicode/utf8"

	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/normalize"
)

// recordFields is a normalized record as the detection engine reads it. The engine reads a few
// fields of every record (its time, its uid, and the index keys metadata.event_code and
// class_uid that pick the candidate rules); recordFields answers those from the OCSF struct, and
// any other field from the record's own encoding, which is built only when a candidate rule
// reads one. Most records meet no candidate rule, so most records are never encoded for
// detection. The values have the types the encoding yields (integers as int64). Strings that are
// not valid UTF-8 are read from the encoding, which repairs them.
type recordFields struct{ r *normalize.Record }

// Each implements event.Fields.
func (f recordFields) Each(p event.Path, fn func(v any) bool) {
	o := f.r.OCSF
	switch s := p.String(); {
	case strings.EqualFold(s, "time"):
		if o.Time != 0 {
			fn(o.Time)
		}
	case strings.EqualFold(s, "metadata.uid"):
		if o.Metadata.UID != "" {
			fn(o.Metadata.UID)
		}
	case strings.EqualFold(s, "metadata.event_code"):
		if o.Metadata.EventCode != "" {
			fn(o.Metadata.EventCode)
		}
	case strings.EqualFold(s, "class_uid"):
		if o.ClassUID != 0 {
			fn(int64(o.ClassUID))
		}
	case strings.EqualFold(s, "status_id"):
		if o.StatusID != 0 {
			fn(int64(o.StatusID))
		}
	case strings.EqualFold(s, "actor.user.name") && o.Actor != nil && o.Actor.User != nil && utf8.ValidString(o.Actor.User.Name):
		// The built-in correlations group records by it: answered without encoding the record.
		if o.Actor.User.Name != "" {
			fn(o.Actor.User.Name)
		}
	case strings.EqualFold(s, "src_endpoint.ip") && o.SrcEndpoint != nil && utf8.ValidString(o.SrcEndpoint.IP):
		if o.SrcEndpoint.IP != "" {
			fn(o.SrcEndpoint.IP)
		}
	default:
		if !enrichmentField(p, f.r.ActorIdentity(), f.r.TargetIdentity(), fn) {
			f.r.Each(p, fn)
		}
	}
}

package normalize

import (
	"sync"
	"time"

	"github.com/idwatch/idwatch/internal/event"
)

// Meta is what the caller knows about an event beyond its content.
type Meta struct {
	// TenantUID is the integration (org) id; it becomes metadata.tenant_uid.
	TenantUID string
	// LoggedTime is when idwatch stored the event (metadata.logged_time); zero leaves it out.
	LoggedTime time.Time
	// ProcessedTime is when the event was normalized (metadata.processed_time); zero leaves it out.
	ProcessedTime time.Time
	// Raw is the event exactly as received; it travels with the records as raw_data. When nil,
	// the event's own encoding (event.LogEvent.MarshalJSON) is used.
	Raw []byte
	// Enricher, when set, resolves the record's actor and subject user against the identity
	// inventory (enrich.go); nil leaves the records exactly as the event alone maps them.
	Enricher Enricher
}

// Record is one normalized record: an event routed to one schema and mapped to OCSF. The source
// event travels with it (Event, and Raw when known), and its encoding carries it in raw_data.
// Record implements event.Fields over its OCSF encoding, so rules on auth / cloudaudit / generic
// read OCSF paths such as actor.user.name or src_endpoint.ip. Records are read-only: the
// records of one event share their objects and the normalizer's constant slices.
type Record struct {
	Schema  Schema
	Routing Routing
	Family  string // the FamilyTable prefix for inferred routing, if any
	Event   *event.LogEvent
	Raw     []byte
	OCSF    *OCSF

	once     sync.Once
	doc      event.Doc
	siblings *sharedEncoding // set when the event has more than one record
}

// sharedEncoding is the encoding the records of one event have in common. They differ only in
// metadata.labels (schema:auth or schema:generic), so the first one encoded keeps its bytes and
// its siblings copy them around their own labels: an overlap event (user.authentication.sso and
// policy.evaluate_sign_on, the two most frequent types of a busy org) costs one encoding, not two.
type sharedEncoding struct {
	mu                  sync.Mutex
	valid               bool
	omitRawData         bool // the options buf was encoded with
	buf                 []byte
	labelsAt, labelsEnd int
}

// EncodeOptions tune a record's JSON encoding.
type EncodeOptions struct {
	// OmitRawData leaves raw_data out, for consumers that keep the raw event elsewhere.
	OmitRawData bool
}

// MarshalJSON encodes the record as its OCSF object, raw_data included.
func (r *Record) MarshalJSON() ([]byte, error) {
	return r.AppendJSON(make([]byte, 0, 4096), EncodeOptions{})
}

// AppendJSON appends the record's OCSF encoding to b.
func (r *Record) AppendJSON(b []byte, opt EncodeOptions) ([]byte, error) {
	var raw []byte
	if !opt.OmitRawData {
		raw = r.Raw
		if raw == nil && r.Event != nil {
			var err error
			if raw, err = r.Event.MarshalJSON(); err != nil {
				return nil, err
			}
		}
	}
	sh := r.siblings
	if sh == nil {
		w := event.JSONWriter{B: b}
		r.OCSF.appendJSON(&w, raw)
		return w.B, w.Err
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.valid && sh.omitRawData == opt.OmitRawData {
		b = append(b, sh.buf[:sh.labelsAt]...)
		b = appendStrings(b, r.OCSF.Metadata.Labels)
		return append(b, sh.buf[sh.labelsEnd:]...), nil
	}
	start := len(b)
	w := event.JSONWriter{B: b}
	at, end := r.OCSF.appendJSON(&w, raw)
	if w.Err != nil {
		return w.B, w.Err
	}
	sh.buf = append(sh.buf[:0], w.B[start:]...)
	sh.labelsAt, sh.labelsEnd = at-start, end-start
	sh.omitRawData, sh.valid = opt.OmitRawData, true
	return w.B, nil
}

// Each implements event.Fields over the record's OCSF fields (raw_data excluded).
func (r *Record) Each(p event.Path, fn func(v any) bool) {
	r.once.Do(func() {
		b, err := r.AppendJSON(nil, EncodeOptions{OmitRawData: true})
		if err == nil {
			r.doc, _ = event.ParseDoc(b)
		}
	})
	r.doc.Each(p, fn)
}

// Normalizer routes and maps events; it holds only compiled tables and is safe for concurrent use.
type Normalizer struct {
	router    *Router
	cls       classifier
	typeNames map[int]string
	labels    map[Schema]map[Routing][]string
	countries countryIndex
}

// New compiles the routing and class tables.
func New() *Normalizer {
	n := &Normalizer{router: NewRouter(), cls: newClassifier(), typeNames: map[int]string{},
		labels: map[Schema]map[Routing][]string{}, countries: newCountryIndex()}
	for uid, c := range classes {
		n.typeNames[uid*100+ActivityOther] = c.name + ": Other"
		for a, name := range c.activities {
			n.typeNames[uid*100+a] = c.name + ": " + name
		}
	}
	for _, s := range Schemas {
		n.labels[s] = map[Routing][]string{}
		for _, rt := range []Routing{Listed, Inferred} {
			n.labels[s][rt] = []string{"schema:" + string(s), "routing:" + string(rt)}
		}
	}
	return n
}

// Normalize returns one record per schema the event routes to (one, or two for the three
// overlap types), in schema order of the listed table. Records of one event share nothing
// mutable but the source event.
func (n *Normalizer) Normalize(ev *event.LogEvent, meta Meta) []*Record {
	return n.NormalizeInto(nil, ev, meta)
}

// Scratch is memory NormalizeInto maps events into instead of allocating it, reused from one
// event to the next. The zero value is ready to use; it is not safe for concurrent use.
type Scratch struct {
	blk    mapBlock
	second OCSF // the second record's copy, for an event with two
	recs   [2]Record
	ptrs   [2]*Record
	sh     sharedEncoding
}

// NormalizeInto is Normalize mapping into s: the records it returns, and the OCSF objects they
// point to, are valid only until its next call with s. It suits a caller that is done with an
// event's records before it normalizes the next (the processor) and keeps nothing of them. A nil
// s allocates, as Normalize does.
func (n *Normalizer) NormalizeInto(s *Scratch, ev *event.LogEvent, meta Meta) []*Record {
	if ev == nil {
		return nil
	}
	route := n.router.Route(ev.EventType)
	if s != nil && len(route.Schemas) > len(s.recs) {
		s = nil
	}
	var blk *mapBlock
	if s != nil {
		s.blk = mapBlock{}
		blk = &s.blk
	} else {
		blk = new(mapBlock)
	}
	o := n.mapEvent(ev, meta, blk)
	var recs []*Record
	var sh *sharedEncoding
	if s != nil {
		recs = s.ptrs[:len(route.Schemas)]
		if len(recs) > 1 {
			s.sh = sharedEncoding{}
			sh = &s.sh
		}
	} else {
		recs = make([]*Record, len(route.Schemas))
		if len(recs) > 1 {
			sh = new(sharedEncoding)
		}
	}
	for i, schema := range route.Schemas {
		oc := o
		if i > 0 {
			if s != nil {
				s.second = *o
				oc = &s.second
			} else {
				c := *o
				oc = &c
			}
		}
		oc.Metadata.Labels = n.labels[schema][route.Routing]
		var r *Record
		if s != nil {
			r = &s.recs[i]
		} else {
			r = new(Record)
		}
		*r = Record{Schema: schema, Routing: route.Routing, Family: route.Family, Event: ev, Raw: meta.Raw, OCSF: oc, siblings: sh}
		recs[i] = r
	}
	return recs
}

// AppendRaw appends the record's raw form: the event as received, with the schema it was routed
// to, {"schema":…,"routing":…,"family":…,"event":{…}} (family only for inferred routing).
func (r *Record) AppendRaw(b []byte) ([]byte, error) {
	raw := r.Raw
	if raw == nil {
		var err error
		if raw, err = r.Event.MarshalJSON(); err != nil {
			return nil, err
		}
	}
	w := event.JSONWriter{B: b}
	w.Open()
	w.Str("schema", string(r.Schema))
	w.Str("routing", string(r.Routing))
	w.Str("family", r.Family)
	w.Key("event")
	w.B = append(w.B, raw...)
	w.Close()
	return w.B, nil
}

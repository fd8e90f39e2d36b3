package sink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/store"
)

// Clock is the time source of runners and sinks; clock.System is the wall clock and tests inject
// a clock.Manual.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// OCSFRecord is one OCSF record of an event and the schema (auth, cloudaudit, generic) it was
// routed to.
type OCSFRecord struct {
	Schema string
	Body   json.RawMessage
}

// OCSFFunc turns one journal entry into its OCSF records (one per schema the event routes to). It
// is the normalizer, plugged in by the caller; NormalizeOCSF adapts internal/normalize.
type OCSFFunc func(e store.Entry) ([]OCSFRecord, error)

// State is what a runner is doing.
type State string

// The states a runner reports.
const (
	StateStarting   State = "starting"
	StateConnecting State = "connecting"
	StateDelivering State = "delivering"
	StateIdle       State = "idle"
	StateRetrying   State = "retrying"
	StateStopped    State = "stopped"
)

// Status is a runner's live state, for `idwatch sinks list` and the console.
type Status struct {
	Name, Type string
	State      State
	// Since is when the runner entered State: for retrying, when the outage began.
	Since time.Time
	// LastError is the latest delivery or connection error (secrets, URL paths and queries never
	// appear in sink errors).
	LastError string
	// StopReason is why the runner stopped on its own (an error of ClassBug); empty otherwise.
	StopReason   string
	Delivered    int64
	DeadLettered int64
	Failures     int64
	// Offsets are the committed offsets per stream.
	Offsets map[store.Stream]int64
}

// RunnerOptions configures a Runner.
type RunnerOptions struct {
	Store  store.Store
	Config Config
	// Sink overrides the sink built from Config.Spec (tests, replays).
	Sink   Sink
	Logger *slog.Logger
	Clock  Clock
	// OCSF is required when the sink carries ocsf records.
	OCSF OCSFFunc
	// PollInterval is how often an idle runner looks for new records; 0 means 200ms.
	PollInterval time.Duration
}

// Runner delivers one configured sink: it reads its streams from its own offsets, batches,
// writes, retries, dead-letters, and commits.
type Runner struct {
	st      store.Store
	cfg     Config
	sink    Sink
	log     *slog.Logger
	clock   Clock
	ocsf    OCSFFunc
	poll    time.Duration
	sources []*source
	intIDs  []int64

	mu       sync.Mutex
	status   Status
	reported [2]string // the status and error last written to the store (persistStatus)

	reads sync.WaitGroup // read-aheads in flight
}

// source is one stream a runner follows, with its batch being assembled.
type source struct {
	stream   store.Stream
	consumer string
	offset   int64 // committed
	readPos  int64 // last seq read into pending
	pending  []Record
	since    time.Time  // when the first record of pending was read
	ahead    *readAhead // the next journal read, started while pending is delivered
}

// readAhead is a journal read of up to limit entries after seq after, running in the background.
// Reading the next batch while the current one is written (and fsynced, or acked over the
// network) keeps a sink that is catching up busy on both ends; it changes nothing about what is
// delivered or committed, as reads have no side effects and offsets are still committed in order.
type readAhead struct {
	after   int64
	limit   int
	done    chan struct{}
	entries []store.Entry
	err     error
}

// startReadAhead starts reading the journal after s.readPos.
func (r *Runner) startReadAhead(ctx context.Context, s *source) {
	a := &readAhead{after: s.readPos, limit: r.cfg.Batch.MaxRecords, done: make(chan struct{})}
	s.ahead = a
	r.reads.Add(1)
	go func() {
		defer r.reads.Done()
		defer close(a.done)
		a.entries, a.err = r.st.ReadJournal(ctx, a.after, a.limit, store.ReadFilter{})
	}()
}

// readJournal returns up to limit entries after s.readPos: the read-ahead's when it read exactly
// that, else a fresh read.
func (r *Runner) readJournal(ctx context.Context, s *source, limit int) ([]store.Entry, error) {
	if a := s.ahead; a != nil {
		s.ahead = nil
		select {
		case <-a.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if a.after == s.readPos && a.limit == limit {
			return a.entries, a.err
		}
	}
	return r.st.ReadJournal(ctx, s.readPos, limit, store.ReadFilter{})
}

// ConsumerName is the consumer offset name of sink name on stream.
func ConsumerName(name string, stream store.Stream) string {
	if stream == store.StreamAlerts || stream == store.StreamIncidents || stream == store.StreamIdentity {
		return "sink/" + name + "/" + string(stream)
	}
	return "sink/" + name
}

// NewRunner checks the options and builds the sink; nothing is connected or registered yet.
func NewRunner(o RunnerOptions) (*Runner, error) {
	if o.Store == nil {
		return nil, errors.New("sink runner: no store")
	}
	cfg := o.Config.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.System{}
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 200 * time.Millisecond
	}
	if slices.Contains(cfg.Carry, KindOCSF) && o.OCSF == nil {
		return nil, fmt.Errorf("sink %q carries ocsf records but no normalizer is available", cfg.Name)
	}
	r := &Runner{st: o.Store, cfg: cfg, sink: o.Sink, log: o.Logger.With("sink", cfg.Name), clock: o.Clock, ocsf: o.OCSF, poll: o.PollInterval}
	if r.sink == nil {
		s, err := cfg.Spec.Build(Env{Name: cfg.Name, Logger: r.log, Clock: o.Clock})
		if err != nil {
			return nil, fmt.Errorf("sink %q: %w", cfg.Name, err)
		}
		r.sink = s
	}
	if slices.Contains(cfg.Carry, KindEvent) || slices.Contains(cfg.Carry, KindOCSF) {
		r.sources = append(r.sources, &source{stream: store.StreamJournal, consumer: ConsumerName(cfg.Name, store.StreamJournal)})
	}
	if slices.Contains(cfg.Carry, KindAlert) {
		r.sources = append(r.sources, &source{stream: store.StreamAlerts, consumer: ConsumerName(cfg.Name, store.StreamAlerts)})
	}
	if slices.Contains(cfg.Carry, KindIncident) {
		r.sources = append(r.sources, &source{stream: store.StreamIncidents, consumer: ConsumerName(cfg.Name, store.StreamIncidents)})
	}
	if slices.Contains(cfg.Carry, KindIdentity) {
		r.sources = append(r.sources, &source{stream: store.StreamIdentity, consumer: ConsumerName(cfg.Name, store.StreamIdentity)})
	}
	r.status = Status{Name: cfg.Name, Type: cfg.Type, State: StateStarting, Offsets: map[store.Stream]int64{}}
	return r, nil
}

// Status returns a snapshot of the runner's state.
func (r *Runner) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.status
	s.Offsets = maps(s.Offsets)
	return s
}

func maps(m map[store.Stream]int64) map[store.Stream]int64 {
	out := make(map[store.Stream]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (r *Runner) update(fn func(s *Status)) {
	r.mu.Lock()
	fn(&r.status)
	r.mu.Unlock()
	r.persistStatus()
}

// persistStatus writes the runner's state to its consumer offsets' status, so that `idwatch
// sinks list` run elsewhere shows a sink that is retrying and why. Only changes worth showing are
// written: idle and delivering read the same, and the error is kept only while it matters.
func (r *Runner) persistStatus() {
	r.mu.Lock()
	st := r.status.State
	var report [2]string
	switch st {
	case StateStarting:
		r.mu.Unlock()
		return // not registered yet
	case StateIdle, StateDelivering:
		report = [2]string{string(StateDelivering), ""}
	case StateRetrying, StateConnecting:
		report = [2]string{string(st), r.status.LastError}
	case StateStopped:
		report = [2]string{string(st), r.status.StopReason}
	default:
		report = [2]string{string(st), ""}
	}
	if report == r.reported {
		r.mu.Unlock()
		return
	}
	r.reported = report
	r.mu.Unlock()
	// A short write of its own: the status must also be written while the runner stops.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range r.sources {
		if err := r.st.SetConsumerStatus(ctx, s.consumer, report[0], report[1]); err != nil {
			r.log.Debug("recording sink status", "err", err)
		}
	}
}

func (r *Runner) setState(st State, err error) {
	r.update(func(s *Status) {
		if s.State != st {
			s.State, s.Since = st, r.clock.Now()
		}
		if err != nil {
			s.LastError = err.Error()
			s.Failures++
		}
	})
}

// Run delivers until ctx ends; it returns nil then, or an error when the sink cannot start (an
// unknown integration in its filter, a store failure while registering) or stopped on an error of
// ClassBug (its status is then "stopped" with the reason).
func (r *Runner) Run(ctx context.Context) (err error) {
	defer func() {
		if stop, ok := errors.AsType[stopError](err); ok {
			err = fmt.Errorf("sink %q stopped: %w", r.cfg.Name, stop.err)
			r.mu.Lock()
			r.status.StopReason, r.status.LastError = stop.err.Error(), stop.err.Error()
			r.mu.Unlock()
			r.log.Error("sink stopped on an internal error; the other sinks carry on; please report this with the log", "err", stop.err)
		}
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := r.sink.Close(cctx); err != nil {
			r.log.Warn("closing sink", "err", err)
		}
		r.reads.Wait() // a read-ahead must not outlive the runner (the store may close next)
		r.setState(StateStopped, nil)
	}()
	if err := r.register(ctx); err != nil {
		return err
	}
	if err := r.connect(ctx, false); err != nil {
		return stopped(err) // nil when ctx ended
	}
	for ctx.Err() == nil {
		busy := false
		for _, s := range r.sources {
			full, err := r.fill(ctx, s)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				r.log.Warn("reading stream", "stream", s.stream, "err", err)
				r.setState(StateRetrying, err)
				break
			}
			busy = busy || full
			if full || (s.readPos > s.offset && r.clock.Now().Sub(s.since) >= r.cfg.Batch.MaxWait) || (s.readPos > s.offset && len(s.pending) == 0) {
				if err := r.flush(ctx, s, full); err != nil {
					return stopped(err) // nil when ctx ended
				}
			}
		}
		if !busy {
			r.update(func(st *Status) {
				if st.State == StateDelivering {
					st.State = StateIdle
				}
			})
			if !r.sleep(ctx, r.nextWake()) {
				return nil
			}
		}
	}
	return nil
}

// nextWake is how long an idle runner waits: the poll interval, or less when a batch is due.
func (r *Runner) nextWake() time.Duration {
	d := r.poll
	for _, s := range r.sources {
		if len(s.pending) > 0 {
			if left := r.cfg.Batch.MaxWait - r.clock.Now().Sub(s.since); left < d {
				d = max(left, 0)
			}
		}
	}
	return d
}

func (r *Runner) register(ctx context.Context) error {
	for _, name := range r.cfg.Integrations {
		in, err := r.st.IntegrationByName(ctx, name)
		if err != nil {
			return fmt.Errorf("sink %q: integration filter %q: %w", r.cfg.Name, name, err)
		}
		r.intIDs = append(r.intIDs, in.ID)
	}
	for _, s := range r.sources {
		var start int64
		if r.cfg.Start == "end" {
			var err error
			switch s.stream {
			case store.StreamAlerts:
				start, err = r.st.LastAlertSeq(ctx)
			case store.StreamIncidents:
				start, err = r.st.LastIncidentSeq(ctx)
			case store.StreamIdentity:
				start, err = r.st.LastIdentitySeq(ctx)
			default:
				start, err = r.st.LastSeq(ctx)
			}
			if err != nil {
				return fmt.Errorf("sink %q: %w", r.cfg.Name, err)
			}
		}
		off, err := r.st.RegisterConsumer(ctx, s.consumer, s.stream, start)
		if err != nil {
			return fmt.Errorf("sink %q: register offset: %w", r.cfg.Name, err)
		}
		s.offset, s.readPos = off, off
		r.update(func(st *Status) { st.Offsets[s.stream] = off })
	}
	return nil
}

// stopError carries an error of ClassBug out of the delivery loop: the runner stops on it.
type stopError struct{ err error }

func (e stopError) Error() string { return e.err.Error() }

// stopped is err when it stops the runner, and nil when ctx ended.
func stopped(err error) error {
	if _, ok := errors.AsType[stopError](err); ok {
		return err
	}
	return nil
}

// connect connects (and resumes) the sink, retrying with backoff until it works or ctx ends. A
// reconnect while a batch is retried keeps the retrying state (and when it began); only an error
// the sink marked as a bug stops it.
func (r *Runner) connect(ctx context.Context, retrying bool) error {
	for attempt := 1; ; attempt++ {
		if !retrying {
			r.setState(StateConnecting, nil)
		}
		err := r.sink.Connect(ctx)
		if err == nil {
			if rs, ok := r.sink.(Resumer); ok {
				committed := map[store.Stream]int64{}
				for _, s := range r.sources {
					committed[s.stream] = s.offset
				}
				err = rs.Resume(ctx, committed)
			}
		}
		if err == nil {
			if !retrying {
				r.setState(StateDelivering, nil)
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if markedBug(err) {
			return stopError{err}
		}
		r.log.Warn("connecting sink", "attempt", attempt, "err", err)
		if retrying {
			r.setState(StateRetrying, err)
		} else {
			r.setState(StateConnecting, err)
		}
		if !r.sleep(ctx, r.backoff(attempt)) {
			return ctx.Err()
		}
	}
}

// fill reads what fits into s's pending batch; it reports whether the batch is full.
func (r *Runner) fill(ctx context.Context, s *source) (bool, error) {
	room := r.cfg.Batch.MaxRecords - len(s.pending)
	if room <= 0 {
		return true, nil
	}
	before := len(s.pending)
	var n int
	if s.stream == store.StreamAlerts {
		alerts, err := r.st.ReadAlerts(ctx, s.readPos, room)
		if err != nil {
			return false, err
		}
		n = len(alerts)
		for _, a := range alerts {
			s.readPos = a.Seq
			if len(r.intIDs) > 0 && !slices.Contains(r.intIDs, a.IntegrationID) {
				continue
			}
			s.pending = append(s.pending, Record{ID: a.ID, Kind: KindAlert, Seq: a.Seq, Time: a.Time, IntegrationID: a.IntegrationID, Body: a.Body})
		}
	} else if s.stream == store.StreamIncidents {
		recs, err := r.st.ReadIncidentStream(ctx, s.readPos, room)
		if err != nil {
			return false, err
		}
		n = len(recs)
		for _, ir := range recs {
			s.readPos = ir.Seq
			rec, err := incidentRecord(ir)
			if err != nil {
				// A snapshot that does not decode is a bug in what wrote it: say so and go on,
				// rather than stall every later incident behind it.
				r.log.Error("incident stream record does not render", "seq", ir.Seq, "incident", ir.IncidentID, "err", err)
				continue
			}
			if len(r.intIDs) > 0 && !slices.Contains(r.intIDs, rec.IntegrationID) {
				continue
			}
			s.pending = append(s.pending, rec)
		}
	} else if s.stream == store.StreamIdentity {
		recs, err := r.st.ReadIdentityStream(ctx, s.readPos, room)
		if err != nil {
			return false, err
		}
		n = len(recs)
		for _, ir := range recs {
			s.readPos = ir.Seq
			if len(r.intIDs) > 0 && !slices.Contains(r.intIDs, ir.IntegrationID) {
				continue
			}
			s.pending = append(s.pending, identityRecord(ir))
		}
	} else {
		entries, err := r.readJournal(ctx, s, room)
		if err != nil {
			return false, err
		}
		n = len(entries)
		if n > 0 && entries[0].Seq > s.readPos+1 {
			r.log.Warn("journal retention removed entries this sink had not delivered", "from", s.readPos+1, "to", entries[0].Seq-1)
		}
		for _, e := range entries {
			// Normalizing a page of large events takes a while: stop between them when asked.
			if err := ctx.Err(); err != nil {
				return false, err
			}
			s.readPos = e.Seq
			if err := r.appendEntry(s, e); err != nil {
				return false, err
			}
		}
	}
	if before == 0 && n > 0 {
		s.since = r.clock.Now()
	}
	return n == room, nil
}

func (r *Runner) appendEntry(s *source, e store.Entry) error {
	if len(r.intIDs) > 0 && !slices.Contains(r.intIDs, e.IntegrationID) {
		return nil
	}
	if len(r.cfg.EventTypes) > 0 && !slices.Contains(r.cfg.EventTypes, e.EventType) {
		return nil
	}
	for _, k := range r.cfg.Carry {
		rec := Record{ID: e.UUID, Kind: k, Seq: e.Seq, Time: e.Published, IntegrationID: e.IntegrationID, EventType: e.EventType}
		switch k {
		case KindEvent:
			rec.Body = e.Raw
		case KindOCSF:
			recs, err := r.ocsf(e)
			if err != nil {
				// An event the normalizer cannot decode is still delivered raw by sinks carrying
				// events; here it is logged and skipped rather than stalling the sink forever.
				r.log.Warn("normalizing event for sink", "uuid", e.UUID, "err", err)
				continue
			}
			for _, o := range recs {
				if len(r.cfg.Schemas) > 0 && !slices.Contains(r.cfg.Schemas, o.Schema) {
					continue
				}
				rec.Schema, rec.Body = o.Schema, o.Body
				s.pending = append(s.pending, rec)
			}
			continue
		default:
			continue
		}
		s.pending = append(s.pending, rec)
	}
	return nil
}

// flush delivers s's pending batch, retrying and dead-lettering, then commits the offset. When
// the batch was full (more is likely waiting), the next journal read starts meanwhile. It returns
// an error only when ctx ended.
func (r *Runner) flush(ctx context.Context, s *source, full bool) error {
	b := Batch{Stream: s.stream, AfterSeq: s.offset, LastSeq: s.readPos, Records: s.pending}
	if full && s.stream == store.StreamJournal {
		r.startReadAhead(ctx, s)
	}
	if len(b.Records) > 0 {
		if err := r.deliver(ctx, b); err != nil {
			return err
		}
	}
	if err := r.retryStore(ctx, func() error { return r.st.CommitOffset(ctx, s.consumer, b.LastSeq) }); err != nil {
		return err
	}
	s.offset = b.LastSeq
	s.pending = s.pending[:0:0]
	r.update(func(st *Status) { st.Offsets[s.stream] = b.LastSeq })
	return nil
}

// deliver writes b until the destination acks it, treating each failure by its Class: an outage
// (ClassUnavailable) is retried with backoff for as long as it takes and never counts as an
// attempt, so a destination or disk that is down makes the sink lag and catch up later instead of
// dead-lettering; records the destination refuses become dead letters after the configured attempts
// (ClassRefused) or at once (ClassRefusedNow); a ClassBug error stops the runner. It returns an
// error only when ctx ended or the runner must stop (stopError).
func (r *Runner) deliver(ctx context.Context, b Batch) error {
	attempts := 0
	for try := 1; ; try++ {
		err := r.sink.Write(ctx, b)
		if err == nil {
			r.update(func(st *Status) {
				st.Delivered += int64(len(b.Records))
				if st.State != StateDelivering {
					st.State, st.Since = StateDelivering, r.clock.Now()
				}
			})
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		class := Classify(err)
		if class == ClassBug {
			return stopError{err}
		}
		r.setState(StateRetrying, err)
		if class != ClassUnavailable {
			attempts++
		}
		if class == ClassRefusedNow || (class == ClassRefused && attempts >= r.cfg.Retry.MaxAttempts) {
			r.log.Error("giving up on batch; its records go to dead letters", "records", len(b.Records), "attempts", attempts, "err", err)
			return r.deadLetter(ctx, b, err, attempts)
		}
		r.log.Warn("delivering batch", "class", class.String(), "try", try, "attempts", attempts, "err", err)
		if !r.sleep(ctx, r.backoff(try)) {
			return ctx.Err()
		}
		if errors.Is(err, ErrNotConnected) {
			if err := r.connect(ctx, true); err != nil {
				return err
			}
		}
	}
}

func (r *Runner) deadLetter(ctx context.Context, b Batch, cause error, attempts int) error {
	now := r.clock.Now()
	for _, rec := range b.Records {
		msg := cause.Error()
		payload, err := json.Marshal(rec)
		if err != nil && !json.Valid(rec.Body) {
			// A body that is not JSON (the likely reason it was refused) is kept whole, as a string.
			rec.Body, _ = json.Marshal(string(rec.Body))
			msg += " (the record's body is not valid JSON; the letter holds it as a JSON string)"
			payload, err = json.Marshal(rec)
		}
		if err != nil {
			return stopError{fmt.Errorf("encoding dead letter %s: %w", rec.ID, err)}
		}
		d := store.DeadLetter{Sink: r.cfg.Name, RecordID: rec.DedupKey(), Payload: payload, Error: msg, Attempts: attempts, FirstFailure: now, LastFailure: now}
		if err := r.retryStore(ctx, func() error { return r.st.AddDeadLetter(ctx, d) }); err != nil {
			return err
		}
	}
	r.update(func(st *Status) { st.DeadLettered += int64(len(b.Records)) })
	return nil
}

// retryStore repeats a store write until it succeeds or ctx ends: offsets and dead letters must
// not be skipped.
func (r *Runner) retryStore(ctx context.Context, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.log.Error("store write for sink", "attempt", attempt, "err", err)
		r.setState(StateRetrying, err)
		if !r.sleep(ctx, r.backoff(attempt)) {
			return ctx.Err()
		}
	}
}

// backoff is the wait before attempt+1: exponential from InitialBackoff up to MaxBackoff, with
// "equal jitter" (half fixed, half random) so many sinks failing together do not retry in step.
func (r *Runner) backoff(attempt int) time.Duration {
	return Backoff(r.cfg.Retry, attempt, rand.Float64())
}

// Backoff is the wait after the given failed attempt, with jitter in [0,1).
func Backoff(c RetryConfig, attempt int, jitter float64) time.Duration {
	d := c.InitialBackoff
	for i := 1; i < attempt && d < c.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.MaxBackoff)
	return d/2 + time.Duration(jitter*float64(d/2))
}

func (r *Runner) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	select {
	case <-ctx.Done():
		return false
	case <-r.clock.After(d):
		return true
	}
}

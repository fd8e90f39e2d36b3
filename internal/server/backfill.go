package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/store"
)

// BackfillJob is what the API shows of a backfill.
type BackfillJob struct {
	Integration string    `json:"integration"`
	State       string    `json:"state"` // running, done, failed, cancelled
	Since       time.Time `json:"since"`
	Until       time.Time `json:"until"`
	StartedAt   time.Time `json:"startedAt"`
	// Fraction of [since, until) read; Events new to the journal; Duplicates already held.
	Fraction   float64    `json:"fraction"`
	Events     int64      `json:"events"`
	Duplicates int64      `json:"duplicates"`
	Requests   int64      `json:"requests"`
	Covered    *time.Time `json:"covered,omitempty"`
	EndedAt    *time.Time `json:"endedAt,omitempty"`
	Error      *Problem   `json:"error,omitempty"`
}

type backfillRun struct {
	job    BackfillJob
	cancel context.CancelFunc
	done   chan struct{}
}

// backfills is the server's registry of backfill jobs, one per integration at a time.
type backfills struct {
	now  func() time.Time
	mu   sync.Mutex
	jobs map[int64]*backfillRun
	wg   sync.WaitGroup
}

func newBackfills(now func() time.Time) *backfills {
	return &backfills{now: now, jobs: map[int64]*backfillRun{}}
}

func (b *backfills) get(id int64) (BackfillJob, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.jobs[id]
	if !ok {
		return BackfillJob{}, false
	}
	return r.job, true
}

// cancel stops the integration's running job, if any, and waits for it to end.
func (b *backfills) cancel(id int64) bool {
	b.mu.Lock()
	r, ok := b.jobs[id]
	running := ok && r.job.State == "running" // the job's goroutine writes State under mu
	b.mu.Unlock()
	if !running {
		return false
	}
	r.cancel()
	<-r.done
	return true
}

func (b *backfills) cancelAll() {
	b.mu.Lock()
	for _, r := range b.jobs {
		r.cancel()
	}
	b.mu.Unlock()
}

func (b *backfills) wait() { b.wg.Wait() }

// BackfillInput is the body of POST /api/v1/integrations/{name}/backfill.
type BackfillInput struct {
	Since time.Time `json:"since"`
	// Until defaults to now.
	Until *time.Time `json:"until,omitempty"`
	// Share is the most of each rate-limit bucket the backfill may use (default 0.25).
	Share float64 `json:"share,omitempty"`
}

func (s *Server) startBackfill(w http.ResponseWriter, r *http.Request) error {
	in, err := s.named(r)
	if err != nil {
		return err
	}
	var body BackfillInput
	if err := DecodeJSON(r, &body); err != nil {
		return err
	}
	if s.clients == nil {
		return errUnavailableOp
	}
	if in.CredentialsError != "" {
		return Fail(http.StatusConflict, CodeConflict, "the integration's credentials cannot be opened: "+in.CredentialsError, store.CredentialsFix(in.Name), "")
	}
	now := s.now()
	until := now
	if body.Until != nil {
		until = *body.Until
	}
	cfg := collect.BackfillConfig{IntegrationID: in.ID, Since: body.Since, Until: until, Logger: s.log}
	if err := cfg.Validate(now); err != nil {
		return Fail(http.StatusBadRequest, CodeInvalidField, err.Error(), "send since (RFC 3339) within the last 90 days and, if given, a later until", "since")
	}
	if body.Share < 0 || body.Share > 1 {
		return Fail(http.StatusBadRequest, CodeInvalidField, fmt.Sprintf("share %g is outside (0, 1]", body.Share), "use e.g. 0.25", "share")
	}
	in, err = collect.EnsureDPoPKey(r.Context(), s.st, in)
	if err != nil {
		return err
	}
	client, err := s.clients.Client(in)
	if err != nil {
		return err
	}
	b := s.backfill
	b.mu.Lock()
	if cur, ok := b.jobs[in.ID]; ok && cur.job.State == "running" {
		b.mu.Unlock()
		return Fail(http.StatusConflict, CodeConflict, "a backfill of this integration is running", "wait for it, or cancel it with DELETE on the same path", "")
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	run := &backfillRun{job: BackfillJob{Integration: in.Name, State: "running", Since: cfg.Since.UTC(), Until: cfg.Until.UTC(), StartedAt: now.UTC()},
		cancel: cancel, done: make(chan struct{})}
	b.jobs[in.ID] = run
	job := run.job
	b.wg.Add(1)
	b.mu.Unlock()
	go func() {
		defer b.wg.Done()
		defer close(run.done)
		defer cancel()
		final, err := collect.Backfill(ctx, client, s.st, cfg, nil, nil, func(p collect.Progress) {
			b.mu.Lock()
			run.job.Fraction, run.job.Events, run.job.Duplicates, run.job.Requests = p.Fraction, p.Events, p.Duplicates, p.Requests
			c := p.Covered.UTC()
			run.job.Covered = &c
			b.mu.Unlock()
		})
		end := b.now().UTC()
		b.mu.Lock()
		defer b.mu.Unlock()
		run.job.EndedAt = &end
		switch {
		case err == nil:
			run.job.State, run.job.Fraction = "done", 1
			run.job.Events, run.job.Duplicates, run.job.Requests = final.Events, final.Duplicates, final.Requests
		case errors.Is(err, context.Canceled):
			run.job.State = "cancelled"
		default:
			_, reason, fix := collect.Explain(err)
			run.job.State, run.job.Error = "failed", &Problem{Reason: reason, Fix: fix}
			s.log.Warn("backfill failed", "integration", in.Name, "err", err)
		}
	}()
	WriteJSON(w, http.StatusAccepted, job)
	return nil
}

func (s *Server) getBackfill(w http.ResponseWriter, r *http.Request) error {
	in, err := s.named(r)
	if err != nil {
		return err
	}
	job, ok := s.backfill.get(in.ID)
	if !ok {
		return Fail(http.StatusNotFound, CodeNotFound, "no backfill of this integration since the server started", "start one with POST on the same path", "")
	}
	WriteJSON(w, http.StatusOK, job)
	return nil
}

func (s *Server) cancelBackfill(w http.ResponseWriter, r *http.Request) error {
	in, err := s.named(r)
	if err != nil {
		return err
	}
	if !s.backfill.cancel(in.ID) {
		return Fail(http.StatusNotFound, CodeNotFound, "no backfill of this integration is running", "GET the same path shows the last one", "")
	}
	job, _ := s.backfill.get(in.ID)
	WriteJSON(w, http.StatusOK, job)
	return nil
}

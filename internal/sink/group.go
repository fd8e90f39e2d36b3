package sink

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/idwatch/idwatch/internal/store"
)

// GroupOptions configures RunGroup.
type GroupOptions struct {
	Store   store.Store
	Configs []Config
	Logger  *slog.Logger
	Clock   Clock
	OCSF    OCSFFunc
	// PollInterval is passed to every runner.
	PollInterval time.Duration
	// Started, when set, receives the runners once they are built (for status reporting).
	Started func([]*Runner)
}

// RunGroup runs one Runner per config, each in its own goroutine so a slow or dead sink never
// holds up another, until ctx ends. It fails at once if a runner cannot be built; a runner that
// stops with an error does not stop the others, and its error is returned at the end. A sink
// whose configuration cannot work (CheckStart) fails it before anything starts.
func RunGroup(ctx context.Context, o GroupOptions) error {
	if err := CheckStart(o.Configs); err != nil {
		return err
	}
	var runners []*Runner
	for _, c := range o.Configs {
		r, err := NewRunner(RunnerOptions{Store: o.Store, Config: c, Logger: o.Logger, Clock: o.Clock, OCSF: o.OCSF, PollInterval: o.PollInterval})
		if err != nil {
			return err
		}
		runners = append(runners, r)
	}
	if o.Started != nil {
		o.Started(runners)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, r := range runners {
		wg.Go(func() {
			if err := r.Run(ctx); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

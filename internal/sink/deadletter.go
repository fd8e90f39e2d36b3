package sink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/store"
)

// ReplayResult says what a dead-letter replay did.
type ReplayResult struct {
	Delivered int `json:"delivered"`
	Failed    int `json:"failed"`
	// Error is the delivery error of the failed letters, which went back to the dead-letter table,
	// and Class what it means (unavailable, refused, refused as data, internal error).
	Error string `json:"error,omitempty"`
	Class string `json:"class,omitempty"`
}

// ReplayDeadLetters redelivers up to limit dead letters of cfg's sink through s (connected here and
// closed at the end). Delivered letters are deleted; failed ones are stored again with one more
// attempt. Letters are leased while in flight, so a crash in the middle loses none.
func ReplayDeadLetters(ctx context.Context, st store.Store, cfg Config, s Sink, limit int, clk Clock) (ReplayResult, error) {
	var res ReplayResult
	if clk == nil {
		clk = clock.System{}
	}
	letters, err := st.TakeDeadLetters(ctx, cfg.Name, limit, 10*time.Minute)
	if err != nil || len(letters) == 0 {
		return res, err
	}
	if err := s.Connect(ctx); err != nil {
		res.Failed, res.Error, res.Class = len(letters), err.Error(), ClassUnavailable.String()
		return res, releaseLetters(ctx, st, letters, err, clk)
	}
	defer s.Close(context.WithoutCancel(ctx))
	b := Batch{Records: make([]Record, 0, len(letters))}
	ids := make([]int64, 0, len(letters))
	for _, l := range letters {
		var r Record
		if err := json.Unmarshal(l.Payload, &r); err != nil {
			return res, fmt.Errorf("dead letter %d of sink %s: payload is not a record: %w", l.ID, l.Sink, err)
		}
		b.Records = append(b.Records, r)
		ids = append(ids, l.ID)
	}
	if werr := s.Write(ctx, b); werr != nil {
		res.Failed, res.Error, res.Class = len(letters), werr.Error(), Classify(werr).String()
		return res, releaseLetters(ctx, st, letters, werr, clk)
	}
	res.Delivered = len(letters)
	return res, st.DeleteDeadLetters(ctx, ids...)
}

// releaseLetters stores failed letters again with the new error and one more attempt.
func releaseLetters(ctx context.Context, st store.Store, letters []store.DeadLetter, cause error, clk Clock) error {
	var errs []error
	for _, l := range letters {
		l.Error, l.Attempts, l.LastFailure = cause.Error(), 1, clk.Now()
		errs = append(errs, st.AddDeadLetter(ctx, l))
	}
	return errors.Join(errs...)
}

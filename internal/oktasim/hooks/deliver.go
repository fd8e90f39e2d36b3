package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Envelope is the body of an event hook delivery (com.okta.event_hook).
type Envelope struct {
	EventType          string       `json:"eventType"`
	EventTypeVersion   string       `json:"eventTypeVersion"`
	CloudEventsVersion string       `json:"cloudEventsVersion"`
	Source             string       `json:"source"`
	EventID            string       `json:"eventId"`
	EventTime          string       `json:"eventTime"`
	ContentType        string       `json:"contentType"`
	Data               EnvelopeData `json:"data"`
}

// EnvelopeData carries the System Log events of one delivery.
type EnvelopeData struct {
	Events []json.RawMessage `json:"events"`
}

// eventHead is what delivery reads of each event.
type eventHead struct {
	UUID      string `json:"uuid"`
	EventType string `json:"eventType"`
}

// maxResponseBytes is how much of a receiver's answer is read before closing.
const maxResponseBytes = 64 << 10

// challengeHeader carries the one-time verification challenge.
const challengeHeader = "x-okta-verification-challenge"

// Verify runs the one-time verification: a GET to the hook URI with the challenge header
// and the configured headers, expecting 200 and {"verification": "<challenge>"}, with one
// retry. On success the hook becomes VERIFIED; otherwise the error is Okta's 400.
func (g *Registry) Verify(ctx context.Context, id string) (Hook, error) {
	g.mu.RLock()
	h, ok := g.hooks[id]
	var snap Hook
	if ok {
		snap = *h
	}
	g.mu.RUnlock()
	if !ok {
		return Hook{}, notFound(id)
	}
	challenge := randomHex(24)
	var err error
	for range 2 {
		if err = g.verifyOnce(ctx, &snap, challenge); err == nil || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return Hook{}, validationError("Event hook verification failed: " + err.Error())
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	h, ok = g.hooks[id]
	if !ok {
		return Hook{}, notFound(id)
	}
	h.VerificationStatus, h.LastUpdated = Verified, g.cfg.Clock.Now().UTC()
	return g.view(h), nil
}

// verifyOnce makes one verification attempt.
func (g *Registry) verifyOnce(ctx context.Context, h *Hook, challenge string) error {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.Channel.Config.URI, nil)
	if err != nil {
		return errors.New("the hook URI cannot be requested")
	}
	setHeaders(req, h)
	req.Header.Set(challengeHeader, challenge)
	res, err := g.cfg.Client.Do(req)
	if err != nil {
		return transportReason(ctx, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("the endpoint answered HTTP %d", res.StatusCode)
	}
	var got struct {
		Verification string `json:"verification"`
	}
	if json.Unmarshal(body, &got) != nil || got.Verification != challenge {
		return errors.New(`the endpoint did not answer {"verification": "<challenge>"}`)
	}
	return nil
}

// setHeaders adds the hook's auth and custom headers.
func setHeaders(req *http.Request, h *Hook) {
	for _, hd := range h.Channel.Config.Headers {
		req.Header.Set(hd.Key, hd.Value)
	}
	if a := h.Channel.Config.AuthScheme; a != nil {
		req.Header.Set(a.Key, a.Value)
	}
}

// transportReason describes a failed request without echoing URLs or headers.
func transportReason(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return errors.New("timeout")
	}
	return errors.New("connection failed")
}

// Deliver sends events to every ACTIVE, VERIFIED hook subscribed to at least one of them:
// one POST per hook carrying that hook's eligible, subscribed events. Each POST gets one
// retry on a 5xx, timeout or connection failure, none on a 4xx. It returns the failures,
// which are also reported to OnFailure. Events that are not JSON objects are skipped.
func (g *Registry) Deliver(ctx context.Context, events []json.RawMessage) []Failure {
	heads := make([]eventHead, len(events))
	for i, ev := range events {
		if json.Unmarshal(ev, &heads[i]) != nil {
			heads[i] = eventHead{}
			g.cfg.Logger.Warn("hooks: skipping an event that is not a JSON object")
		}
	}
	g.mu.RLock()
	var targets []Hook
	for _, id := range g.order {
		h := g.hooks[id]
		if h.Status == StatusActive && h.VerificationStatus == Verified {
			t := *h
			t.Channel.Config.Headers = append([]Header(nil), h.Channel.Config.Headers...)
			if h.Channel.Config.AuthScheme != nil {
				a := *h.Channel.Config.AuthScheme
				t.Channel.Config.AuthScheme = &a
			}
			targets = append(targets, t)
		}
	}
	g.mu.RUnlock()

	var mu sync.Mutex
	var failures []Failure
	var wg sync.WaitGroup
	for i := range targets {
		h := &targets[i]
		var batch []json.RawMessage
		var sel []eventHead
		for j, hd := range heads {
			if g.eligible[hd.EventType] && subscribed(h, hd.EventType) {
				batch, sel = append(batch, events[j]), append(sel, hd)
			}
		}
		if len(batch) == 0 {
			continue
		}
		wg.Go(func() {
			if f := g.post(ctx, h, batch, sel); f != nil {
				mu.Lock()
				failures = append(failures, *f)
				mu.Unlock()
				if g.cfg.OnFailure != nil {
					g.cfg.OnFailure(*f)
				}
			}
		})
	}
	wg.Wait()
	return failures
}

func subscribed(h *Hook, eventType string) bool {
	for _, t := range h.Events.Items {
		if t == eventType {
			return true
		}
	}
	return false
}

// post delivers one batch to one hook, retrying once when Okta would.
func (g *Registry) post(ctx context.Context, h *Hook, batch []json.RawMessage, heads []eventHead) *Failure {
	now := g.cfg.Clock.Now().UTC()
	env := Envelope{
		EventType: "com.okta.event_hook", EventTypeVersion: "1.0", CloudEventsVersion: "0.1",
		Source: g.cfg.OrgURL + "/api/v1/eventHooks/" + h.ID, EventID: uuid(),
		EventTime: now.Format("2006-01-02T15:04:05.000Z"), ContentType: "application/json",
		Data: EnvelopeData{Events: batch},
	}
	body, err := json.Marshal(env)
	if err != nil {
		return g.failure(h, env, heads, 0, 0, "events could not be encoded")
	}
	var status int
	var reason string
	attempts := 0
	for attempts < 2 {
		attempts++
		var retry bool
		status, reason, retry = g.postOnce(ctx, h, body)
		if reason == "" || !retry || ctx.Err() != nil {
			break
		}
	}
	if reason == "" {
		return nil
	}
	return g.failure(h, env, heads, attempts, status, reason)
}

// postOnce makes one delivery attempt and says whether a failure is worth a retry.
func (g *Registry) postOnce(ctx context.Context, h *Hook, body []byte) (status int, reason string, retry bool) {
	ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.Channel.Config.URI, bytes.NewReader(body))
	if err != nil {
		return 0, "the hook URI cannot be requested", false
	}
	setHeaders(req, h)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	res, err := g.cfg.Client.Do(req)
	if err != nil {
		return 0, transportReason(ctx, err).Error(), true
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, maxResponseBytes))
	res.Body.Close()
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		return res.StatusCode, "", false
	case res.StatusCode >= 500:
		return res.StatusCode, fmt.Sprintf("HTTP %d", res.StatusCode), true
	default:
		return res.StatusCode, fmt.Sprintf("HTTP %d", res.StatusCode), false
	}
}

func (g *Registry) failure(h *Hook, env Envelope, heads []eventHead, attempts, status int, reason string) *Failure {
	f := &Failure{
		Time: g.cfg.Clock.Now().UTC(), HookID: h.ID, HookName: h.Name, URI: h.Channel.Config.URI,
		EventID: env.EventID, Attempts: attempts, Status: status, Reason: reason,
	}
	for _, hd := range heads {
		f.EventUUIDs = append(f.EventUUIDs, hd.UUID)
		f.EventTypes = append(f.EventTypes, hd.EventType)
	}
	g.cfg.Logger.Warn("hooks: delivery failed", "hook", h.ID, "eventId", env.EventID, "attempts", attempts, "reason", reason)
	return f
}

// queueSize bounds events waiting for Run.
const queueSize = 10_000

type queued struct{ ev json.RawMessage }

// ErrQueueFull is returned by Publish when Run is not keeping up.
var ErrQueueFull = errors.New("hooks: delivery queue is full; events dropped")

// Publish queues events for Run to deliver; it never blocks. Okta does not replay
// events a hook missed, and neither does the simulator: a full queue drops them.
func (g *Registry) Publish(events ...json.RawMessage) error {
	for _, ev := range events {
		select {
		case g.queue <- queued{ev: ev}:
		default:
			return ErrQueueFull
		}
	}
	return nil
}

// Run delivers published events until ctx ends, batching events that arrive within window
// of each other (at most maxBatch per delivery), as Okta sends events that occurred close
// together in one request.
func (g *Registry) Run(ctx context.Context, window time.Duration, maxBatch int) error {
	if maxBatch <= 0 {
		maxBatch = 50
	}
	for {
		var batch []json.RawMessage
		select {
		case <-ctx.Done():
			return ctx.Err()
		case q := <-g.queue:
			batch = append(batch, q.ev)
		}
		timer := time.NewTimer(window)
	collect:
		for len(batch) < maxBatch {
			select {
			case q := <-g.queue:
				batch = append(batch, q.ev)
			case <-timer.C:
				break collect
			case <-ctx.Done():
				timer.Stop()
				return ctx.Err()
			}
		}
		timer.Stop()
		g.Deliver(ctx, batch)
	}
}

// Wants reports whether an ACTIVE, VERIFIED hook subscribes to eventType and the type is
// eligible, so the server publishes only events some hook will receive.
func (g *Registry) Wants(eventType string) bool {
	if !g.eligible[eventType] {
		return false
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	for _, h := range g.hooks {
		if h.Status == StatusActive && h.VerificationStatus == Verified && subscribed(h, eventType) {
			return true
		}
	}
	return false
}

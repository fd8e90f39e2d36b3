package sink

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/secret"
)

// hecReceiver implements the HEC event and ack endpoints, with scripted refusals and slow acks.
type hecReceiver struct {
	t        *testing.T
	mu       sync.Mutex
	token    string
	refuse   []int // HEC codes to answer the next event requests with
	ackPolls int   // ack polls answered false before an ack turns true
	nextAck  int64
	pending  map[int64][]hecEvent
	polls    map[int64]int
	indexed  []hecEvent
}

func (h *hecReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	reply := func(status int, v any) {
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	if r.Header.Get("Authorization") != "Splunk "+h.token {
		reply(http.StatusForbidden, map[string]any{"text": "Invalid token", "code": 4})
		return
	}
	channel := r.Header.Get("X-Splunk-Request-Channel")
	if channel == "" {
		reply(http.StatusBadRequest, map[string]any{"text": "Data channel is missing", "code": 10})
		return
	}
	switch r.URL.Path {
	case "/services/collector/event":
		body := io.Reader(r.Body)
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				h.t.Errorf("gzip: %v", err)
				return
			}
			body = zr
		}
		if len(h.refuse) > 0 {
			code := h.refuse[0]
			h.refuse = h.refuse[1:]
			status := map[int]int{6: 400, 9: 503}[code]
			reply(status, map[string]any{"text": fmt.Sprintf("refused with %d", code), "code": code})
			return
		}
		dec := json.NewDecoder(body)
		var evs []hecEvent
		for dec.More() {
			var ev hecEvent
			if err := dec.Decode(&ev); err != nil {
				reply(http.StatusBadRequest, map[string]any{"text": "Invalid data format", "code": 6})
				return
			}
			evs = append(evs, ev)
		}
		h.nextAck++
		h.pending[h.nextAck] = evs
		reply(http.StatusOK, map[string]any{"text": "Success", "code": 0, "ackId": h.nextAck})
	case "/services/collector/ack":
		var req struct{ Acks []int64 }
		json.NewDecoder(r.Body).Decode(&req)
		acks := map[string]bool{}
		for _, id := range req.Acks {
			h.polls[id]++
			done := h.polls[id] > h.ackPolls
			if done && h.pending[id] != nil {
				h.indexed = append(h.indexed, h.pending[id]...)
				delete(h.pending, id)
			}
			acks[fmt.Sprint(id)] = done
		}
		reply(http.StatusOK, map[string]any{"acks": acks})
	default:
		http.NotFound(w, r)
	}
}

func (h *hecReceiver) ids() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ids []string
	for _, ev := range h.indexed {
		ids = append(ids, ev.Fields["idwatch_id"])
	}
	return ids
}

func TestHECIndexerAcknowledgement(t *testing.T) {
	rcv := &hecReceiver{t: t, token: "hec-token-1234", refuse: []int{9}, ackPolls: 3, pending: map[int64][]hecEvent{}, polls: map[int64]int{}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	st := openStore(t, t.TempDir())
	appendEvents(t, st, 0, 120)
	spec := hecType().New().(*HECConfig)
	spec.URL, spec.Token, spec.Ack, spec.AckPoll, spec.Index = srv.URL, secret.New(rcv.token), true, time.Millisecond, "okta"
	startRunner(t, RunnerOptions{Store: st, Config: testConfig("hec", spec)})
	waitFor(t, "offset 120", func() bool { return offsetOf(t, st, "sink/hec") == 120 })
	checkExactlyOnce(t, rcv.ids(), 120)
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	ev := rcv.indexed[7]
	if ev.Time != "1793491200.007" || ev.SourceType != "OktaIM2:log" || ev.Index != "okta" || ev.Source != "idwatch" {
		t.Fatalf("event fields %+v", ev)
	}
	var raw map[string]any
	if err := json.Unmarshal(ev.Event, &raw); err != nil || raw["uuid"] != testEvent(7).UUID {
		t.Fatalf("event body %s", ev.Event)
	}
}

func TestHECAckTimesOutAndResends(t *testing.T) {
	rcv := &hecReceiver{t: t, token: "tok", ackPolls: 1 << 30, pending: map[int64][]hecEvent{}, polls: map[int64]int{}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	spec := hecType().New().(*HECConfig)
	spec.URL, spec.Token, spec.Ack, spec.AckPoll, spec.AckTimeout = srv.URL, secret.New("tok"), true, time.Millisecond, 20*time.Millisecond
	s, _ := spec.Build(Env{})
	err := s.Write(context.Background(), Batch{Records: []Record{{ID: "a", Body: []byte(`{}`)}}})
	if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "not confirmed") {
		t.Fatalf("slow ack: %v", err)
	}
}

func TestHECErrorCodes(t *testing.T) {
	rcv := &hecReceiver{t: t, token: "right-token", refuse: []int{6}, pending: map[int64][]hecEvent{}, polls: map[int64]int{}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	write := func(token string) error {
		spec := hecType().New().(*HECConfig)
		spec.URL, spec.Token = srv.URL, secret.New(token)
		s, _ := spec.Build(Env{})
		return s.Write(context.Background(), Batch{Records: []Record{{ID: "a", Body: []byte(`{}`)}}})
	}
	if err := write("right-token"); !IsPermanent(err) || !strings.Contains(err.Error(), "code 6") {
		t.Fatalf("invalid data format: %v (want permanent)", err)
	}
	err := write("wrong-token")
	if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "check the HEC token") {
		t.Fatalf("bad token: %v", err)
	}
	if strings.Contains(err.Error(), "wrong-token") {
		t.Fatalf("error leaks the token: %v", err)
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "%v %+v", hecType().New(), *hecType().New().(*HECConfig))
	if strings.Contains(buf.String(), "right-token") {
		t.Fatal("config printing leaks the token")
	}
}

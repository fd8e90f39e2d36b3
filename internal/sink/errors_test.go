package sink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/idwatch/idwatch/internal/store"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want Class
	}{
		{"disk full", fmt.Errorf("file sink: %w", &fs.PathError{Op: "write", Path: "/x", Err: syscall.ENOSPC}), ClassUnavailable},
		{"quota", &fs.PathError{Op: "write", Path: "/x", Err: syscall.EDQUOT}, ClassUnavailable},
		{"i/o error", &fs.PathError{Op: "sync", Path: "/x", Err: syscall.EIO}, ClassUnavailable},
		{"read-only fs", &fs.PathError{Op: "open", Path: "/x", Err: syscall.EROFS}, ClassUnavailable},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, ClassUnavailable},
		{"connection reset", fmt.Errorf("syslog: %w", syscall.ECONNRESET), ClassUnavailable},
		{"dns", &net.DNSError{Err: "no such host", Name: "siem.example.com", IsNotFound: true}, ClassUnavailable},
		{"http client", &url.Error{Op: "Post", URL: "https://h", Err: context.DeadlineExceeded}, ClassUnavailable},
		{"timeout", fmt.Errorf("waiting: %w", context.DeadlineExceeded), ClassUnavailable},
		{"not connected", fmt.Errorf("kafka: %w: boom", ErrNotConnected), ClassUnavailable},
		{"http 503", statusError("webhook", 503, "busy", urlRedactor{}), ClassUnavailable},
		{"http 429", statusError("webhook", 429, "slow down", urlRedactor{}), ClassUnavailable},
		{"http 408", statusError("webhook", 408, "", urlRedactor{}), ClassUnavailable},
		{"http 401", statusError("webhook", 401, "", urlRedactor{}), ClassUnavailable},
		{"http 404", statusError("webhook", 404, "", urlRedactor{}), ClassUnavailable},
		{"http 400", statusError("webhook", 400, "bad json", urlRedactor{}), ClassRefusedNow},
		{"http 413", statusError("webhook", 413, "", urlRedactor{}), ClassRefusedNow},
		{"http 422", statusError("webhook", 422, "", urlRedactor{}), ClassRefusedNow},
		{"http 409", statusError("webhook", 409, "", urlRedactor{}), ClassRefused},
		{"hec bad data", hecError(400, hecReply{Code: 6, Text: "Invalid data format"}, urlRedactor{}), ClassRefusedNow},
		{"hec token", hecError(403, hecReply{Code: 4, Text: "Invalid token"}, urlRedactor{}), ClassUnavailable},
		{"hec busy", hecError(503, hecReply{Code: 9, Text: "Server is busy"}, urlRedactor{}), ClassUnavailable},
		{"kafka too large", kafkaError(kerr.MessageTooLarge), ClassRefusedNow},
		{"kafka no leader", kafkaError(kerr.NotLeaderForPartition), ClassUnavailable},
		{"kafka acl", kafkaError(kerr.TopicAuthorizationFailed), ClassUnavailable},
		{"kafka client", kafkaError(errors.New("unable to dial")), ClassUnavailable},
		{"closed file", fmt.Errorf("file sink: %w", os.ErrClosed), ClassBug},
		{"bad descriptor", &fs.PathError{Op: "write", Path: "/x", Err: syscall.EBADF}, ClassBug},
		{"unexpected type", errors.New("something nobody planned for"), ClassBug},
		{"marked bug", Bug(errors.New("state record does not fit")), ClassBug},
		{"outermost mark wins", Unavailable(Refused(errors.New("x"))), ClassUnavailable},
	} {
		if got := Classify(tc.err); got != tc.want {
			t.Errorf("%s: Classify(%v) = %s, want %s", tc.name, tc.err, got, tc.want)
		}
	}
	if Classify(nil) != 0 {
		t.Error("Classify(nil) is not 0")
	}
}

// An error nothing expects stops the sink loudly: no dead letters, the offset stays, Run returns
// the reason, and the stored status says "stopped" with it.
func TestRunnerStopsOnInternalError(t *testing.T) {
	st := openStore(t, t.TempDir())
	appendEvents(t, st, 0, 20)
	calls := 0
	fs := &funcSink{write: func(Batch) error { calls++; return errors.New("unexpected state") }}
	r, err := NewRunner(RunnerOptions{Store: st, Config: testConfig("bug", &FileConfig{Path: "x"}), Sink: fs, PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = r.Run(ctx)
	if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), `sink "bug" stopped: unexpected state`) {
		t.Fatalf("Run = %v (ctx %v), want it to stop on the internal error", err, ctx.Err())
	}
	if calls != 1 {
		t.Fatalf("the batch was written %d times, want 1", calls)
	}
	if letters, _ := st.ListDeadLetters(ctx, "bug", 100); len(letters) != 0 {
		t.Fatalf("%d dead letters", len(letters))
	}
	c := consumer(t, st, "sink/bug")
	if c.Offset != 0 || c.Status != string(StateStopped) || c.StatusError != "unexpected state" {
		t.Fatalf("stored consumer %+v", c)
	}
	if s := r.Status(); s.State != StateStopped || s.StopReason != "unexpected state" {
		t.Fatalf("status %+v", s)
	}
}

// A record whose body is not JSON is refused by the file sink as data and kept as a dead letter
// (its body as a JSON string); the records around it are delivered.
func TestFileSinkDeadLettersInvalidBody(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := openStore(t, dir)
	bad := testEvent(0)
	bad.Raw = []byte("{\"uuid\":\n not json")
	if _, err := st.AppendPage(ctx, 1, []store.Event{bad}, nil); err != nil {
		t.Skipf("the store refuses a non-JSON event (%v): nothing for a sink to refuse", err)
	}
	appendEvents(t, st, 1, 4)
	cfg := testConfig("file", &FileConfig{Path: filepath.Join(dir, "out.jsonl")})
	cfg.Type, cfg.Batch.MaxRecords = "file", 1
	startRunner(t, RunnerOptions{Store: st, Config: cfg})
	waitFor(t, "offset 5", func() bool { return offsetOf(t, st, "sink/file") == 5 })
	letters, err := st.ListDeadLetters(ctx, "file", 10)
	if err != nil || len(letters) != 1 || !strings.Contains(letters[0].Error, "not valid JSON") {
		t.Fatalf("dead letters %+v (%v)", letters, err)
	}
	var rec Record
	if err := json.Unmarshal(letters[0].Payload, &rec); err != nil {
		t.Fatal(err)
	}
	var body string
	if err := json.Unmarshal(rec.Body, &body); err != nil || body != string(bad.Raw) {
		t.Fatalf("letter body %s (%v)", rec.Body, err)
	}
	if ids := readIDs(t, cfg.Spec.(*FileConfig).Path); len(ids) != 4 {
		t.Fatalf("delivered %v", ids)
	}
}

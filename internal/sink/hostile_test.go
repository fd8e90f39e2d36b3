package sink

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/benchutil"
	"github.com/idwatch/idwatch/internal/normalize"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
)

// hostileEntry is a journal entry holding raw.
func hostileEntry(raw []byte) store.Entry {
	return store.Entry{Seq: 1, IntegrationID: 1, UUID: "u-hostile", EventType: "user.authentication.sso",
		Published: time.Date(2025, 3, 10, 14, 2, 11, 0, time.UTC), StoredAt: time.Date(2025, 3, 10, 14, 3, 0, 0, time.UTC), Raw: raw}
}

// ocsfBatch runs the runner's OCSF path on one entry: its records as one batch.
func ocsfBatch(t testing.TB, ocsf OCSFFunc, e store.Entry) Batch {
	recs, err := ocsf(e)
	if err != nil {
		t.Fatal(err)
	}
	b := Batch{Stream: store.StreamJournal, LastSeq: e.Seq}
	for _, r := range recs {
		b.Records = append(b.Records, Record{ID: e.UUID, Kind: KindOCSF, Seq: e.Seq, Time: e.Published, IntegrationID: 1, Schema: r.Schema, Body: r.Body})
	}
	return b
}

// FuzzHostileOCSFFile normalizes events with many keys, deep nesting, long strings and big
// arrays (up to 20 MB) for a sink and writes them through the file sink: every record arrives,
// one JSON line each.
func FuzzHostileOCSFFile(f *testing.F) {
	f.Add(uint16(1), uint16(1), uint16(2), uint32(64), uint32(3), uint16(2), uint16(1))
	f.Add(uint16(70), uint16(70), uint16(15), uint32(1<<16), uint32(1001), uint16(1001), uint16(251))
	mix := benchutil.SizedMix(benchutil.MB)
	f.Add(uint16(mix.Keys/16), uint16(mix.Extra/16), uint16(mix.Depth), uint32(mix.StrLen), uint32(mix.ArrayLen), uint16(mix.Targets), uint16(mix.Behaviors/4))
	ocsf := NormalizeOCSF(normalize.New())
	f.Fuzz(func(t *testing.T, keys, extra, depth uint16, strLen, arrayLen uint32, targets, behaviors uint16) {
		raw := benchutil.FromFuzz(keys, extra, depth, strLen, arrayLen, targets, behaviors).Event("u-hostile")
		b := ocsfBatch(t, ocsf, hostileEntry(raw))
		path := filepath.Join(t.TempDir(), "out.jsonl")
		s, err := (&FileConfig{Path: path, NoSync: true}).Build(Env{})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := s.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(ctx); err != nil {
			t.Fatal(err)
		}
		fh, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		br := bufio.NewReaderSize(fh, 1<<20)
		lines := 0
		for {
			line, err := br.ReadBytes('\n')
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			var rec struct {
				Metadata struct {
					UID string `json:"uid"`
				} `json:"metadata"`
				RawData string `json:"raw_data"`
			}
			if err := json.Unmarshal(line, &rec); err != nil || rec.Metadata.UID != "u-hostile" || rec.RawData != string(raw) {
				t.Fatalf("line %d: %v (uid %q, raw_data %d bytes of %d)", lines+1, err, rec.Metadata.UID, len(rec.RawData), len(raw))
			}
			lines++
		}
		if lines != len(b.Records) || lines == 0 {
			t.Fatalf("%d lines for %d records", lines, len(b.Records))
		}
	})
}

// hostileSinks builds each sink that carries OCSF records over HTTP, TCP or a file, against a
// real destination on loopback that reads and drops what it receives. (The Kafka and NATS sinks
// hand the record's bytes to their client unchanged; their brokers refuse messages over 1 MB by
// default, so they are not timed here.)
func hostileSinks(b *testing.B) map[string]Sink {
	drop := func(reply string) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			io.WriteString(w, reply)
		}))
		b.Cleanup(srv.Close)
		return srv
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	hook := webhookType().New().(*WebhookConfig)
	hook.URL = drop("").URL
	hec := hecType().New().(*HECConfig)
	hec.URL, hec.Token = drop(`{"text":"Success","code":0}`).URL, secret.New("tok")
	syslog := syslogType().New().(*SyslogConfig)
	syslog.Address, syslog.Hostname = ln.Addr().String(), "idwatch-bench"
	specs := map[string]Spec{"file": &FileConfig{Path: filepath.Join(b.TempDir(), "out.jsonl"), MaxBytes: 1 << 30}, "webhook": hook, "splunk_hec": hec, "syslog": syslog}
	out := map[string]Sink{}
	for name, spec := range specs {
		s, err := spec.Build(Env{Name: name})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Connect(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close(context.Background()) })
		out[name] = s
	}
	return out
}

// BenchmarkHostileOCSFSinks measures the OCSF path of a sink for events of 1 to 20 MB: the
// runner's normalization of the journal entry ("ocsf", shared by every sink carrying OCSF), and
// that plus the sink's write to its destination.
func BenchmarkHostileOCSFSinks(b *testing.B) {
	sinks := hostileSinks(b)
	ocsf := NormalizeOCSF(normalize.New())
	for _, name := range []string{"ocsf", "file", "webhook", "splunk_hec", "syslog"} {
		for _, shape := range []struct {
			name string
			of   func(int) benchutil.Hostile
		}{{"keys", benchutil.SizedKeys}, {"mix", benchutil.SizedMix}} {
			for _, mb := range []int{1, 5, 20} {
				b.Run(name+"/"+shape.name+"/"+benchutil.Count(mb)+"MB", func(b *testing.B) {
					raw := shape.of(mb * benchutil.MB).Event("u-hostile")
					b.SetBytes(int64(len(raw)))
					ctx := context.Background()
					i := 0
					cpu := benchutil.CPUTime()
					for b.Loop() {
						batch := ocsfBatch(b, ocsf, hostileEntry(raw))
						if s := sinks[name]; s != nil {
							batch.AfterSeq, batch.LastSeq = int64(i), int64(i+1)
							if err := s.Write(ctx, batch); err != nil {
								b.Fatal(err)
							}
						}
						i++
					}
					benchutil.ReportPerMB(b, int64(i*len(raw)), cpu)
				})
			}
		}
	}
}

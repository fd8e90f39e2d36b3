package normalize

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/benchutil"
	"github.com/idwatch/idwatch/internal/event"
)

// benchMix is the fixture mix: every listed type, family and outcome once.
func benchMix(b *testing.B) [][]byte {
	b.Helper()
	files, _ := filepath.Glob("testdata/golden/*.json")
	var mix [][]byte
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		var c bytes.Buffer
		if err := compact(&c, raw); err != nil {
			b.Fatal(err)
		}
		mix = append(mix, c.Bytes())
	}
	if len(mix) == 0 {
		b.Fatal("no fixtures in testdata/golden: run the benchmark from the package directory (go test runs it there)")
	}
	return mix
}

func compact(dst *bytes.Buffer, raw []byte) error {
	ev, err := event.Decode(raw)
	if err != nil {
		return err
	}
	out, err := ev.MarshalJSON()
	dst.Write(out)
	return err
}

// reportRate reports events per wall-clock second and per second of CPU the process used. On a
// shared machine the second is the honest figure for "one core": wall time includes waiting for
// the CPU.
func reportRate(b *testing.B, events int, cpuStart time.Duration) {
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	if cpu := benchutil.CPUTime() - cpuStart; cpu > 0 {
		b.ReportMetric(float64(events)/cpu.Seconds(), "events/cpu-s")
	}
}

// BenchmarkDecodeRouteMap measures decode + route + map over the fixture mix, without output
// encoding.
func BenchmarkDecodeRouteMap(b *testing.B) { benchmarkMix(b, benchMix(b), false) }

// BenchmarkDecodeRouteMapEncode adds the JSON encoding of every record (raw_data included).
func BenchmarkDecodeRouteMapEncode(b *testing.B) { benchmarkMix(b, benchMix(b), true) }

func benchmarkMix(b *testing.B, mix [][]byte, encode bool) {
	n := New()
	size := 0
	for _, m := range mix {
		size += len(m)
	}
	b.SetBytes(int64(size / len(mix)))
	b.ReportAllocs()
	buf := make([]byte, 0, 64<<10)
	i := 0
	cpu := benchutil.CPUTime()
	for b.Loop() {
		raw := mix[i%len(mix)]
		i++
		// The mix stands for journal rows, which the pipeline owns and decodes without a copy.
		ev, err := event.DecodeOwned(raw)
		if err != nil {
			b.Fatal(err)
		}
		recs := n.Normalize(ev, Meta{TenantUID: "acme", Raw: raw})
		if len(recs) == 0 {
			b.Fatal("no records")
		}
		if !encode {
			continue
		}
		for _, r := range recs {
			if buf, err = r.AppendJSON(buf[:0], EncodeOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportRate(b, i, cpu)
}

// BenchmarkDecode measures the decoder alone.
func BenchmarkDecode(b *testing.B) {
	mix := benchMix(b)
	b.ReportAllocs()
	i := 0
	cpu := benchutil.CPUTime()
	for b.Loop() {
		if _, err := event.Decode(mix[i%len(mix)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportRate(b, i, cpu)
}

// hostileRecords decodes, normalizes and encodes one event (raw_data included), as the
// processor and the OCSF sinks do, and returns the bytes written.
func hostileRecords(b *testing.B, n *Normalizer, raw []byte, buf []byte) []byte {
	ev, err := event.DecodeOwned(raw)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range n.Normalize(ev, Meta{TenantUID: "acme", Raw: raw}) {
		if buf, err = r.AppendJSON(buf[:0], EncodeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	return buf
}

// BenchmarkHostileKeys measures decode + normalize + encode of one event with n debugData keys:
// time per key stays flat from a thousand keys to a million (it grew with n before keys were
// sorted in n·log n).
func BenchmarkHostileKeys(b *testing.B) {
	for _, keys := range []int{1_000, 10_000, 100_000, 1_000_000} {
		b.Run(benchutil.Count(keys), func(b *testing.B) {
			raw := benchutil.Hostile{Keys: keys}.Event("u-keys")
			n := New()
			b.SetBytes(int64(len(raw)))
			var buf []byte
			i := 0
			cpu := benchutil.CPUTime()
			for b.Loop() {
				buf = hostileRecords(b, n, raw, buf)
				i++
			}
			benchutil.ReportPer(b, float64(i*keys), "key", cpu)
		})
	}
}

// BenchmarkHostileSize measures decode + normalize + encode of events of 1 to 20 MB, made of
// keys alone or of every kind of excess (keys, fields, nesting, long strings, arrays, targets).
func BenchmarkHostileSize(b *testing.B) {
	for _, shape := range []struct {
		name string
		of   func(int) benchutil.Hostile
	}{{"keys", benchutil.SizedKeys}, {"mix", benchutil.SizedMix}} {
		for _, mb := range []int{1, 5, 20} {
			b.Run(shape.name+"/"+benchutil.Count(mb)+"MB", func(b *testing.B) {
				raw := shape.of(mb * benchutil.MB).Event("u-size")
				n := New()
				b.SetBytes(int64(len(raw)))
				var buf []byte
				i := 0
				cpu := benchutil.CPUTime()
				for b.Loop() {
					buf = hostileRecords(b, n, raw, buf)
					i++
				}
				benchutil.ReportPerMB(b, int64(i*len(raw)), cpu)
			})
		}
	}
}

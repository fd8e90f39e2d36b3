package detect

import (
	"testing"

	"github.com/idwatch/idwatch/internal/benchutil"
	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/normalize"
)

// detectAll runs a fresh engine of rs over one raw event as the processor and replay do (the
// typed event, then each normalized record) and as a generic document (replay --schema input,
// rule tests).
func detectAll(t testing.TB, rs *Ruleset, n *normalize.Normalizer, raw []byte) {
	ev, err := event.DecodeOwned(raw)
	if err != nil {
		t.Fatal(err)
	}
	inputs := []Input{{Fields: ev}}
	for _, r := range n.Normalize(ev, normalize.Meta{Raw: raw}) {
		inputs = append(inputs, Input{Fields: r, Schema: string(r.Schema)})
	}
	doc, err := event.ParseDoc(raw)
	if err != nil {
		t.Fatal(err)
	}
	for i, in := range append(inputs, Input{Fields: doc}) {
		e := engine(t, rs, Config{})
		if _, err := e.Process(in); err != nil {
			t.Fatalf("input %d (schema %q): %v", i, in.Schema, err)
		}
	}
}

// FuzzHostileDetect runs the built-in pack over events with many keys, deep nesting, long strings
// and big arrays (up to 20 MB).
func FuzzHostileDetect(f *testing.F) {
	f.Add(uint16(1), uint16(1), uint16(2), uint32(64), uint32(3), uint16(2), uint16(1))
	f.Add(uint16(70), uint16(70), uint16(15), uint32(1<<16), uint32(1001), uint16(1001), uint16(251))
	mix := benchutil.SizedMix(benchutil.MB)
	f.Add(uint16(mix.Keys/16), uint16(mix.Extra/16), uint16(mix.Depth), uint32(mix.StrLen), uint32(mix.ArrayLen), uint16(mix.Targets), uint16(mix.Behaviors/4))
	rs := builtinRuleset(f)
	n := normalize.New()
	f.Fuzz(func(t *testing.T, keys, extra, depth uint16, strLen, arrayLen uint32, targets, behaviors uint16) {
		detectAll(t, rs, n, benchutil.FromFuzz(keys, extra, depth, strLen, arrayLen, targets, behaviors).Event("u-fuzz"))
	})
}

// BenchmarkHostileDetect measures the built-in pack over events of 1 to 20 MB, as the processor
// and replay run it (decode and normalize included; see normalize's BenchmarkHostileSize for
// those alone).
func BenchmarkHostileDetect(b *testing.B) {
	rs := builtinRuleset(b)
	for _, shape := range []struct {
		name string
		of   func(int) benchutil.Hostile
	}{{"keys", benchutil.SizedKeys}, {"mix", benchutil.SizedMix}} {
		for _, mb := range []int{1, 5, 20} {
			b.Run(shape.name+"/"+benchutil.Count(mb)+"MB", func(b *testing.B) {
				raw := shape.of(mb * benchutil.MB).Event("u-size")
				n := normalize.New()
				b.SetBytes(int64(len(raw)))
				i := 0
				cpu := benchutil.CPUTime()
				for b.Loop() {
					detectAll(b, rs, n, raw)
					i++
				}
				benchutil.ReportPerMB(b, int64(i*len(raw)), cpu)
			})
		}
	}
}

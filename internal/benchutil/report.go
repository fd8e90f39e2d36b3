package benchutil

import (
	"strconv"
	"testing"
	"time"
)

// ReportPer reports the benchmark's wall-clock and CPU nanoseconds per unit (ns/key, …), given
// how many units all its iterations handled and CPUTime at its start.
func ReportPer(b *testing.B, units float64, unit string, cpuStart time.Duration) {
	if units <= 0 {
		return
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/units, "ns/"+unit)
	if cpu := CPUTime() - cpuStart; cpu > 0 && cpuStart > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/units, "cpu-ns/"+unit)
	}
}

// ReportPerMB reports wall-clock and CPU milliseconds per MB (2^20 bytes) of input, given the
// bytes all iterations handled and CPUTime at the start.
func ReportPerMB(b *testing.B, bytes int64, cpuStart time.Duration) {
	if bytes <= 0 {
		return
	}
	mb := float64(bytes) / MB
	b.ReportMetric(b.Elapsed().Seconds()*1000/mb, "ms/MB")
	if cpu := CPUTime() - cpuStart; cpu > 0 && cpuStart > 0 {
		b.ReportMetric(cpu.Seconds()*1000/mb, "cpu-ms/MB")
	}
}

// Count names a count for a sub-benchmark: 1k, 10k, 1M.
func Count(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 1_000 && n%1_000 == 0:
		return strconv.Itoa(n/1_000) + "k"
	}
	return strconv.Itoa(n)
}

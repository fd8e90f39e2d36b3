package rusage

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// TestPeakRSSFollowsAllocation checks that touching 64 MB raises the peak, and, where the system
// can reset it, that a reset brings it back below.
func TestPeakRSSFollowsAllocation(t *testing.T) {
	if PeakRSS() <= 0 {
		t.Skip("the system does not report peak RSS")
	}
	const size = 64 << 20
	buf := make([]byte, size)
	for i := 0; i < size; i += 4096 {
		buf[i] = 1
	}
	high := PeakRSS()
	if high < size {
		t.Fatalf("peak RSS %d after touching %d bytes", high, size)
	}
	runtime.KeepAlive(buf)
	buf = nil
	debug.FreeOSMemory()
	if !ResetPeakRSS() {
		return
	}
	if after := PeakRSS(); after > high-size/2 {
		t.Fatalf("peak after freeing %d bytes and a reset: %d, before: %d", size, after, high)
	}
}

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
	// The race detector keeps shadow memory of what was freed resident, so only part of the 64 MB
	// goes back to the system; a quarter is a margin no peak that ignored the reset would meet.
	if after := PeakRSS(); after > high-size/4 {
		t.Fatalf("peak after freeing %d bytes and a reset: %d, before: %d", size, after, high)
	}
}

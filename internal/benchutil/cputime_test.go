package benchutil

import (
	"runtime"
	"testing"
)

func TestCPUTimeGrowsWithWork(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("no CPU-time source on this platform")
	}
	before := CPUTime()
	if before <= 0 {
		t.Fatalf("CPUTime() = %v, want > 0", before)
	}
	x := uint64(1)
	for after := before; after <= before; after = CPUTime() {
		for range 1_000_000 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	if x == 0 {
		t.Log(x) // keeps the loop from being optimised away
	}
}

//go:build !unix

package benchutil

import "time"

// CPUTime is unavailable on this platform and returns 0; benchmarks then report wall-clock
// figures only.
func CPUTime() time.Duration { return 0 }

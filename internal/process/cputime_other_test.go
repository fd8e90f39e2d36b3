//go:build !unix

package process

import "time"

// cpuTime is unavailable here; the benchmark then reports wall-clock rates only.
func cpuTime() time.Duration { return 0 }

//go:build !unix

package scenario

import "time"

// cpuTime is unknown on this platform; the benchmark then reports wall-clock figures only.
func cpuTime() time.Duration { return 0 }

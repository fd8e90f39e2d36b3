//go:build !unix

package sqlite

import "time"

// cpuTime is unavailable here; reportRates then reports wall-clock rates only.
func cpuTime() time.Duration { return 0 }

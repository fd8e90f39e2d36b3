//go:build !unix

package rusage

import "time"

// CPUTime returns 0: the process's CPU time is not read on this system.
func CPUTime() time.Duration { return 0 }

func maxRSS() int64 { return 0 }

package benchutil

import (
	"time"

	"github.com/idwatch/idwatch/internal/rusage"
)

// CPUTime returns the process's user plus system CPU time so far, or 0 when the system will not
// say.
func CPUTime() time.Duration { return rusage.CPUTime() }

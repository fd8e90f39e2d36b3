package oktasim

import "time"

// Clock tells oktasim the time. Rate-limit windows, event visibility, retention and the Date
// header all read it, so tests can drive time instead of waiting for it; clock.System and
// clock.Manual satisfy it.
type Clock interface {
	Now() time.Time
}

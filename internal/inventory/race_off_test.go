//go:build !race

package inventory

// raceEnabled: the race detector slows JSON-heavy tests about tenfold; they scale down under it.
const raceEnabled = false

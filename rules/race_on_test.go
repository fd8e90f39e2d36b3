//go:build race

package rules

// raceEnabled shrinks the long oktasim runs: the race detector slows them tenfold.
const raceEnabled = true

// Package benchutil holds helpers shared by the project's benchmarks. CPUTime lets a benchmark
// report cost per item in CPU time, which does not depend on how busy a shared machine is the way
// wall-clock time does.
package benchutil

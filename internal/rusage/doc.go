// Package rusage reads what the process has used so far: CPU time and peak resident memory. The
// bench command and the project's benchmarks report cost per item in CPU time, which depends less
// on how busy a shared machine is than wall-clock time does.
package rusage

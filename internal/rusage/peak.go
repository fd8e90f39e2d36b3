package rusage

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
)

// PeakRSS returns the process's peak resident set size in bytes: since the last ResetPeakRSS that
// succeeded, or since the process started. 0 means the system does not say.
func PeakRSS() int64 {
	if hwm := procStatus("VmHWM:"); hwm > 0 {
		return hwm
	}
	return maxRSS()
}

// ResetPeakRSS starts a new peak at the current resident size, so that PeakRSS measures one phase
// of a run. It reports false where the system cannot reset it (only Linux can); PeakRSS then keeps
// the peak since the process started.
func ResetPeakRSS() bool {
	if procStatus("VmHWM:") <= 0 {
		return false
	}
	// Writing 5 to clear_refs resets the peak (VmHWM) to the current RSS (Linux 4.0 and later).
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// procStatus reads a "kB" field of /proc/self/status in bytes (0 when absent).
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasPrefix(line, []byte(field)) {
			continue
		}
		f := bytes.Fields(line[len(field):])
		if len(f) == 0 {
			return 0
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0
		}
		return kb * 1024
	}
	return 0
}

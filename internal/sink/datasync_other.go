//go:build !linux

package sink

import "os"

// datasync flushes f to stable storage (fsync where fdatasync is not available).
func datasync(f *os.File) error { return f.Sync() }

// dropCache does nothing where the page cache cannot be advised.
func dropCache(*os.File, int64, int64) {}

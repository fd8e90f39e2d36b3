package sink

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// datasync flushes f's data (and the metadata needed to read it back) to stable storage.
func datasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }

// dropCache releases the page cache of f's bytes [off, off+n), which must be synced (clean): for
// clean pages the advice only frees memory, it starts no I/O. It is advice: an error changes
// nothing about what was written, so it is ignored.
func dropCache(f *os.File, off, n int64) { _ = unix.Fadvise(int(f.Fd()), off, n, unix.FADV_DONTNEED) }

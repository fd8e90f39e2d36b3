package sink

import (
	"io/fs"
	"os"
)

// sinkFile is what the file sink needs of an open file.
type sinkFile interface {
	WriteAt(p []byte, off int64) (int, error)
	Truncate(size int64) error
	Sync() error
	// Datasync flushes the data (and the metadata needed to read it back), not the timestamps.
	Datasync() error
	// DropCache tells the operating system that the synced bytes [off, off+n) will not be read
	// back by this process, so it may release their page cache.
	DropCache(off, n int64)
	Stat() (fs.FileInfo, error)
	Close() error
}

// fileSystem is the file sink's view of the operating system. It is the seam where tests put a
// disk that fills up or fails, which a real one cannot be made to do on demand.
type fileSystem interface {
	OpenFile(name string, flag int, perm fs.FileMode) (sinkFile, error)
	ReadFile(name string) ([]byte, error)
	Rename(oldpath, newpath string) error
	Lstat(name string) (fs.FileInfo, error)
}

// osFS is the real file system.
type osFS struct{}

func (osFS) OpenFile(name string, flag int, perm fs.FileMode) (sinkFile, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) ReadFile(name string) ([]byte, error)   { return os.ReadFile(name) }
func (osFS) Rename(oldpath, newpath string) error   { return os.Rename(oldpath, newpath) }
func (osFS) Lstat(name string) (fs.FileInfo, error) { return os.Lstat(name) }

// osFile is an *os.File with Datasync.
type osFile struct{ *os.File }

func (f osFile) Datasync() error { return datasync(f.File) }

func (f osFile) DropCache(off, n int64) { dropCache(f.File, off, n) }

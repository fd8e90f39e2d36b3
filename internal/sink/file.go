package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/store"
)

// FileConfig configures the file sink: JSON lines appended to a file, rotated by size and age.
type FileConfig struct {
	Path     string        `yaml:"path" doc:"file to append JSON lines to; its directory must exist"`
	MaxBytes int64         `yaml:"max_bytes" doc:"rotate when the file reaches this size (0: never)"`
	MaxAge   time.Duration `yaml:"max_age" doc:"rotate when the file is this old (0: never)"`
	Envelope bool          `yaml:"envelope" doc:"write {id,kind,schema,seq,time,integrationId,eventType,body} instead of the bare record"`
	NoSync   bool          `yaml:"no_sync" doc:"skip fsync after each batch (survives process crashes, not power loss)"`
	// KeepCache leaves written batches in the page cache. By default a synced batch's pages are
	// released: the sink never reads them back, and a catch-up writing gigabytes would otherwise
	// push the database's own pages out of memory (and, in a virtual machine, pay for every new
	// page of cache).
	KeepCache bool `yaml:"keep_cache" doc:"keep written batches in the OS page cache (default: released once synced)"`
}

func fileType() Type {
	return Type{Name: "file", Summary: "JSON lines in a local file, rotated by size or age; exactly once across crashes", New: func() Spec {
		return &FileConfig{MaxBytes: 256 << 20}
	}}
}

// Validate checks the options.
func (c *FileConfig) Validate() error {
	var errs []error
	if c.Path == "" {
		errs = append(errs, errors.New("file: path is required"))
	}
	if c.MaxBytes < 0 || c.MaxAge < 0 {
		errs = append(errs, errors.New("file: max_bytes and max_age must not be negative"))
	}
	return errors.Join(errs...)
}

// Build returns the file sink.
func (c *FileConfig) Build(env Env) (Sink, error) {
	if env.Clock == nil {
		env.Clock = clock.System{}
	}
	return newFileSink(*c, env.Clock, osFS{}), nil
}

func newFileSink(c FileConfig, clk Clock, fsys fileSystem) *fileSink {
	return &fileSink{cfg: c, clock: clk, fs: fsys, sf: stateFile{path: c.Path + ".state", noSync: c.NoSync, fs: fsys}}
}

// fileState is the sidecar written before each append: it says where the file stood before the
// batch, so a batch written but never committed can be cut off again.
type fileState struct {
	Stream   store.Stream `json:"stream"`
	AfterSeq int64        `json:"afterSeq"`
	LastSeq  int64        `json:"lastSeq"`
	Size     int64        `json:"size"`
	Opened   time.Time    `json:"opened"`
}

// fileSink appends to a local file. Its errors are outages (ClassUnavailable: a full disk, a
// read-only or failing file system, a file changed outside idwatch), none of which a retry of
// other data would get past, except a record that is not valid JSON (ClassRefusedNow) and faults
// of its own bookkeeping (ClassBug).
type fileSink struct {
	cfg   FileConfig
	clock Clock
	fs    fileSystem
	sf    stateFile
	f     sinkFile
	size  int64
	state *fileState
	buf   bytes.Buffer
}

// Connect opens the file for appending and loads the sidecar.
func (s *fileSink) Connect(context.Context) error {
	if s.f != nil {
		return nil
	}
	f, err := s.fs.OpenFile(s.cfg.Path, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("file sink: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("file sink: %w", err)
	}
	s.f, s.size = f, st.Size()
	if s.state, err = s.sf.load(); err != nil {
		_ = s.f.Close()
		s.f = nil
		return err
	}
	return nil
}

// Resume cuts off the last batch if its offset was never committed.
func (s *fileSink) Resume(_ context.Context, committed map[store.Stream]int64) error {
	if s.state == nil {
		return nil
	}
	c, ok := committed[s.state.Stream]
	if !ok || c >= s.state.LastSeq {
		return nil
	}
	if s.size == 0 && s.state.Size > 0 {
		// Killed inside a rotation: the file was renamed aside after the uncommitted batch had
		// already been cut off (rotation only follows a committed or cut batch), and the new file
		// is empty. Nothing to cut.
		return nil
	}
	return s.truncate(s.state.Size)
}

func (s *fileSink) truncate(size int64) error {
	if size > s.size {
		return Unavailable(fmt.Errorf("file sink: %s is shorter (%d bytes) than its state file says (%d): it was changed outside idwatch; restore it, or move it and its .state file aside to start a new file", s.cfg.Path, s.size, size))
	}
	if err := s.f.Truncate(size); err != nil {
		return fmt.Errorf("file sink: %w", err)
	}
	s.size = size
	return nil
}

// Write appends the batch as JSON lines; it returns once they are written (and synced).
func (s *fileSink) Write(_ context.Context, b Batch) error {
	if s.f == nil {
		return ErrNotConnected
	}
	// A retry of a batch that failed half-way starts again from where the batch began.
	if s.state != nil && s.state.Stream == b.Stream && s.state.LastSeq > b.AfterSeq && s.state.AfterSeq <= b.AfterSeq {
		if err := s.truncate(s.state.Size); err != nil {
			return err
		}
	}
	opened := s.clock.Now()
	if s.state != nil && !s.state.Opened.IsZero() {
		opened = s.state.Opened
	}
	if s.size > 0 && ((s.cfg.MaxBytes > 0 && s.size >= s.cfg.MaxBytes) || (s.cfg.MaxAge > 0 && s.clock.Now().Sub(opened) >= s.cfg.MaxAge)) {
		if err := s.rotate(); err != nil {
			return err
		}
		opened = s.clock.Now()
	}
	s.buf.Reset()
	for _, r := range b.Records {
		if err := s.encode(r); err != nil {
			return Permanent(fmt.Errorf("file sink: record %s: %w", r.ID, err))
		}
	}
	st := fileState{Stream: b.Stream, AfterSeq: b.AfterSeq, LastSeq: b.LastSeq, Size: s.size, Opened: opened}
	if err := s.sf.save(st); err != nil {
		return err
	}
	s.state = &st
	n, err := s.f.WriteAt(s.buf.Bytes(), s.size)
	s.size += int64(n)
	if err != nil {
		return fmt.Errorf("file sink: %w", err)
	}
	if !s.cfg.NoSync {
		if err := s.f.Sync(); err != nil {
			return fmt.Errorf("file sink: %w", err)
		}
		if !s.cfg.KeepCache {
			// Clean once synced: releasing them starts no I/O. Unsynced pages are left alone,
			// as dropping dirty pages would start their writeback.
			s.f.DropCache(s.size-int64(n), int64(n))
		}
	}
	return nil
}

func (s *fileSink) encode(r Record) error {
	var body []byte = r.Body
	if s.cfg.Envelope {
		var err error
		if body, err = json.Marshal(r); err != nil {
			return err
		}
	}
	if bytes.IndexByte(body, '\n') >= 0 {
		var c bytes.Buffer
		if err := json.Compact(&c, body); err != nil {
			return err
		}
		body = c.Bytes()
	}
	s.buf.Write(body)
	s.buf.WriteByte('\n')
	return nil
}

// rotate renames the current file aside (name-<UTC time>.ext) and starts a new one. The state of
// the last batch in the old file was committed before this batch was read, so it is not needed.
func (s *fileSink) rotate() error {
	ext := filepath.Ext(s.cfg.Path)
	base := strings.TrimSuffix(s.cfg.Path, ext)
	// Names sort in rotation order: on a collision the stamp moves forward a millisecond.
	var name string
	for t := s.clock.Now().UTC(); ; t = t.Add(time.Millisecond) {
		name = base + "-" + t.Format("20060102T150405.000Z") + ext
		_, err := s.fs.Lstat(name)
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return fmt.Errorf("file sink: rotate: %w", err)
		}
	}
	if err := s.f.Close(); err != nil {
		return fmt.Errorf("file sink: %w", err)
	}
	s.f = nil
	if err := s.fs.Rename(s.cfg.Path, name); err != nil {
		return fmt.Errorf("file sink: rotate: %w", err)
	}
	f, err := s.fs.OpenFile(s.cfg.Path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("file sink: %w", err)
	}
	s.f, s.size, s.state = f, 0, nil
	return nil
}

// Close closes the file.
func (s *fileSink) Close(context.Context) error {
	if s.f == nil {
		return nil
	}
	err := errors.Join(s.f.Close(), s.sf.close())
	s.f = nil
	return err
}

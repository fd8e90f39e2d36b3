package sink

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"syscall"
)

// Class is what a failed Write means, and so what the runner does about it.
type Class int

// The classes of delivery errors (docs/sinks.md, "When a write fails").
const (
	// ClassUnavailable: the destination or a local resource (disk, network, broker) is not
	// available. The batch is retried with backoff for as long as it takes; attempts are not
	// counted, the offset stays, the lag grows and the status says why.
	ClassUnavailable Class = iota + 1
	// ClassRefused: a working destination refused these records. The batch is retried up to
	// retry.max_attempts times, then its records become dead letters and the sink moves on.
	ClassRefused
	// ClassRefusedNow: a working destination refused these records as data (HTTP 400, a message
	// too large); retrying cannot help, so they become dead letters at once.
	ClassRefusedNow
	// ClassBug: an error that neither the destination nor the data can explain (an unexpected
	// error type, an encoding failure of idwatch's own structures). The sink stops, loudly,
	// rather than dead-letter or skip records over a fault of idwatch itself.
	ClassBug
)

func (c Class) String() string {
	switch c {
	case ClassUnavailable:
		return "unavailable"
	case ClassRefused:
		return "refused"
	case ClassRefusedNow:
		return "refused as data"
	case ClassBug:
		return "internal error"
	}
	return "unclassified"
}

// ErrNotConnected (wrapped) means the destination could not be reached: the runner retries for as
// long as it takes without counting attempts (ClassUnavailable), and calls Connect again first.
var ErrNotConnected = errors.New("destination unreachable")

// classError marks err with the class a sink gave it.
type classError struct {
	class Class
	err   error
}

func (e classError) Error() string { return e.err.Error() }
func (e classError) Unwrap() error { return e.err }

func mark(c Class, err error) error {
	if err == nil {
		return nil
	}
	return classError{c, err}
}

// Unavailable marks err as an outage of the destination or of a local resource (ClassUnavailable).
func Unavailable(err error) error { return mark(ClassUnavailable, err) }

// Refused marks err as the destination refusing the batch's records in a way a retry might get
// past (ClassRefused).
func Refused(err error) error { return mark(ClassRefused, err) }

// Permanent marks err as the destination refusing the batch's records as data (ClassRefusedNow):
// they become dead letters at once.
func Permanent(err error) error { return mark(ClassRefusedNow, err) }

// Bug marks err as a fault of idwatch itself (ClassBug): the sink stops.
func Bug(err error) error { return mark(ClassBug, err) }

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool { return Classify(err) == ClassRefusedNow }

// Classify returns err's class: the one a sink marked it with (the outermost mark wins), else
// what its type says. Failures of the network, of the file system and timeouts are outages; an
// error of a type nothing here expects is a bug, since treating it as bad data would dead-letter
// records that nothing was wrong with, and treating it as an outage would retry for ever without
// anyone being told.
func Classify(err error) Class {
	if err == nil {
		return 0
	}
	if ce, ok := errors.AsType[classError](err); ok {
		return ce.class
	}
	if errors.Is(err, ErrNotConnected) {
		return ClassUnavailable
	}
	var errno syscall.Errno
	switch {
	case errors.Is(err, fs.ErrClosed):
		return ClassBug // a file or connection used after idwatch closed it
	case errors.As(err, &errno):
		if errno == syscall.EBADF || errno == syscall.EFAULT {
			return ClassBug
		}
		// ENOSPC, EDQUOT, EIO, EROFS, EACCES, ENOENT, ECONNREFUSED, ECONNRESET, EPIPE, …: the
		// disk, the file system or the network, none of which a retry of other data would pass.
		return ClassUnavailable
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return ClassUnavailable
	}
	var netErr net.Error // *net.OpError, *net.DNSError, *url.Error, timeouts
	if errors.As(err, &netErr) {
		return ClassUnavailable
	}
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return ClassUnavailable
	}
	return ClassBug
}

// markedBug reports whether a sink itself marked err as a bug (Connect errors of other types are
// retried: client libraries report an unreachable server in types of their own).
func markedBug(err error) bool {
	ce, ok := errors.AsType[classError](err)
	return ok && ce.class == ClassBug
}

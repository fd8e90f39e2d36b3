package event

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxLineBytes bounds one line of a JSON-lines stream unless the caller sets a limit. It is
// far above any event idwatch collects (an Okta page is read whole up to 64 MiB), so an export of
// the journal always reads back; it only keeps a stream with no newline from filling memory.
const DefaultMaxLineBytes = 256 << 20

// LineError is a line of a JSON-lines stream that could not be read or decoded as an event.
type LineError struct {
	Line int // 1-based
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Unwrap returns the decoding error.
func (e *LineError) Unwrap() error { return e.Err }

// ErrLineTooLong is wrapped by the LineError of a line longer than the reader's limit.
var ErrLineTooLong = errors.New("line too long")

// ReadLines calls fn for each non-blank line of r in order, with its 1-based number and its bytes
// without surrounding whitespace (valid only during the call). Lines may be of any length up to
// max bytes (DefaultMaxLineBytes when max <= 0); a longer line is consumed without being held in
// memory and fn gets raw == nil and a *LineError wrapping ErrLineTooLong that names the line and
// the limit, so the caller reports it and goes on with the next line. ReadLines stops at the
// first error fn returns, or a read error, and returns it.
func ReadLines(r io.Reader, max int, fn func(line int, raw []byte, err error) error) error {
	if max <= 0 {
		max = DefaultMaxLineBytes
	}
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	for n := 1; ; n++ {
		raw, err := br.ReadSlice('\n')
		tooLong := false
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: gather it (amortized linear), or skip the rest of it
			// once it passes the limit.
			long = append(long[:0], raw...)
			for errors.Is(err, bufio.ErrBufferFull) {
				raw, err = br.ReadSlice('\n')
				if !tooLong {
					long = append(long, raw...)
					tooLong = len(bytes.TrimRight(long, " \t\r\n")) > max
				}
			}
			raw = long
			if tooLong {
				raw, long = nil, nil
			}
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("read line %d: %w", n, err)
		}
		line := bytes.TrimSpace(raw)
		if tooLong || len(line) > max {
			lerr := &LineError{Line: n, Err: fmt.Errorf("%w: longer than %d bytes (raise the limit to read it)", ErrLineTooLong, max)}
			if ferr := fn(n, nil, lerr); ferr != nil {
				return ferr
			}
		} else if len(line) > 0 {
			if ferr := fn(n, line, nil); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

// DecodeLines reads one event per line from r with ReadLines (at the default limit) and calls fn
// for each in order, with the 1-based line number and the line's bytes (valid only during the
// call). A line that is not an event, or is too long, does not stop the stream: fn gets ev == nil
// and a *LineError naming the line, and decides. DecodeLines stops at the first error fn returns,
// or a read error, and returns it.
func DecodeLines(r io.Reader, fn func(line int, raw []byte, ev *LogEvent, err error) error) error {
	return ReadLines(r, 0, func(n int, line []byte, err error) error {
		if err != nil {
			return fn(n, nil, nil, err)
		}
		ev, derr := Decode(line)
		if derr != nil {
			derr = &LineError{Line: n, Err: derr}
		}
		return fn(n, line, ev, derr)
	})
}

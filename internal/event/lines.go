package event

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MaxLineBytes bounds one line of a JSON-lines stream; Okta events are a few KiB.
const MaxLineBytes = 16 << 20

// LineError is a line of a JSON-lines stream that could not be decoded as an event.
type LineError struct {
	Line int // 1-based
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Unwrap returns the decoding error.
func (e *LineError) Unwrap() error { return e.Err }

// DecodeLines reads one event per line from r (blank lines are skipped) and calls fn for each in
// order, with the 1-based line number and the line's bytes (valid only during the call). A line
// that is not an event does not stop the stream: fn gets ev == nil and a *LineError naming the
// line, and decides. DecodeLines stops at the first error fn returns, or a read error, and
// returns it.
func DecodeLines(r io.Reader, fn func(line int, raw []byte, ev *LogEvent, err error) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	for n := 1; ; n++ {
		raw, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], raw...)
			for errors.Is(err, bufio.ErrBufferFull) && len(long) <= MaxLineBytes {
				raw, err = br.ReadSlice('\n')
				long = append(long, raw...)
			}
			raw = long
			if len(long) > MaxLineBytes {
				if ferr := fn(n, nil, nil, &LineError{Line: n, Err: fmt.Errorf("line longer than %d bytes", MaxLineBytes)}); ferr != nil {
					return ferr
				}
				for errors.Is(err, bufio.ErrBufferFull) {
					_, err = br.ReadSlice('\n')
				}
				raw = nil
			}
		}
		if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
			return fmt.Errorf("read line %d: %w", n, err)
		}
		if line := bytes.TrimSpace(raw); len(line) > 0 {
			ev, derr := Decode(line)
			if derr != nil {
				derr = &LineError{Line: n, Err: derr}
			}
			if ferr := fn(n, line, ev, derr); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

package event

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
)

// readAll collects what ReadLines reports: "n:len" for lines, "n:err" for errors.
func readAll(t *testing.T, r io.Reader, max int) []string {
	t.Helper()
	var got []string
	err := ReadLines(r, max, func(n int, raw []byte, err error) error {
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) || le.Line != n || !errors.Is(err, ErrLineTooLong) || raw != nil {
				t.Errorf("line %d: error %v (raw %d bytes) is not a too-long LineError for the line", n, err, len(raw))
			}
			got = append(got, strconv.Itoa(n)+":too long")
			return nil
		}
		got = append(got, strconv.Itoa(n)+":"+strconv.Itoa(len(raw)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestReadLinesAnySize(t *testing.T) {
	// Lines far longer than the reader's buffer (and than the 4 MiB that replay once refused),
	// with and without a final newline, CRLF, blank lines.
	big := strings.Repeat("x", 5<<20)
	in := "a\n" + big + "\r\n\n  \n" + "bb\n" + big + "y"
	got := strings.Join(readAll(t, strings.NewReader(in), 0), " ")
	want := "1:1 2:" + strconv.Itoa(5<<20) + " 5:2 6:" + strconv.Itoa(5<<20+1)
	if got != want {
		t.Errorf("lines %s, want %s", got, want)
	}
}

func TestReadLinesOverLimitSkipsOnlyThatLine(t *testing.T) {
	limit := 100 << 10
	over := strings.Repeat("z", limit+1)
	exact := strings.Repeat("e", limit)
	in := "first\n" + over + "\n" + exact + "\n" + strings.Repeat("w", 200) + "\n" + over + over + "\nlast"
	got := strings.Join(readAll(t, strings.NewReader(in), limit), " ")
	want := "1:5 2:too long 3:" + strconv.Itoa(limit) + " 4:200 5:too long 6:4"
	if got != want {
		t.Errorf("lines %s, want %s", got, want)
	}
	// A short line over a limit smaller than the read buffer is reported too.
	got = strings.Join(readAll(t, strings.NewReader("abcdef\nab\n"), 4), " ")
	if got != "1:too long 2:2" {
		t.Errorf("small limit: %s", got)
	}
}

func TestReadLinesErrors(t *testing.T) {
	stop := errors.New("stop")
	if err := ReadLines(strings.NewReader("a\nb"), 0, func(int, []byte, error) error { return stop }); err != stop {
		t.Errorf("callback error not returned: %v", err)
	}
	broken := io.MultiReader(strings.NewReader("ok\npartial"), errReader{})
	err := ReadLines(broken, 0, func(int, []byte, error) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "read line 2") {
		t.Errorf("read error: %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

package store

import (
	"errors"
	"strings"
	"testing"
)

func TestPageCursorRoundTrip(t *testing.T) {
	for _, c := range []PageCursor{
		{Kind: 'e', Time: 1_773_000_000_123, Seq: 42, Query: 7},
		{Kind: 'a', Time: -1, Seq: 0, Query: 1 << 63},
		{Kind: 'e', Time: 1<<63 - 1, Seq: 1<<63 - 1},
	} {
		got, err := DecodePageCursor(c.Encode(), c.Kind, c.Query)
		if err != nil || got != c {
			t.Fatalf("%+v: got %+v, %v", c, got, err)
		}
		if _, err := DecodePageCursor(c.Encode(), c.Kind, c.Query+1); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "different query") {
			t.Fatalf("other query: %v", err)
		}
		if _, err := DecodePageCursor(c.Encode(), 'x', c.Query); !errors.Is(err, ErrInvalid) {
			t.Fatalf("other kind: %v", err)
		}
	}
}

// FuzzDecodePageCursor: any string decodes to a cursor that encodes back to itself, or fails
// with ErrInvalid; nothing panics.
func FuzzDecodePageCursor(f *testing.F) {
	f.Add(PageCursor{Kind: 'e', Time: 1_773_000_000_123, Seq: 42, Query: 99}.Encode())
	f.Add("")
	f.Add("AQ")
	f.Add(strings.Repeat("A", 81))
	f.Fuzz(func(t *testing.T, s string) {
		c, err := DecodePageCursor(s, 'e', 99)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("%q: error %v does not wrap ErrInvalid", s, err)
			}
			return
		}
		if c.Encode() != s {
			t.Fatalf("%q decodes to %+v, which encodes as %q", s, c, c.Encode())
		}
	})
}

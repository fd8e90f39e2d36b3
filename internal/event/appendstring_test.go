package event

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// FuzzAppendString checks AppendString against encoding/json: the output must decode to the same
// string (invalid UTF-8 read as U+FFFD).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain ascii text here", `a"b\c`, "tab\there\nnewline", "\x00\x1f\x7f",
		"héllo wörld ünïcode", "\xff\xfe bad utf8", "\u2028\u2029", strings.Repeat(`{"k":"v"}`, 20),
		`{"name":"Jos\u00e9","x":"` + "é\t\xff" + `\"q\""}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := AppendString(nil, s)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("AppendString(%q) = %s: not a JSON string: %v", s, out, err)
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if back != want && back != strings.ToValidUTF8(string([]rune(s)), "\uFFFD") {
			t.Fatalf("AppendString(%q) decodes to %q", s, back)
		}
		if string(AppendStringBytes(nil, []byte(s))) != string(out) {
			t.Fatal("AppendStringBytes differs from AppendString")
		}
	})
}

// BenchmarkAppendStringBytes escapes a raw Okta event, as raw_data does for every record: as Okta
// sends it (compact) and indented (newlines take the general path).
func BenchmarkAppendStringBytes(b *testing.B) {
	indented, err := os.ReadFile("testdata/full.json")
	if err != nil {
		b.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, indented); err != nil {
		b.Fatal(err)
	}
	for name, raw := range map[string][]byte{"compact": compact.Bytes(), "indented": indented} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			buf := make([]byte, 0, 4*len(raw))
			for b.Loop() {
				buf = AppendStringBytes(buf[:0], raw)
			}
		})
	}
}

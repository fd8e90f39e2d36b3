package sink

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/store"
)

// TestStateFileSlots checks the two-slot state file: the newest valid slot wins, a torn newest
// slot leaves the previous state, a file with no valid slot is an error naming the fix, and a
// state file from an earlier idwatch (one JSON object) is read and then replaced.
func TestStateFileSlots(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl.state")
	sf := &stateFile{path: path, fs: osFS{}}
	if st, err := sf.load(); err != nil || st != nil {
		t.Fatalf("missing state file: %+v %v", st, err)
	}
	for i := int64(1); i <= 3; i++ {
		if err := sf.save(fileState{Stream: store.StreamJournal, AfterSeq: (i - 1) * 10, LastSeq: i * 10, Size: i * 1000}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sf.close(); err != nil {
		t.Fatal(err)
	}
	load := func() (*fileState, error) { return (&stateFile{path: path, fs: osFS{}}).load() }
	if st, err := load(); err != nil || st.LastSeq != 30 || st.Size != 3000 {
		t.Fatalf("after three saves: %+v %v", st, err)
	}
	if fi, _ := os.Stat(path); fi.Size() != 2*stateSlot {
		t.Fatalf("state file of %d bytes, want two slots", fi.Size())
	}

	// Power loss tore the newest record (generation 3, slot 1): the previous one is used.
	b, _ := os.ReadFile(path)
	torn := append([]byte(nil), b...)
	copy(torn[stateSlot+20:], "XXXX")
	os.WriteFile(path, torn, 0o600)
	if st, err := load(); err != nil || st.LastSeq != 20 || st.Size != 2000 {
		t.Fatalf("with the newest slot torn: %+v %v", st, err)
	}
	copy(torn[20:], "XXXX")
	os.WriteFile(path, torn, 0o600)
	if _, err := load(); err == nil || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), "duplicated lines") {
		t.Fatalf("both slots torn: %v", err)
	}

	// A state file written by an earlier idwatch.
	os.WriteFile(path, []byte(`{"stream":"journal","afterSeq":10,"lastSeq":20,"size":5000}`), 0o600)
	sf = &stateFile{path: path, fs: osFS{}}
	if st, err := sf.load(); err != nil || st.LastSeq != 20 || st.Size != 5000 {
		t.Fatalf("legacy state file: %+v %v", st, err)
	}
	if err := sf.save(fileState{Stream: store.StreamJournal, AfterSeq: 20, LastSeq: 30, Size: 6000}); err != nil {
		t.Fatal(err)
	}
	sf.close()
	if st, err := load(); err != nil || st.LastSeq != 30 {
		t.Fatalf("after replacing a legacy state: %+v %v", st, err)
	}
}

// FuzzStateFile checks that no state file content makes load panic, and that a state it accepts
// is written back and read again unchanged.
func FuzzStateFile(f *testing.F) {
	f.Add([]byte(`{"stream":"journal","afterSeq":10,"lastSeq":20,"size":5000}`))
	f.Add([]byte("{\"gen\":1,\"state\":{\"stream\":\"journal\",\"lastSeq\":2}}\t00000000\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "s")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		sf := &stateFile{path: path, noSync: true, fs: osFS{}}
		st, err := sf.load()
		if err != nil || st == nil {
			return
		}
		if err := sf.save(*st); err != nil {
			if !strings.Contains(err.Error(), "does not fit") { // only a state no sink writes is too long
				t.Fatal(err)
			}
			return
		}
		sf.close()
		back, err := (&stateFile{path: path, fs: osFS{}}).load()
		if err != nil || back == nil || back.LastSeq != st.LastSeq || back.Size != st.Size || back.AfterSeq != st.AfterSeq {
			t.Fatalf("state %+v read back as %+v (%v)", st, back, err)
		}
	})
}

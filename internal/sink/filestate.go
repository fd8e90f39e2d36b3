package sink

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"strconv"
)

// The file sink's state file holds two fixed-size slots, written in turn in place: a state write
// is one small write and a data sync of a block that never changes size, instead of a new file,
// a sync and a rename, and a write torn by power loss leaves the other slot (the previous state,
// which is then the right one: the batch's data is written only after its state is durable)
// whole. Each slot is the JSON of a stateRecord, a tab, its CRC-32 in hex, spaces, and a newline.
const stateSlot = 512

// stateRecord is one slot: a generation number (the higher valid one wins) and the state.
type stateRecord struct {
	Gen   uint64    `json:"gen"`
	State fileState `json:"state"`
}

// stateFile reads and writes a file sink's state file.
type stateFile struct {
	path   string
	noSync bool
	fs     fileSystem
	f      sinkFile
	gen    uint64 // generation of the last record read or written
}

// load returns the newest valid state, or nil when there is none yet. A state file written by
// an earlier idwatch (one JSON object) is read as it is.
func (sf *stateFile) load() (*fileState, error) {
	b, err := sf.fs.ReadFile(sf.path)
	if errors.Is(err, fs.ErrNotExist) || len(b) == 0 {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("file sink: %w", err)
	}
	var best *stateRecord
	for off := 0; off+stateSlot <= len(b); off += stateSlot {
		if r, ok := parseSlot(b[off : off+stateSlot]); ok && (best == nil || r.Gen > best.Gen) {
			best = &r
		}
	}
	if best != nil {
		sf.gen = best.Gen
		return &best.State, nil
	}
	var legacy fileState
	if err := json.Unmarshal(b, &legacy); err != nil {
		return nil, fmt.Errorf("file sink: state file %s is damaged (%v): delete it only after checking the end of the output file for duplicated lines", sf.path, err)
	}
	return &legacy, nil
}

// parseSlot decodes one slot, reporting false when it is not a whole, valid record.
func parseSlot(slot []byte) (stateRecord, bool) {
	body, sum, ok := bytes.Cut(bytes.TrimRight(slot, " \n"), []byte{'\t'})
	if !ok {
		return stateRecord{}, false
	}
	want, err := strconv.ParseUint(string(sum), 16, 32)
	if err != nil || crc32.ChecksumIEEE(body) != uint32(want) {
		return stateRecord{}, false
	}
	var r stateRecord
	if json.Unmarshal(body, &r) != nil {
		return stateRecord{}, false
	}
	return r, true
}

// save makes st the current state: it writes the slot the previous state is not in, and syncs
// it unless the sink was configured not to sync. A failed save leaves the generation where it
// was, so the retry writes the same slot again and the previous state stays whole in the other.
func (sf *stateFile) save(st fileState) error {
	if sf.f == nil {
		f, err := sf.fs.OpenFile(sf.path, os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("file sink: state file: %w", err)
		}
		sf.f = f
	}
	gen := sf.gen + 1
	body, err := json.Marshal(stateRecord{Gen: gen, State: st})
	if err != nil {
		return Bug(fmt.Errorf("file sink: encoding the state record: %w", err))
	}
	slot := fmt.Appendf(body, "\t%08x", crc32.ChecksumIEEE(body))
	if len(slot) > stateSlot-1 {
		return Bug(fmt.Errorf("file sink: state record of %d bytes does not fit its slot", len(slot)))
	}
	slot = append(slot, bytes.Repeat([]byte{' '}, stateSlot-1-len(slot))...)
	slot = append(slot, '\n')
	if _, err := sf.f.WriteAt(slot, int64(gen%2)*stateSlot); err != nil {
		return fmt.Errorf("file sink: state file: %w", err)
	}
	if !sf.noSync {
		if err := sf.f.Datasync(); err != nil {
			return fmt.Errorf("file sink: state file: %w", err)
		}
	}
	sf.gen = gen
	return nil
}

// close closes the state file.
func (sf *stateFile) close() error {
	if sf.f == nil {
		return nil
	}
	err := sf.f.Close()
	sf.f = nil
	return err
}

package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/idwatch/idwatch/internal/dirlock"
)

// lockFileName is the data directory's lock file, held by the one process that collects and
// delivers from it (serve, collect) and by master key rotation.
const lockFileName = "idwatch.lock"

// lockDataDir takes the data directory's lock for command, or names the process holding it.
// Two collectors on one data directory would poll the same cursors twice over and write every
// file sink twice; commands that only read or add records do not take the lock.
func (c *common) lockDataDir(command string) (*dirlock.Lock, error) {
	if c.dataDir == "" {
		return nil, fmt.Errorf("%w: --data-dir is empty", errUsage)
	}
	l, err := dirlock.TryExclusive(filepath.Join(c.dataDir, lockFileName), command)
	if errors.Is(err, dirlock.ErrHeld) {
		var held *dirlock.HeldError
		errors.As(err, &held)
		return nil, fmt.Errorf("data directory %s is in use by %s: run one serve or collect per data directory; "+
			"stop that one first, or give this one another --data-dir (read-only commands such as integrations list, "+
			"events export and alerts list work meanwhile)", c.dataDir, held.Holder)
	}
	return l, err
}

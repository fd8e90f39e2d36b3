package sink

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/idwatch/idwatch/internal/store"
)

// StartChecker is implemented by a Spec whose destination can be checked before the sink starts,
// for mistakes of configuration that waiting cannot fix (a file sink's missing directory).
type StartChecker interface {
	// CheckStart returns an error that names the fix; field is where the options sit in the
	// configuration file ("sinks[2]"), for the message.
	CheckStart(field string) error
}

// CheckStart checks, in configuration order, every sink whose type can be checked before start.
func CheckStart(cfgs []Config) error {
	var errs []error
	for i, c := range cfgs {
		if sc, ok := c.Spec.(StartChecker); ok {
			if err := sc.CheckStart(fmt.Sprintf("sinks[%d]", i)); err != nil {
				errs = append(errs, fmt.Errorf("sink %q: %w", c.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// CheckStart fails when the file's directory does not exist or is not a directory. At start that
// is a mistake in the configuration, and retrying would only hold back the journal while nothing
// is delivered; a directory that disappears once the sink runs is an outage and retried (docs/sinks.md).
func (c *FileConfig) CheckStart(field string) error {
	dir := filepath.Dir(c.Path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("file: directory %s does not exist: create %s or change %s.path", dir, dir, field)
	case err != nil:
		return fmt.Errorf("file: directory %s: %w: check its permissions or change %s.path", dir, err, field)
	case !fi.IsDir():
		return fmt.Errorf("file: %s is not a directory: change %s.path", dir, field)
	}
	return nil
}

// SinkName returns the sink a consumer offset belongs to, and whether it is a sink's at all.
func SinkName(consumer string) (string, bool) {
	name, ok := strings.CutPrefix(consumer, "sink/")
	if !ok {
		return "", false
	}
	return strings.TrimSuffix(name, "/alerts"), true
}

// consumerNames returns the consumer offsets the configured sinks read with.
func consumerNames(cfgs []Config) map[string]bool {
	want := map[string]bool{}
	for _, c := range cfgs {
		c = c.withDefaults()
		for _, k := range c.Carry {
			switch k {
			case KindAlert:
				want[ConsumerName(c.Name, store.StreamAlerts)] = true
			case KindIncident:
				want[ConsumerName(c.Name, store.StreamIncidents)] = true
			case KindIdentity:
				want[ConsumerName(c.Name, store.StreamIdentity)] = true
			default:
				want[ConsumerName(c.Name, store.StreamJournal)] = true
			}
		}
	}
	return want
}

// PruneConsumers unregisters every sink consumer offset the configured sinks no longer read
// with: a sink removed from the configuration, or one that no longer carries a stream. Journal
// retention waits for every registered consumer, so such an offset would hold back retention for
// ever. It returns what it removed, each with the lag that will never be sent.
func PruneConsumers(ctx context.Context, st store.Offsets, cfgs []Config) ([]store.Consumer, error) {
	want := consumerNames(cfgs)
	all, err := st.Consumers(ctx)
	if err != nil {
		return nil, err
	}
	var removed []store.Consumer
	for _, c := range all {
		if _, ok := SinkName(c.Name); !ok || want[c.Name] {
			continue
		}
		if err := st.UnregisterConsumer(ctx, c.Name); err != nil && !errors.Is(err, store.ErrNotFound) {
			return removed, fmt.Errorf("unregister %s: %w", c.Name, err)
		}
		removed = append(removed, c)
	}
	return removed, nil
}

// RemoveSink unregisters both consumer offsets of the named sink and returns what it removed;
// none is store.ErrNotFound.
func RemoveSink(ctx context.Context, st store.Offsets, name string) ([]store.Consumer, error) {
	all, err := st.Consumers(ctx)
	if err != nil {
		return nil, err
	}
	var removed []store.Consumer
	for _, c := range all {
		if n, ok := SinkName(c.Name); !ok || n != name {
			continue
		}
		if err := st.UnregisterConsumer(ctx, c.Name); err != nil && !errors.Is(err, store.ErrNotFound) {
			return removed, fmt.Errorf("unregister %s: %w", c.Name, err)
		}
		removed = append(removed, c)
	}
	if len(removed) == 0 {
		return nil, fmt.Errorf("%w: no sink %q has an offset", store.ErrNotFound, name)
	}
	return removed, nil
}

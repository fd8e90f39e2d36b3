package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestMemoryBounds: the writer's page cache and the memory map follow the options, readers keep
// their small cache, and out-of-range values are refused with the option named.
func TestMemoryBounds(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "m.db"), CacheBytes: 8 << 20, MmapBytes: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var cache, mmap, readerCache int64
	if err := s.w.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&cache); err != nil {
		t.Fatal(err)
	}
	if err := s.w.QueryRowContext(ctx, `PRAGMA mmap_size`).Scan(&mmap); err != nil {
		t.Fatal(err)
	}
	if err := s.r.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&readerCache); err != nil {
		t.Fatal(err)
	}
	if cache != -8192 || mmap != 16<<20 || readerCache != readerCachePages {
		t.Fatalf("writer cache_size %d (want -8192 KiB), mmap_size %d, reader cache_size %d", cache, mmap, readerCache)
	}
	for _, o := range []Options{{Path: "x", CacheBytes: 1000}, {Path: "x", MmapBytes: -1}} {
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "CacheBytes") {
			t.Errorf("%+v: %v", o, err)
		}
	}
}

package process

import (
	"fmt"
	"slices"
	"testing"

	"github.com/idwatch/idwatch/internal/incident"
)

// TestMergeEvidenceEntitiesBounded checks that evidence events add their users and addresses
// in evidence order, without repeats, and no more than the bounds of each kind.
func TestMergeEvidenceEntitiesBounded(t *testing.T) {
	var uids []string
	for i := range 300 {
		uids = append(uids, fmt.Sprint("e", i))
	}
	got := mergeEvidenceEntities([]string{"user:raiser", "ip:10.0.0.1"}, uids, func(u string) []string {
		return []string{"user:" + u, "user:" + u, "ip:" + u, "session:" + u, "ip:10.0.0.1"}
	})
	count := map[string]int{}
	for _, e := range got {
		count[incident.Entity(e).Kind()]++
	}
	if count["user"] != maxEvidenceUsers || count["ip"] != maxEvidenceIPs || count["session"] != 300 {
		t.Errorf("kinds %v, want %d users, %d addresses, 300 sessions", count, maxEvidenceUsers, maxEvidenceIPs)
	}
	if got[0] != "user:raiser" || got[2] != "user:e0" || !slices.Contains(got, "ip:e48") || slices.Contains(got, "ip:e49") {
		t.Errorf("order or bound wrong: %v", got[:6])
	}
	seen := map[string]bool{}
	for _, e := range got {
		if seen[e] {
			t.Errorf("entity %s repeated", e)
		}
		seen[e] = true
	}
}

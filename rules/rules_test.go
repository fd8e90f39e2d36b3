package rules

import (
	"testing"

	"github.com/idwatch/idwatch/internal/detect"
)

// TestBuiltinRules runs every built-in rule's own test events.
func TestBuiltinRules(t *testing.T) {
	res, err := detect.RunTests(FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(res) == 0 {
		t.Fatal("no rule tests ran")
	}
	for _, r := range res {
		if !r.Pass {
			t.Errorf("%s: %s: %s", r.RuleFile, r.Test, r.Message)
		}
	}
}

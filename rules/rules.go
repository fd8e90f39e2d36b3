// Package rules holds idwatch's built-in Sigma detections, each with its own tests
// (<name>.tests.yml beside <name>.yml), embedded in the binary.
package rules

import "embed"

// FS holds the built-in rules and their tests, one folder per area.
//
//go:embed */*.yml
var FS embed.FS

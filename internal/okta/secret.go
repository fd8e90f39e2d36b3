package okta

import (
	"fmt"
	"log/slog"
)

const redacted = "[REDACTED]"

// Secret holds a credential (API token, PEM private key). It prints as [REDACTED] under every fmt
// verb and in slog, so a config struct that embeds one can be logged or wrapped in an error
// without leaking it. Reveal returns the value for the one place that must send it.
type Secret string

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s == "" }

// String returns a redacted marker.
func (s Secret) String() string { return s.marker() }

// GoString returns a redacted marker for %#v.
func (s Secret) GoString() string { return s.marker() }

// Format redacts the secret for every verb (%v, %+v, %s, %q, %x, ...).
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.marker())) }

// LogValue redacts the secret in structured logs.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.marker()) }

// MarshalText redacts the secret when the value is encoded as text (JSON, YAML); configuration
// stores that need the value must call Reveal explicitly.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.marker()), nil }

func (s Secret) marker() string {
	if s == "" {
		return ""
	}
	return redacted
}

// Package secret keeps credentials out of logs and off disk in clear: Value redacts itself wherever
// it is printed or encoded, and Keyring seals values with XChaCha20-Poly1305 under a master key.
package secret

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
)

// Redacted is what a Value shows instead of its content.
const Redacted = "[redacted]"

// Value holds a secret (API token, private key PEM, hook secret). Every way of printing or encoding
// it (fmt verbs, JSON, text, slog) yields Redacted; only Reveal returns the content.
type Value struct {
	s string
}

// New wraps s as a secret.
func New(s string) Value { return Value{s: s} }

// Reveal returns the secret itself. Call it only where the secret is used (an Authorization header,
// a signing key), never to print it.
func (v Value) Reveal() string { return v.s }

// IsZero reports whether the value is empty.
func (v Value) IsZero() bool { return v.s == "" }

// Equal reports whether two values hold the same secret, in time independent of where they differ.
func (v Value) Equal(o Value) bool { return subtle.ConstantTimeCompare([]byte(v.s), []byte(o.s)) == 1 }

// String returns Redacted, or "" for an empty value so that "unset" stays visible.
func (v Value) String() string {
	if v.s == "" {
		return ""
	}
	return Redacted
}

// GoString keeps %#v from printing the secret.
func (v Value) GoString() string { return fmt.Sprintf("secret.Value(%q)", v.String()) }

// Format makes every fmt verb (%s, %v, %q, %x, %d …) print the redacted form.
func (v Value) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, v.GoString())
		return
	}
	if verb == 'q' {
		fmt.Fprintf(f, "%q", v.String())
		return
	}
	fmt.Fprint(f, v.String())
}

// LogValue makes slog print the redacted form.
func (v Value) LogValue() slog.Value { return slog.StringValue(v.String()) }

// MarshalJSON encodes the redacted form, so API responses and JSON logs never carry the secret.
func (v Value) MarshalJSON() ([]byte, error) { return json.Marshal(v.String()) }

// MarshalText encodes the redacted form (YAML and other text encoders).
func (v Value) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// errRedactedInput refuses a redacted placeholder read back as if it were the secret.
var errRedactedInput = errors.New("secret: got the placeholder " + Redacted + " instead of a secret; supply the real value")

// UnmarshalJSON reads a secret from a JSON string (API requests, config). It refuses the redacted
// placeholder, which would otherwise silently replace a real secret after a read-modify-write.
func (v *Value) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("secret: expected a JSON string")
	}
	return v.UnmarshalText([]byte(s))
}

// UnmarshalText reads a secret from text, refusing the redacted placeholder.
func (v *Value) UnmarshalText(b []byte) error {
	if string(b) == Redacted {
		return errRedactedInput
	}
	v.s = string(b)
	return nil
}

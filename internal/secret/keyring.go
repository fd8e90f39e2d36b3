package secret

import (
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// KeySize is the length of a master key in bytes.
const KeySize = chacha20poly1305.KeySize

// formatV1 is the first byte of every ciphertext this package writes; a new format gets a new byte.
const formatV1 byte = 1

// headerSize is format byte + key id; the nonce follows the header.
const headerSize = 1 + 4

// Overhead is how many bytes Seal adds to a plaintext.
const Overhead = headerSize + chacha20poly1305.NonceSizeX + chacha20poly1305.Overhead

// Sealer encrypts and decrypts small secrets. aad binds a ciphertext to its place (for example
// "integration/7/api_token"), so a ciphertext copied to another row or field fails to open.
type Sealer interface {
	// Seal encrypts plaintext; the result is self-describing (format, key id, nonce).
	Seal(plaintext, aad []byte) ([]byte, error)
	// Open decrypts what Seal produced with the same aad, or fails without revealing why beyond
	// "unknown key" or "corrupt or tampered".
	Open(ciphertext, aad []byte) ([]byte, error)
}

// ErrUnknownKey means the ciphertext was sealed under a key this keyring does not hold.
var ErrUnknownKey = errors.New("secret: sealed with a master key that is not loaded")

// ErrCorrupt means the ciphertext is malformed, tampered with, or bound to another place.
var ErrCorrupt = errors.New("secret: ciphertext is corrupt, tampered with, or belongs to another record")

// Keyring seals with its primary key and opens with any of its keys, so keys can be rotated: load
// the new key first and the old ones after it, then reseal.
type Keyring struct {
	primaryID uint32
	aeads     map[uint32]cipher.AEAD
	order     []uint32
}

var _ Sealer = (*Keyring)(nil)

// NewKeyring builds a keyring from 32-byte keys; the first is the primary (sealing) key.
func NewKeyring(keys ...[]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("secret: no master key given")
	}
	k := &Keyring{aeads: make(map[uint32]cipher.AEAD, len(keys))}
	for i, key := range keys {
		if len(key) != KeySize {
			return nil, fmt.Errorf("secret: master key %d is %d bytes, want %d (generate one with: head -c 32 /dev/urandom | base64)", i+1, len(key), KeySize)
		}
		id := KeyID(key)
		if _, dup := k.aeads[id]; dup {
			return nil, fmt.Errorf("secret: master key %d is given twice", i+1)
		}
		aead, err := chacha20poly1305.NewX(key)
		if err != nil {
			return nil, fmt.Errorf("secret: master key %d: %w", i+1, err)
		}
		k.aeads[id] = aead
		k.order = append(k.order, id)
	}
	k.primaryID = k.order[0]
	return k, nil
}

// KeyID derives the public identifier written into ciphertexts: 4 bytes of a domain-separated
// SHA-256 of the key, which names the key without revealing it.
func KeyID(key []byte) uint32 {
	h := sha256.New()
	h.Write([]byte("idwatch secret key id\x00"))
	h.Write(key)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// Has reports whether the keyring holds the key with that id.
func (k *Keyring) Has(id uint32) bool {
	_, ok := k.aeads[id]
	return ok
}

// IDs returns the ids of the keyring's keys, primary first.
func (k *Keyring) IDs() []uint32 { return append([]uint32(nil), k.order...) }

// PrimaryID is the id of the key Seal uses.
func (k *Keyring) PrimaryID() uint32 { return k.primaryID }

// String names the keys by id only.
func (k *Keyring) String() string {
	return fmt.Sprintf("secret.Keyring{primary: %08x, keys: %d}", k.primaryID, len(k.order))
}

// GoString keeps %#v from dumping key material.
func (k *Keyring) GoString() string { return k.String() }

// Seal encrypts plaintext under the primary key with a fresh random 24-byte nonce.
func (k *Keyring) Seal(plaintext, aad []byte) ([]byte, error) {
	out := make([]byte, headerSize+chacha20poly1305.NonceSizeX, Overhead+len(plaintext))
	out[0] = formatV1
	binary.BigEndian.PutUint32(out[1:headerSize], k.primaryID)
	nonce := out[headerSize:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("secret: reading random nonce: %w", err)
	}
	return k.aeads[k.primaryID].Seal(out, nonce, plaintext, additional(out[:headerSize], aad)), nil
}

// Open decrypts a ciphertext made by Seal with any key of the keyring.
func (k *Keyring) Open(ciphertext, aad []byte) ([]byte, error) {
	id, err := SealedKeyID(ciphertext)
	if err != nil {
		return nil, err
	}
	aead, ok := k.aeads[id]
	if !ok {
		return nil, fmt.Errorf("%w (key id %08x)", ErrUnknownKey, id)
	}
	nonce := ciphertext[headerSize : headerSize+chacha20poly1305.NonceSizeX]
	pt, err := aead.Open(nil, nonce, ciphertext[headerSize+chacha20poly1305.NonceSizeX:], additional(ciphertext[:headerSize], aad))
	if err != nil {
		return nil, ErrCorrupt
	}
	return pt, nil
}

// NeedsReseal reports whether a ciphertext was sealed under a key other than the primary one.
func (k *Keyring) NeedsReseal(ciphertext []byte) bool {
	id, err := SealedKeyID(ciphertext)
	return err == nil && id != k.primaryID
}

// SealedKeyID reads the key id from a ciphertext's header.
func SealedKeyID(ciphertext []byte) (uint32, error) {
	if len(ciphertext) < Overhead {
		return 0, ErrCorrupt
	}
	if ciphertext[0] != formatV1 {
		return 0, fmt.Errorf("%w (unknown format %d)", ErrCorrupt, ciphertext[0])
	}
	return binary.BigEndian.Uint32(ciphertext[1:headerSize]), nil
}

// additional authenticates the header with the caller's aad, so neither can be swapped.
func additional(header, aad []byte) []byte {
	b := make([]byte, 0, len(header)+len(aad))
	return append(append(b, header...), aad...)
}

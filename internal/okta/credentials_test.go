package okta

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

func TestParsePrivateKey(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	smallRSA, _ := rsa.GenerateKey(rand.Reader, 1024)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	pemOf := func(typ string, der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
	}
	pkcs8 := func(k any) []byte { der, _ := x509.MarshalPKCS8PrivateKey(k); return der }
	sec1, _ := x509.MarshalECPrivateKey(ecKey)
	pubDER, _ := x509.MarshalPKIXPublicKey(rsaKey.Public())
	jwkPriv, _ := json.Marshal(jose.JSONWebKey{Key: rsaKey, KeyID: "jwk-kid", Algorithm: "RS256"})
	jwkPub, _ := json.Marshal(jose.JSONWebKey{Key: rsaKey.Public(), KeyID: "jwk-kid"})
	//nolint:staticcheck // legacy encrypted PEM is exactly what users paste and must be refused
	legacy := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00"}, Bytes: []byte{1, 2, 3}})

	ok := []struct {
		name, in string
		alg      jose.SignatureAlgorithm
		kid      string
	}{
		{"pkcs1 rsa", pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), jose.RS256, ""},
		{"pkcs8 rsa", pemOf("PRIVATE KEY", pkcs8(rsaKey)), jose.RS256, ""},
		{"sec1 ec", pemOf("EC PRIVATE KEY", sec1), jose.ES256, ""},
		{"pkcs8 ec", pemOf("PRIVATE KEY", pkcs8(ecKey)), jose.ES256, ""},
		{"pkcs8 p384", pemOf("PRIVATE KEY", pkcs8(p384)), jose.ES384, ""},
		{"jwk", string(jwkPriv), jose.RS256, "jwk-kid"},
		{"pem with surrounding whitespace", "\n\n" + pemOf("PRIVATE KEY", pkcs8(rsaKey)) + "\n", jose.RS256, ""},
	}
	for _, tc := range ok {
		k, err := ParsePrivateKey([]byte(tc.in))
		if err != nil || k.Alg != tc.alg || k.KeyID != tc.kid {
			t.Errorf("%s: key=%+v err=%v", tc.name, k, err)
		}
	}
	bad := []struct{ name, in, hint string }{
		{"empty", "", "give the PEM file"},
		{"not pem", "hello", "BEGIN PRIVATE KEY"},
		{"encrypted pkcs8", pemOf("ENCRYPTED PRIVATE KEY", []byte{1}), "openssl pkcs8 -topk8 -nocrypt"},
		{"legacy encrypted", string(legacy), "decrypt it first"},
		{"public key", pemOf("PUBLIC KEY", pubDER), "needs the private key"},
		{"certificate", pemOf("CERTIFICATE", []byte{1}), "needs the private key"},
		{"unknown block", pemOf("OPENSSH PRIVATE KEY", []byte{1}), "PKCS#8"},
		{"damaged pkcs8", pemOf("PRIVATE KEY", []byte{1, 2, 3}), "export the key again"},
		{"small rsa", pemOf("PRIVATE KEY", pkcs8(smallRSA)), "at least 2048"},
		{"ed25519", pemOf("PRIVATE KEY", pkcs8(edKey)), "use RSA (2048+) or EC P-256"},
		{"public jwk", string(jwkPub), "private JWK"},
		{"broken jwk", `{"kty":"RSA"`, "does not parse"},
	}
	for _, tc := range bad {
		_, err := ParsePrivateKey([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.hint) {
			t.Errorf("%s: err = %v, want it to say %q", tc.name, err, tc.hint)
		}
		if err != nil && strings.Contains(err.Error(), "MII") {
			t.Errorf("%s: error leaks key material", tc.name)
		}
	}
}

func TestCredentialsValidate(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	pemKey := Secret(pkcs8PEM(t, key))
	cases := []struct {
		c    Credentials
		hint string
	}{
		{Credentials{}, "give an API token"},
		{Credentials{APIToken: "a b"}, "whitespace"},
		{Credentials{APIToken: "x", ServiceApp: &ServiceApp{}}, "only one"},
		{Credentials{ServiceApp: &ServiceApp{KeyID: "k", PrivateKey: pemKey, Scopes: []string{"okta.logs.read"}}}, "client id"},
		{Credentials{ServiceApp: &ServiceApp{ClientID: "c", KeyID: "k", PrivateKey: pemKey}}, "okta.logs.read"},
		{Credentials{ServiceApp: &ServiceApp{ClientID: "c", KeyID: "k", PrivateKey: pemKey, Scopes: []string{"okta.logs.read okta.users.read"}}}, "one per entry"},
		{Credentials{ServiceApp: &ServiceApp{ClientID: "c", PrivateKey: pemKey, Scopes: []string{"okta.logs.read"}}}, "KID"},
	}
	for _, tc := range cases {
		err := tc.c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.hint) {
			t.Errorf("%v: err = %v, want %q", tc.c, err, tc.hint)
		}
	}
	if err := (Credentials{ServiceApp: &ServiceApp{ClientID: "c", KeyID: "k", PrivateKey: pemKey, Scopes: []string{"okta.logs.read"}}}).Validate(); err != nil {
		t.Error(err)
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	pemKey := pkcs8PEM(t, key)
	dk, _ := GenerateDPoPKey()
	const token = "00abcSECRETTOKENxyz"
	cfgs := []Config{
		{OrgURL: "https://acme.okta.com", Credentials: Credentials{APIToken: token}},
		{OrgURL: "https://acme.okta.com", DPoPKey: dk, Credentials: Credentials{ServiceApp: &ServiceApp{ClientID: "0oa1", KeyID: "k", PrivateKey: Secret(pemKey), Scopes: []string{"okta.logs.read"}}}},
	}
	for _, cfg := range cfgs {
		var buf bytes.Buffer
		log := slog.New(slog.NewJSONHandler(&buf, nil))
		log.Info("cfg", "config", cfg, "creds", cfg.Credentials, "token", cfg.Credentials.APIToken)
		outs := []string{buf.String()}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			outs = append(outs, fmt.Sprintf(verb, cfg), fmt.Sprintf(verb, cfg.Credentials), fmt.Sprintf(verb, cfg.Credentials.APIToken))
			if cfg.Credentials.ServiceApp != nil {
				outs = append(outs, fmt.Sprintf(verb, cfg.Credentials.ServiceApp), fmt.Sprintf(verb, *cfg.Credentials.ServiceApp))
			}
		}
		js, _ := json.Marshal(cfg.Credentials)
		outs = append(outs, string(js))
		for _, out := range outs {
			if strings.Contains(out, token) || strings.Contains(out, "PRIVATE KEY") || strings.Contains(out, "MII") || strings.Contains(out, dk.D.String()) {
				t.Fatalf("secret leaked: %s", out)
			}
		}
	}
}

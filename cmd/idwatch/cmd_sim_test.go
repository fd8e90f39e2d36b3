package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the command goroutine and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startCommand runs a long-running command in-process until the returned cancel is called.
func startCommand(t *testing.T, args ...string) (out *syncBuffer, stop func() int) {
	t.Helper()
	out = &syncBuffer{}
	errb := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, stdio{in: strings.NewReader(""), out: out, err: errb, log: slog.New(slog.NewTextHandler(errb, nil))}, args)
	}()
	return out, func() int {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Logf("stderr: %s", errb.String())
			}
			return code
		case <-time.After(30 * time.Second):
			t.Fatal("command did not stop after cancel")
			return -1
		}
	}
}

// waitFile waits for a file to appear, with a deadline.
func waitFile(t *testing.T, path string) []byte {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSimCommand(t *testing.T) {
	info := filepath.Join(t.TempDir(), "sim.json")
	out, stop := startCommand(t, "sim", "--listen", "127.0.0.1:0", "--info-file", info, "--history", "2h", "--users", "30", "--storylines", "2",
		"--fault", "kind=status,status=503,path=/api/v1/users,count=1")
	var got struct {
		OrgURL     string `json:"orgUrl"`
		APIToken   string `json:"apiToken"`
		ServiceApp struct {
			ClientID, KeyID, PrivateKeyPem string
			Scopes                         []string
		} `json:"serviceApp"`
	}
	if err := json.Unmarshal(waitFile(t, info), &got); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.OrgURL, "http://127.0.0.1:") || got.APIToken == "" || !strings.HasPrefix(got.ServiceApp.PrivateKeyPem, "-----BEGIN PRIVATE KEY-----") {
		t.Fatalf("info %+v", got)
	}
	req, _ := http.NewRequest(http.MethodGet, got.OrgURL+"/api/v1/logs?limit=5&since="+time.Now().Add(-3*time.Hour).UTC().Format(time.RFC3339), nil)
	req.Header.Set("Authorization", "SSWS "+got.APIToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var evs []map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&evs)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(evs) != 5 || len(resp.Header.Values("Link")) != 2 {
		t.Fatalf("logs: %d, %d events, links %q", resp.StatusCode, len(evs), resp.Header.Values("Link"))
	}
	req, _ = http.NewRequest(http.MethodGet, got.OrgURL+"/api/v1/users", nil)
	req.Header.Set("Authorization", "SSWS "+got.APIToken)
	if resp, err = http.DefaultClient.Do(req); err != nil || resp.StatusCode != 503 {
		t.Fatalf("--fault rule not active: %v %v", resp, err)
	}
	resp.Body.Close()
	if code := stop(); code != 0 {
		t.Fatalf("sim exited %d", code)
	}
	if s := out.String(); !strings.Contains(s, got.OrgURL) || !strings.Contains(s, got.APIToken) {
		t.Fatalf("banner lacks org URL or token: %s", s)
	}
}

func TestSimCommandRejectsBadUsers(t *testing.T) {
	code, _, errOut := runCLI(t, "", "sim", "--users", "0")
	if code != 2 || !strings.Contains(errOut, "--users") {
		t.Fatalf("bad --users: %d %s", code, errOut)
	}
}

func TestSimCommandRejectsBadFault(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), stdio{in: strings.NewReader(""), out: &out, err: &errb, log: slog.New(slog.DiscardHandler)},
		[]string{"sim", "--fault", "kind=slow"})
	if code != 2 || !strings.Contains(errb.String(), "delay") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	for _, args := range [][]string{{"--token-roles", "GOD"}, {"--app-omit-scopes", "okta.nope"}, {"--event-hook", "name=x"}} {
		errb.Reset()
		code := run(context.Background(), stdio{in: strings.NewReader(""), out: &out, err: &errb, log: slog.New(slog.DiscardHandler)},
			append([]string{"sim", "--listen", "127.0.0.1:0", "--history", "0"}, args...))
		if code != 2 {
			t.Errorf("%v: exit %d, stderr %q", args, code, errb.String())
		}
	}
}

// sim --org-url advertises a real-looking org on port 443; a client that maps the name to the
// listener and trusts the CA from --ca-file reaches it under that name.
func TestSimCommandAdvertisedOrgURL(t *testing.T) {
	dir := t.TempDir()
	info, caFile := filepath.Join(dir, "sim.json"), filepath.Join(dir, "ca.pem")
	out, stop := startCommand(t, "sim", "--listen", "127.0.0.1:0", "--info-file", info, "--ca-file", caFile, "--org-url", "https://acme.okta.com",
		"--history", "1h", "--users", "10", "--storylines", "0")
	var got struct {
		OrgURL   string `json:"orgUrl"`
		APIToken string `json:"apiToken"`
		Address  string `json:"address"`
		CAPem    string `json:"caPem"`
	}
	if err := json.Unmarshal(waitFile(t, info), &got); err != nil {
		t.Fatal(err)
	}
	caPEM := waitFile(t, caFile)
	if got.OrgURL != "https://acme.okta.com" || !strings.HasPrefix(got.Address, "127.0.0.1:") || got.CAPem != string(caPEM) {
		t.Fatalf("info %+v", got)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("CA file holds no certificate")
	}
	var dialled []string
	var mu sync.Mutex
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			mu.Lock()
			dialled = append(dialled, addr)
			mu.Unlock()
			return (&net.Dialer{}).DialContext(ctx, network, got.Address)
		}}}
	req, _ := http.NewRequest(http.MethodGet, "https://acme.okta.com/api/v1/logs?limit=3", nil)
	req.Header.Set("Authorization", "SSWS "+got.APIToken)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Link"), "<https://acme.okta.com/api/v1/logs?") {
		t.Fatalf("logs: %d, links %q", resp.StatusCode, resp.Header.Values("Link"))
	}
	mu.Lock()
	if len(dialled) != 1 || dialled[0] != "acme.okta.com:443" {
		t.Fatalf("dialled %v, want acme.okta.com:443", dialled)
	}
	mu.Unlock()
	if code := stop(); code != 0 {
		t.Fatalf("sim exited %d", code)
	}
	if s := out.String(); !strings.Contains(s, "https://acme.okta.com") || !strings.Contains(s, got.Address) {
		t.Fatalf("banner lacks the org URL or the listen address: %s", s)
	}
	if code, _, errOut := runCLI(t, "", "sim", "--listen", "127.0.0.1:0", "--history", "0", "--org-url", "http://acme.okta.com"); code != 2 || !strings.Contains(errOut, "https") {
		t.Fatalf("http org URL: exit %d, %s", code, errOut)
	}
}

// TestBusyPortNamesListen checks that sim and demo on a port already taken say to pass --listen.
func TestBusyPortNamesListen(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	for _, cmd := range []string{"sim", "demo"} {
		code, _, errOut := runCLI(t, "", cmd, "--listen", addr, "--history", "0", "--users", "1", "--storylines", "0")
		want := addr + " is in use; pass --listen 127.0.0.1:0"
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("%s on a busy port: exit %d, stderr %q; want exit 1 and %q", cmd, code, errOut, want)
		}
	}
}

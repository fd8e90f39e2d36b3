package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/oktasim"
)

// lineLog records each output line with the time it was written, so a test can tell when
// something appeared, not when it looked.
type lineLog struct {
	mu      sync.Mutex
	partial []byte
	lines   []timedLine
}

type timedLine struct {
	at   time.Time
	text string
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		l.lines = append(l.lines, timedLine{at: now, text: string(l.partial[:i])})
		l.partial = l.partial[i+1:]
	}
}

func (l *lineLog) snapshot() []timedLine {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]timedLine(nil), l.lines...)
}

func (l *lineLog) String() string {
	var b strings.Builder
	for _, x := range l.snapshot() {
		b.WriteString(x.text + "\n")
	}
	return b.String()
}

// waitFor polls cond every 100 ms until it holds, the demo exits, or the deadline passes.
func waitFor(t *testing.T, what string, deadline time.Time, exited <-chan int, out *lineLog, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case code := <-exited:
			t.Fatalf("demo exited with %d while waiting for %s:\n%s", code, what, out)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within the deadline:\n%s", what, out)
		}
	}
}

// alertRule finds the rule id in an ALERT line.
var alertRule = regexp.MustCompile(`  \[([^\]]+)\]`)

var liveLine = regexp.MustCompile(`^LIVE  storyline "([^"]+)" started now`)

// TestDemoConsole runs the README's first command in-process on a clean data directory: the
// console comes up, the key it prints signs in, both integrations reach "collecting", and the
// first alert of a storyline started after launch appears within a minute of launch. The alert
// is told from history and background traffic by its evidence: the demo marks an alert whose
// record names events of a live storyline (from the emulator's ground truth of the injection).
func TestDemoConsole(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo for up to a few minutes")
	}
	dir := t.TempDir()
	infoPath := filepath.Join(dir, "demo.json")
	out := &lineLog{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exited := make(chan int, 1)
	var logs syncBuffer
	std := stdio{in: strings.NewReader(""), out: out, err: io.Discard, log: slog.New(slog.NewTextHandler(&logs, nil))}
	launch := time.Now()
	go func() {
		exited <- run(ctx, std, []string{"demo", "--listen", "127.0.0.1:0", "--users", "60", "--data-dir", filepath.Join(dir, "data"),
			"--info-file", infoPath, "--status-every", "0", "--live-first", "5s"})
	}()
	defer func() {
		cancel()
		if code := <-exited; code != 0 {
			t.Errorf("demo exited with %d after cancel:\n%s", code, out)
		}
	}()

	// The info file appears once the console is up.
	var info demoInfo
	waitFor(t, "the info file", launch.Add(2*time.Minute), exited, out, func() bool {
		b, err := os.ReadFile(infoPath)
		return err == nil && json.Unmarshal(b, &info) == nil
	})
	if fi, err := os.Stat(infoPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("info file mode: %v %v", fi.Mode(), err)
	}
	if !strings.HasPrefix(info.ConsoleURL, "http://127.0.0.1:") || !strings.HasPrefix(info.APIKey, "idw_") || !strings.HasPrefix(info.OrgURL, "http://127.0.0.1:") {
		t.Fatalf("info file: %+v", info)
	}
	if printed := out.String(); !strings.Contains(printed, info.ConsoleURL) || !strings.Contains(printed, info.APIKey) {
		t.Errorf("the console URL and key are not printed:\n%s", printed)
	}
	t.Logf("console up %v after launch", time.Since(launch).Round(time.Millisecond))

	// Sign in with the printed key: a session cookie, then the integrations page.
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if res, err := c.PostForm(info.ConsoleURL+"login", url.Values{"key": {info.APIKey + "x"}}); err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("sign-in with a wrong key: %v %v", res, err)
	}
	res, err := c.PostForm(info.ConsoleURL+"login", url.Values{"key": {info.APIKey}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var session *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == "idwatch_session" {
			session = ck
		}
	}
	if res.StatusCode != http.StatusSeeOther || session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode {
		t.Fatalf("sign-in: %s, cookie %+v", res.Status, session)
	}
	page := func(path string) string {
		t.Helper()
		res, err := c.Get(info.ConsoleURL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s\n%s", path, res.Status, b)
		}
		return string(b)
	}
	if body := page("integrations"); !strings.Contains(body, ">acme<") || !strings.Contains(body, ">globex<") {
		t.Fatalf("integrations page lacks the demo's integrations:\n%.3000s", body)
	}
	waitFor(t, "both integrations collecting", launch.Add(2*time.Minute), exited, out, func() bool {
		return strings.Count(page("integrations/rows"), "Collecting") >= 2
	})

	// The first live alert.
	var live timedLine
	var name string
	waitFor(t, "a live storyline", launch.Add(2*time.Minute), exited, out, func() bool {
		for _, l := range out.snapshot() {
			if m := liveLine.FindStringSubmatch(l.text); m != nil {
				live, name = l, m[1]
				return true
			}
		}
		return false
	})
	var first timedLine
	mark := fmt.Sprintf("<- live storyline %q", name)
	waitFor(t, "the live storyline's first alert", launch.Add(3*time.Minute), exited, out, func() bool {
		for _, l := range out.snapshot() {
			if strings.HasPrefix(l.text, "ALERT ") && strings.HasSuffix(l.text, mark) && !l.at.Before(live.at) {
				first = l
				return true
			}
		}
		return false
	})
	took := first.at.Sub(launch)
	t.Logf("storyline started %v after launch; its first alert printed %v after launch: %s", live.at.Sub(launch).Round(time.Millisecond), took.Round(time.Millisecond), first.text)
	if took >= 60*time.Second {
		t.Errorf("first live alert %v after launch, want under 60 s", took)
	}

	if strings.Contains(logs.String(), info.APIKey) {
		t.Error("the admin key is in the log")
	}

	// The console in a browser, against a third emulated org added through its form.
	org := startSimOrg(t, oktasim.Config{})
	org.appendSimEvents(t, 0, 50, time.Now(), nil)
	rule := alertRule.FindStringSubmatch(first.text)
	if rule == nil {
		t.Fatalf("no rule id in %q", first.text)
	}
	t.Run("browser", func(t *testing.T) { browserTour(t, info.ConsoleURL, info.APIKey, org.url, org.token, rule[1]) })
}

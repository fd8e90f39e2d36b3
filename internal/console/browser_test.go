package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/idwatch/idwatch/internal/console"
	"github.com/idwatch/idwatch/internal/console/consoletest"
)

// chromiumPath finds Debian's headless-capable Chromium. Without it the browser tests skip loudly
// on a developer machine and fail in CI, where .ci/run installs it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	msg := "\n*** BROWSER TESTS NOT RUN: no Chromium at /usr/bin/chromium (install Debian's chromium, or set CHROMIUM) ***\n"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	fmt.Fprint(os.Stderr, msg)
	t.Skip(msg)
	return ""
}

// axeSource reads axe-core, installed from npm by .ci/run (or named by AXE_CORE_JS).
func axeSource(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("AXE_CORE_JS"), "testdata/node_modules/axe-core/axe.min.js"} {
		if p == "" {
			continue
		}
		if b, err := os.ReadFile(p); err == nil {
			return string(b)
		}
	}
	msg := "axe-core not found: run 'npm install --prefix internal/console/testdata --no-save axe-core@4.14.1' (as .ci/run does) or set AXE_CORE_JS"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	fmt.Fprintln(os.Stderr, "\n*** ACCESSIBILITY SCAN NOT RUN: "+msg+" ***")
	return ""
}

// screenshotDir is where page screenshots go: $ARTIFACTS/console, else testdata/screenshots.
func screenshotDir(t *testing.T) string {
	dir := filepath.Join("testdata", "screenshots")
	if a := os.Getenv("ARTIFACTS"); a != "" {
		dir = filepath.Join(a, "console")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// jsErrors collects uncaught exceptions, console.error calls and browser log errors (CSP
// violations arrive there).
type jsErrors struct {
	mu   sync.Mutex
	errs []string
}

func (j *jsErrors) add(s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.errs = append(j.errs, s)
}

func (j *jsErrors) list() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]string(nil), j.errs...)
}

func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	exe := chromiumPath(t)
	axe := axeSource(t)
	shots := screenshotDir(t)

	now := time.Now()
	fake := consoletest.New(func() time.Time { return now })
	fake.CheckGap = 120 * time.Millisecond
	h, err := console.New(console.Options{Backend: fake})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Flag("headless", "new"), chromedp.DisableGPU, chromedp.WindowSize(1280, 800), chromedp.Flag("lang", "en-US"))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelT()

	var errs jsErrors
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	// The first Run starts the browser; the console is watched from then on.
	// The browser lives as long as the context of the first Run, so that one is not given a step timeout.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start browser: %v", err)
	}
	msgs := chromedp.Console(ctx)
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				errs.add(m.String() + " " + m.URL)
			}
		}
	}()
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	eval := func(expr string) int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return n
	}
	scan := func(page string) {
		t.Helper()
		if axe == "" {
			return
		}
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axe+";true")); err != nil {
			t.Fatalf("inject axe on %s: %v", page, err)
		}
		out, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))))`,
			chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("axe on %s: %v", page, err)
		}
		var vs []struct {
			ID, Impact, Help string
			Nodes            []string
		}
		if err := json.Unmarshal([]byte(out), &vs); err != nil {
			t.Fatalf("axe %s: %v: %s", page, err, out)
		}
		for _, v := range vs {
			if v.Impact == "serious" || v.Impact == "critical" {
				t.Errorf("axe on %s: %s (%s): %s at %v", page, v.ID, v.Impact, v.Help, v.Nodes)
			} else {
				t.Logf("axe on %s (minor): %s (%s): %s at %v", page, v.ID, v.Impact, v.Help, v.Nodes)
			}
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
	}

	// Sign in.
	do("login page", chromedp.Navigate(srv.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("#key")))
	shot("01-login")
	scan("login")
	do("sign in", chromedp.SendKeys(chromedp.CSS("#key"), consoletest.AdminKey), chromedp.Submit(chromedp.CSS("#key")),
		chromedp.WaitVisible(chromedp.CSS("#int-rows")))
	if got := text("h1"); !strings.Contains(got, "Integrations") {
		t.Fatalf("after sign-in: h1 %q", got)
	}

	// Add an integration through the form: the checklist streams in and the row appears, collecting.
	const pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"
	do("add integration",
		chromedp.SendKeys(chromedp.CSS("#name"), "lab-org"),
		chromedp.SendKeys(chromedp.CSS("#org_url"), "https://lab.okta.com"),
		chromedp.SendKeys(chromedp.CSS("#client_id"), "0oalab123"),
		chromedp.SendKeys(chromedp.CSS("#private_key"), pem),
		chromedp.Click(chromedp.CSS(`.addform button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#verify .check`)))
	partial := eval(`document.querySelectorAll("#verify .check-pass, #verify .check-warn").length`)
	do("checklist done", chromedp.WaitVisible(chromedp.CSS(`#verify .okbox`)))
	checks := eval(`document.querySelectorAll("#verify .check-pass, #verify .check-warn").length`)
	if checks != 7 || partial >= checks {
		t.Errorf("checklist: %d checks at first sight, %d at the end; want it to grow to 7", partial, checks)
	}
	if got := text("#int-rows"); !strings.Contains(got, "lab-org") || !strings.Contains(got, "Collecting") {
		t.Errorf("integrations table after adding: %q", got)
	}
	if got := text("#verify .check-warn .fix"); !strings.Contains(got, "Okta API Scopes") {
		t.Errorf("warning without its fix: %q", got)
	}
	// The form is cleared once the integration is added, so the key does not stay on the page.
	if n := eval(`document.querySelector("#private_key").value.length + document.querySelector("#name").value.length`); n != 0 {
		t.Errorf("add form still holds %d characters of the name and key after adding", n)
	}
	shot("02-integrations-added")
	scan("integrations")

	// A wrong key: the credential check fails with its fix, and nothing is added.
	do("add with wrong key",
		chromedp.SendKeys(chromedp.CSS("#name"), "bad-key"),
		chromedp.SendKeys(chromedp.CSS("#org_url"), "https://lab.okta.com"),
		chromedp.SendKeys(chromedp.CSS("#client_id"), "0oalab123"),
		chromedp.SetValue(chromedp.CSS("#private_key"), "-----BEGIN PRIVATE KEY-----\n"+consoletest.WrongKeyMarker+"\n-----END PRIVATE KEY-----"),
		chromedp.Click(chromedp.CSS(`.addform button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#verify .check-fail`)),
		chromedp.WaitVisible(chromedp.CSS(`#verify .errbox`)))
	if got := text("#verify .check-fail"); !strings.Contains(got, "Credentials") || !strings.Contains(got, "Fix:") || !strings.Contains(got, "Public Keys") {
		t.Errorf("failing check: %q", got)
	}
	if got := text("#int-rows"); strings.Contains(got, "bad-key") {
		t.Errorf("an integration that failed verification was added: %q", got)
	}
	shot("03-integration-wrong-key")

	// Integration detail with its charts.
	do("integration detail", chromedp.Navigate(srv.URL+"/integrations/1"), chromedp.WaitVisible(chromedp.CSS("svg.bars")))
	shot("04-integration-detail")
	scan("integration detail")

	// A storyline raises an alert while the console is open; open it and read its evidence.
	fake.RaiseAlert(consoletest.PushFatigueAlert("al-live", "pat.kim@acme.com", now))
	do("alerts", chromedp.Navigate(srv.URL+"/alerts"), chromedp.WaitVisible(chromedp.CSS(`a[href="/alerts/al-live"]`)))
	shot("05-alerts")
	scan("alerts")
	do("open alert", chromedp.Click(chromedp.CSS(`a[href="/alerts/al-live"]`)), chromedp.WaitVisible(chromedp.CSS("details.evidence")),
		chromedp.Click(chromedp.CSS("details.evidence summary")), chromedp.WaitVisible(chromedp.CSS("details.evidence .jsonpair pre")))
	if got := text("details.evidence .jsonpair"); !strings.Contains(got, "user.authentication.auth_via_mfa") || !strings.Contains(got, `"class_uid": 3002`) {
		t.Errorf("evidence raw/OCSF: %.200q", got)
	}
	if got := text(".techs"); !strings.Contains(got, "T1621") {
		t.Errorf("ATT&CK: %q", got)
	}
	do("acknowledge", chromedp.Click(chromedp.CSS(`form input[value=ack] + button`)), chromedp.WaitVisible(chromedp.CSS(".flash")))
	shot("06-alert-detail")
	scan("alert detail")

	// Search events and expand one.
	do("events", chromedp.Navigate(srv.URL+"/events"), chromedp.WaitVisible(chromedp.CSS("#e-type")),
		chromedp.SendKeys(chromedp.CSS("#e-type"), "user.session.*"), chromedp.SetValue(chromedp.CSS("#e-out"), "FAILURE"),
		chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)),
		// The results page carries the filter back in the field's value attribute.
		chromedp.WaitVisible(chromedp.CSS(`#e-type[value="user.session.*"]`)), chromedp.WaitVisible(chromedp.CSS("details.evrow")))
	rows := eval(`document.querySelectorAll("details.evrow").length`)
	if got := text(".histo figcaption"); rows == 0 || !strings.Contains(got, fmt.Sprint(rows)) {
		t.Errorf("search: %d rows, caption %q", rows, got)
	}
	do("expand event", chromedp.Click(chromedp.CSS("details.evrow summary")), chromedp.WaitVisible(chromedp.CSS("details.evrow[open] pre")))
	if got := text("details.evrow[open]"); !strings.Contains(got, "INVALID_CREDENTIALS") {
		t.Errorf("expanded event: %.200q", got)
	}
	shot("07-events")
	scan("events")

	// Upload a bad rule: the error is shown on its line.
	bad := "title: Suspicious admin grant\nlogsource:\n  product: okta\ndetection:\n  selection:\n    eventType: user.account.privilege.grant\n  condition: selction\n"
	do("upload bad rule", chromedp.Navigate(srv.URL+"/rules"), chromedp.WaitVisible(chromedp.CSS("#rule")),
		chromedp.SetValue(chromedp.CSS("#rule"), bad), chromedp.Click(chromedp.CSS(`form.addform button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("li.src-bad")))
	if got := text("li.src-bad"); !strings.Contains(got, "line 7") || !strings.Contains(got, "selction") {
		t.Errorf("error line: %q", got)
	}
	shot("08-rules-bad-upload")
	scan("rules")

	do("sinks", chromedp.Navigate(srv.URL+"/sinks"), chromedp.WaitVisible(chromedp.CSS("h1")))
	shot("09-sinks")
	scan("sinks")
	do("settings", chromedp.Navigate(srv.URL+"/settings"), chromedp.WaitVisible(chromedp.CSS("#k-name")))
	shot("10-settings")
	scan("settings")

	// Incidents: the list by risk, then the top one's timeline, assigned from its form.
	do("incidents", chromedp.Navigate(srv.URL+"/incidents"), chromedp.WaitVisible(chromedp.CSS(`tbody th a[href^="/incidents/"]`)))
	shot("13-incidents")
	scan("incidents")
	do("incident", chromedp.Click(chromedp.CSS(`tbody th a[href^="/incidents/"]`)), chromedp.WaitVisible(chromedp.CSS(`.timeline`)),
		chromedp.SetValue(chromedp.CSS("#inc-assignee"), "ann"), chromedp.SendKeys(chromedp.CSS("#inc-note"), "taking this"),
		chromedp.Submit(chromedp.CSS("#inc-note")), chromedp.WaitVisible(chromedp.CSS(`.flash`)))
	if got := text(".notes"); !strings.Contains(got, "taking this") {
		t.Errorf("incident history after the change: %q", got)
	}
	shot("14-incident")
	scan("incident")

	// Responses: the list, and a rule's proposal waiting for a decision.
	do("responses", chromedp.Navigate(srv.URL+"/responses"), chromedp.WaitVisible(chromedp.CSS(`a[href="/responses/ra-pending1"]`)))
	shot("15-responses")
	scan("responses")
	do("pending response", chromedp.Click(chromedp.CSS(`a[href="/responses/ra-pending1"]`)), chromedp.WaitVisible(chromedp.CSS(`button[value=approve]`)))
	shot("16-response-pending")
	scan("response")
	do("identities", chromedp.Navigate(srv.URL+"/identities"), chromedp.WaitVisible(chromedp.CSS("#id-q")))
	shot("17-identities")
	scan("identities")
	do("posture", chromedp.Navigate(srv.URL+"/posture"), chromedp.WaitVisible(chromedp.CSS("h1")))
	shot("18-posture")
	scan("posture")

	// Phone width.
	do("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile), chromedp.Navigate(srv.URL+"/integrations"), chromedp.WaitVisible(chromedp.CSS("h1")))
	shot("11-integrations-phone")
	do("phone alerts", chromedp.Navigate(srv.URL+"/alerts"), chromedp.WaitVisible(chromedp.CSS("h1")))
	shot("12-alerts-phone")

	cancel()
	<-watchDone
	if e := errs.list(); len(e) > 0 {
		t.Errorf("JavaScript errors in the browser:\n%s", strings.Join(e, "\n"))
	}
	t.Logf("screenshots in %s", shots)
}

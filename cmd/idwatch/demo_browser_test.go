package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds Debian's Chromium: without it the browser test skips loudly, and fails when
// CI=true (.ci/run installs it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	msg := "\n*** BROWSER TEST NOT RUN: no Chromium at /usr/bin/chromium (install Debian's chromium, or set CHROMIUM) ***\n"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	fmt.Fprint(os.Stderr, msg)
	t.Skip(msg)
	return ""
}

// axeCore reads axe-core as the console package's tests install it (or AXE_CORE_JS).
func axeCore(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("AXE_CORE_JS"), "../../internal/console/testdata/node_modules/axe-core/axe.min.js"} {
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

// browserTour drives the running demo's console in headless Chromium: sign in with the printed
// key; add an integration through the form against a real emulated org and watch the checklist
// and the table reach "collecting"; add one with a wrong token and see the failing check with
// its fix; open the newest alert of liveRule (a storyline started during the test) and see its
// evidence raw and as OCSF; search events and see the results and their histogram; no
// JavaScript errors; axe finds nothing serious or critical; screenshots of each step go to
// $ARTIFACTS/demo or testdata/screenshots.
func browserTour(t *testing.T, base, key, orgURL, token, liveRule string) {
	exe := chromium(t)
	axe := axeCore(t)
	shots := filepath.Join("testdata", "screenshots")
	if a := os.Getenv("ARTIFACTS"); a != "" {
		shots = filepath.Join(a, "demo")
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Flag("headless", "new"), chromedp.DisableGPU, chromedp.WindowSize(1280, 800), chromedp.Flag("lang", "en-US"))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 4*time.Minute)
	defer cancelT()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start browser: %v", err)
	}
	var mu sync.Mutex
	var jsErrs []string
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				mu.Lock()
				jsErrs = append(jsErrs, m.String()+" "+m.URL)
				mu.Unlock()
			}
		}
	}()
	// Steps wait on conditions; the bound is generous for a loaded machine.
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
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
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
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
			}
		}
	}
	// rowState waits until the integrations table shows name in state (the table refreshes
	// itself every 10 s; a reload is not needed).
	rowState := func(name, state string) {
		t.Helper()
		do("row "+name+" "+state, chromedp.Poll[chromedp.Void](fmt.Sprintf(`[...document.querySelectorAll("#int-rows tr")].some(r => r.textContent.includes(%q) && r.textContent.includes(%q))`, name, state),
			chromedp.WithPollingInterval(250*time.Millisecond), chromedp.WithPollingTimeout(85*time.Second)))
	}

	do("login page", chromedp.Navigate(base+"login"), chromedp.WaitVisible(chromedp.CSS("#key")))
	shot("demo-01-login")
	scan("login")
	do("sign in", chromedp.SendKeys(chromedp.CSS("#key"), key), chromedp.Submit(chromedp.CSS("#key")), chromedp.WaitVisible(chromedp.CSS("#int-rows")))
	rowState("acme", "Collecting")
	rowState("globex", "Collecting")
	shot("demo-02-integrations")
	scan("integrations")

	// Add an integration through the form against a real emulated org.
	do("add integration",
		chromedp.SendKeys(chromedp.CSS("#name"), "lab"),
		chromedp.SendKeys(chromedp.CSS("#org_url"), orgURL),
		chromedp.Click(chromedp.CSS("#auth-token")),
		chromedp.SendKeys(chromedp.CSS("#api_token"), token),
		chromedp.Click(chromedp.CSS(`.addform button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#verify .check`)),
		chromedp.WaitVisible(chromedp.CSS(`#verify .okbox`)))
	if got := text("#verify"); !strings.Contains(got, "System Log access") || !strings.Contains(got, "Credentials") {
		t.Errorf("checklist: %q", got)
	}
	rowState("lab", "Collecting")
	shot("demo-03-integration-added")
	scan("integrations after adding")

	// A wrong token: the credentials check fails with its fix, and nothing is added.
	do("add with a wrong token",
		chromedp.SendKeys(chromedp.CSS("#name"), "lab-wrong"),
		chromedp.SendKeys(chromedp.CSS("#org_url"), orgURL),
		chromedp.Click(chromedp.CSS("#auth-token")),
		chromedp.SendKeys(chromedp.CSS("#api_token"), "00wrongTokenWrongTokenWrongToken0000000000"),
		chromedp.Click(chromedp.CSS(`.addform button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#verify .check-fail`)),
		chromedp.WaitVisible(chromedp.CSS(`#verify .errbox`)))
	if got := text("#verify .check-fail"); !strings.Contains(got, "Credentials") || !strings.Contains(got, "Fix:") {
		t.Errorf("failing check: %q", got)
	}
	if got := text("#int-rows"); strings.Contains(got, "lab-wrong") {
		t.Errorf("an integration that failed verification was added: %q", got)
	}
	shot("demo-04-integration-wrong-token")
	scan("integrations with a failed check")

	do("integration detail", chromedp.Navigate(base+"integrations/acme"), chromedp.WaitVisible(chromedp.CSS("svg.bars")))
	shot("demo-05-integration-detail")
	scan("integration detail")

	// The live storyline's alert: the list filtered to its rule, then its evidence.
	do("alerts of the live rule", chromedp.Navigate(base+"alerts?rule="+url.QueryEscape(liveRule)),
		chromedp.WaitVisible(chromedp.CSS(`tbody th a[href*="/alerts/"]`)))
	shot("demo-06-alerts")
	scan("alerts")
	do("open the alert", chromedp.Click(chromedp.CSS(`tbody th a[href*="/alerts/"]`)), chromedp.WaitVisible(chromedp.CSS(`details.evidence summary`)))
	if got := text(".pagehead .sub"); !strings.Contains(got, liveRule) {
		t.Errorf("alert page of another rule: %q", got)
	}
	do("expand evidence", chromedp.Click(chromedp.CSS(`details.evidence summary`)), chromedp.WaitVisible(chromedp.CSS(`details.evidence[open] pre`)))
	if got := text(`details.evidence[open]`); !strings.Contains(got, `"eventType"`) || !strings.Contains(got, `"class_uid"`) {
		t.Errorf("evidence without its raw event and OCSF record: %.400q", got)
	}
	shot("demo-07-alert")
	scan("alert")

	// Event search: the last day's sign-ins, a table and the histogram of the match.
	do("search events", chromedp.Navigate(base+"events"), chromedp.WaitVisible(chromedp.CSS("#e-type")),
		chromedp.SendKeys(chromedp.CSS("#e-type"), "user.session.*"), chromedp.Submit(chromedp.CSS("#e-type")),
		chromedp.WaitVisible(chromedp.CSS(`.evitems details.evrow`)), chromedp.WaitVisible(chromedp.CSS(`.histo svg`)))
	if got := text(".histo figcaption"); strings.HasPrefix(got, "0 ") {
		t.Errorf("histogram caption: %q", got)
	}
	if got := text(`.evitems details.evrow summary`); !strings.Contains(got, "user.session.") {
		t.Errorf("first result: %q", got)
	}
	shot("demo-08-events")
	scan("events")

	// Incidents: the storylines' alerts grouped, highest risk first, and one timeline.
	do("incidents", chromedp.Navigate(base+"incidents"), chromedp.WaitVisible(chromedp.CSS(`tbody th a[href*="/incidents/"]`)))
	shot("demo-09-incidents")
	scan("incidents")
	do("incident timeline", chromedp.Click(chromedp.CSS(`tbody th a[href*="/incidents/"]`)), chromedp.WaitVisible(chromedp.CSS(`.timeline .tlhead a`)))
	if got := text(".timeline"); !strings.Contains(got, "risk:") {
		t.Errorf("timeline without the alerts' contributions: %.300q", got)
	}
	shot("demo-10-incident")
	scan("incident")

	// Rules: a rule with a typo on line 9 is refused with the line marked; nothing is stored.
	bad := "title: Impersonation granted\nid: 5b8f8f5e-2f55-4c64-9a8e-0d6d7d0d9c11\nlevel: high\nlogsource:\n    product: okta\ndetection:\n" +
		"    selection:\n        eventType: user.session.impersonation.grant\n    condition: selectoin\n"
	do("upload a bad rule", chromedp.Navigate(base+"rules"), chromedp.WaitVisible(chromedp.CSS("#rule")),
		chromedp.SetValue(chromedp.CSS("#rule"), bad), chromedp.Submit(chromedp.CSS("#rule")), chromedp.WaitVisible(chromedp.CSS("#upload-result .src-bad")))
	if got := text("#upload-result"); !strings.Contains(got, "Not stored") || !strings.Contains(got, "line 9") {
		t.Errorf("bad rule upload: %.400q", got)
	}
	shot("demo-11-rules-bad-upload")
	scan("rules")

	cancel()
	<-watchDone
	mu.Lock()
	defer mu.Unlock()
	if len(jsErrs) > 0 {
		t.Errorf("JavaScript errors in the browser:\n%s", strings.Join(jsErrs, "\n"))
	}
	t.Logf("screenshots in %s", shots)
}

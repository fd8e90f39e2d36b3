package main

import (
	"encoding/json"
	"strings"
	"testing"
)

const (
	sessionStart = `{"uuid":"u-1","published":"2025-03-10T14:02:11.512Z","eventType":"user.session.start","version":"0","severity":"INFO","displayMessage":"User login to Okta","actor":{"id":"00u1","type":"User","alternateId":"jdoe@acme.com","displayName":"Jane Doe"},"client":{"ipAddress":"198.51.100.23","zone":"null"},"outcome":{"result":"SUCCESS"},"transaction":{"type":"WEB","id":"t1"}}`
	sso          = `{"uuid":"u-2","published":"2025-03-10T14:03:00Z","eventType":"user.authentication.sso","version":"0","severity":"INFO","actor":{"id":"00u1","type":"User","alternateId":"jdoe@acme.com"},"target":[{"id":"0oa1","type":"AppInstance","displayName":"Salesforce.com"}],"debugContext":{"debugData":{"signOnMode":"SAML 2.0"}},"outcome":{"result":"SUCCESS"}}`
)

func decodeLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("output line is not JSON: %v\n%s", err, line)
		}
		recs = append(recs, m)
	}
	return recs
}

func TestNormalizeCommand(t *testing.T) {
	in := sessionStart + "\n\n" + `{"uuid":` + "\n" + `[1]` + "\n" + sso + "\n"
	code, out, errOut := runCLI(t, in, "normalize", "--tenant", "acme-okta")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (bad lines); stderr %s", code, errOut)
	}
	for _, want := range []string{"line 3: invalid JSON", "line 4: not an Okta System Log event", "2 of 4 input lines were skipped"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	recs := decodeLines(t, out)
	if len(recs) != 3 { // session.start: auth; sso: auth + generic
		t.Fatalf("%d records, want 3:\n%s", len(recs), out)
	}
	var labels []string
	for _, r := range recs {
		md := r["metadata"].(map[string]any)
		if md["tenant_uid"] != "acme-okta" || r["raw_data"] == nil {
			t.Errorf("record lacks tenant or raw_data: %v", md)
		}
		for _, l := range md["labels"].([]any) {
			labels = append(labels, l.(string))
		}
	}
	want := "schema:auth routing:listed schema:auth routing:listed schema:generic routing:listed"
	if got := strings.Join(labels, " "); got != want {
		t.Errorf("labels %q, want %q", got, want)
	}
	if recs[1]["auth_protocol_id"] != float64(5) {
		t.Errorf("sso auth_protocol_id = %v, want 5 (SAML)", recs[1]["auth_protocol_id"])
	}
}

func TestNormalizeCommandFormats(t *testing.T) {
	code, out, errOut := runCLI(t, sso+"\n", "normalize", "--format", "raw")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	recs := decodeLines(t, out)
	if len(recs) != 2 || recs[0]["schema"] != "auth" || recs[1]["schema"] != "generic" || recs[0]["routing"] != "listed" {
		t.Fatalf("raw records: %s", out)
	}
	if ev := recs[0]["event"].(map[string]any); ev["uuid"] != "u-2" {
		t.Errorf("raw record does not carry the event: %v", ev)
	}

	code, out, _ = runCLI(t, sessionStart, "normalize", "--no-raw-data")
	if code != 0 || strings.Contains(out, "raw_data") || len(decodeLines(t, out)) != 1 {
		t.Fatalf("--no-raw-data: exit %d, out %s", code, out)
	}

	code, out, _ = runCLI(t, `{"uuid":"u-3","published":"2025-03-10T14:03:00Z","eventType":"user.risk.change"}`, "normalize", "--format", "raw")
	if code != 0 || !strings.Contains(out, `"routing":"inferred"`) || !strings.Contains(out, `"schema":"generic"`) {
		t.Fatalf("inferred routing: exit %d, out %s", code, out)
	}

	code, _, errOut = runCLI(t, "", "normalize", "--format", "ecs")
	if code != 2 || !strings.Contains(errOut, `--format "ecs": want ocsf or raw`) {
		t.Fatalf("bad format: exit %d, stderr %s", code, errOut)
	}
	code, _, errOut = runCLI(t, "", "normalize", "events.jsonl")
	if code != 2 || !strings.Contains(errOut, "read from standard input") {
		t.Fatalf("positional arg: exit %d, stderr %s", code, errOut)
	}
	code, out, _ = runCLI(t, "", "normalize")
	if code != 0 || out != "" {
		t.Fatalf("empty input: exit %d, out %q", code, out)
	}
}

// TestNormalizeCommandExportedEvent: an event as other tools export it (keys in another case, a
// time without zone, debugData of the wrong type) is normalized, with a warning naming what was
// not read, and the run succeeds.
func TestNormalizeCommandExportedEvent(t *testing.T) {
	in := `{"UUID":"u-3","eventtype":"user.session.start","published":"2022-11-22 18:48:49.177","debugContext":{"debugData":""}}` + "\n"
	code, out, errOut := runCLI(t, in, "normalize")
	if code != 0 {
		t.Fatalf("exit %d; stderr %s", code, errOut)
	}
	if want := `line 1: event "u-3" kept with a field it could not read (in unmapped.unreadable_fields): debugContext.debugData: want an object, got a string: ""`; !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}
	recs := decodeLines(t, out)
	if len(recs) != 1 || recs[0]["time"] != float64(1669142929177) || recs[0]["unmapped"].(map[string]any)["unreadable_fields"] == nil {
		t.Fatalf("records:\n%s", out)
	}
}

// bigEvent is a log-stream deletion (an event the built-in rules alert on) padded to over size
// bytes with a long displayMessage, as an export of a journal holding such an event has it.
func bigEvent(uuid string, size int) string {
	return `{"uuid":"` + uuid + `","published":"2025-01-01T00:00:00Z","eventType":"system.log_stream.lifecycle.delete","actor":{"alternateId":"a@example.com"},"displayMessage":"` +
		strings.Repeat("m", size) + `"}`
}

// TestLongLinesNormalizeAndReplay: both commands read lines far over 4 MiB, and report a line
// over --max-line-mib with its number and go on with the next, the same way.
func TestLongLinesNormalizeAndReplay(t *testing.T) {
	in := bigEvent("big-1", 5<<20) + "\n" + bigEvent("big-2", 2<<20) + "\n" + bigEvent("small-3", 10) + "\n"
	code, out, errOut := runCLI(t, in, "normalize", "--no-raw-data")
	if code != 0 || len(decodeLines(t, out)) != 3 {
		t.Fatalf("normalize: exit %d, %d bytes out, stderr %s", code, len(out), errOut)
	}
	code, out, errOut = runCLI(t, in, "replay", "-")
	if code != 0 || strings.Count(out, "\n") != 3 {
		t.Fatalf("replay: exit %d, want 3 findings, got:\n%.500s\nstderr %s", code, out, errOut)
	}

	for _, cmd := range [][]string{{"normalize", "--no-raw-data", "--max-line-mib", "1"}, {"replay", "--max-line-mib", "1", "-"}} {
		code, out, errOut = runCLI(t, in, cmd...)
		if code != 1 {
			t.Errorf("%s: exit %d, want 1 (lines skipped)", cmd[0], code)
		}
		for _, want := range []string{"idwatch " + cmd[0] + ": line 1: line too long: longer than 1048576 bytes", "line 2: line too long", "2 of 3 input lines were skipped"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("%s: stderr lacks %q:\n%s", cmd[0], want, errOut)
			}
		}
		if !strings.Contains(out, "small-3") || strings.Contains(out, "big-") {
			t.Errorf("%s: the line after the long ones was not processed alone:\n%.300s", cmd[0], out)
		}
	}
	code, _, errOut = runCLI(t, "", "replay", "--max-line-mib", "0", "-")
	if code != 2 || !strings.Contains(errOut, "--max-line-mib 0: want 1 to") {
		t.Errorf("bad limit: exit %d, stderr %s", code, errOut)
	}
}

package normalize

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/event"
)

const (
	docPath  = "../../docs/normalization.md"
	docBegin = "<!-- BEGIN GENERATED: go test ./internal/normalize -update -->"
	docEnd   = "<!-- END GENERATED -->"
)

// TestDocsNormalization keeps the tables of docs/normalization.md equal to the code's tables.
func TestDocsNormalization(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	begin, end := bytes.Index(doc, []byte(docBegin)), bytes.Index(doc, []byte(docEnd))
	if begin < 0 || end < begin {
		t.Fatalf("%s lacks the %q … %q markers", docPath, docBegin, docEnd)
	}
	gen := generatedDoc(t)
	got := string(doc[begin+len(docBegin) : end])
	if got == gen {
		return
	}
	if *update {
		out := slices.Concat(doc[:begin+len(docBegin)], []byte(gen), doc[end:])
		if err := os.WriteFile(docPath, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s is out of date with the routing tables; run go test ./internal/normalize -update", docPath)
}

func generatedDoc(t *testing.T) string {
	var b strings.Builder
	cls := newClassifier()
	className := func(typ string) string {
		c, a := cls.classify(typ)
		act := classes[c].activities[a]
		if a == ActivityOther {
			act = "Other"
		}
		return fmt.Sprintf("%s %d (%s %d)", classes[c].name, c, act, a)
	}

	b.WriteString("\n### Listed routing (required; `routing:listed`)\n\n")
	b.WriteString("| # | schema | event type | OCSF class (activity) | note |\n|---|---|---|---|---|\n")
	for i, row := range ListedTable {
		fmt.Fprintf(&b, "| %d | %s | `%s` | %s | %s |\n", i+1, row.Schema, row.Type, className(row.Type), row.Note)
	}

	b.WriteString("\n### Family routing for every other type (`routing:inferred`)\n\n")
	b.WriteString("First matching prefix wins; the listed table always wins over it.\n\n")
	b.WriteString("| prefix | schema | note |\n|---|---|---|\n")
	for _, row := range FamilyTable {
		fmt.Fprintf(&b, "| `%s*` | %s | %s |\n", row.Prefix, row.Schema, row.Note)
	}
	b.WriteString("| anything else | generic | |\n")

	b.WriteString("\n### OCSF class of an event type\n\n")
	b.WriteString("Exact types first, then prefixes (`*`) in this order; anything else is API Activity 6003. ")
	b.WriteString("Activity `verb` means: from the type's last segment (`…create` → Create, …), else Other 99.\n\n")
	b.WriteString("| event type | OCSF class | activity |\n|---|---|---|\n")
	for _, row := range ClassTable {
		act := "verb"
		if row.Activity != 0 {
			act = fmt.Sprintf("%s %d", classes[row.Class].activities[row.Activity], row.Activity)
			if row.Activity == ActivityOther {
				act = "Other 99"
			}
		}
		fmt.Fprintf(&b, "| `%s` | %s %d | %s |\n", row.Match, classes[row.Class].name, row.Class, act)
	}

	b.WriteString("\n### `outcome.result` → `status_id` / `status`\n\n")
	b.WriteString("`status_code` keeps Okta's value verbatim and `status_detail` holds `outcome.reason`. ")
	b.WriteString("Detection Finding records use the finding status instead (`status_id` 1 New).\n\n")
	b.WriteString("| outcome.result | status_id | status |\n|---|---|---|\n")
	for _, r := range []string{"SUCCESS", "ALLOW", "FAILURE", "DENY", "RATE_LIMIT", "UNANSWERED", "UNKNOWN", "SKIPPED",
		"CHALLENGE", "DEFERRED", "SCHEDULED", "ABANDONED"} {
		st := OutcomeStatus[r]
		fmt.Fprintf(&b, "| %s | %d | %s |\n", r, st.ID, st.Name)
	}
	b.WriteString("| (absent) | 0 | Unknown |\n")

	raw, err := os.ReadFile("testdata/golden/listed-user.authentication.sso.json")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := event.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	rec := New().Normalize(ev, testMeta)[0]
	enc, err := rec.AppendJSON(nil, EncodeOptions{OmitRawData: true})
	if err != nil {
		t.Fatal(err)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, enc, "", "  "); err != nil {
		t.Fatal(err)
	}
	b.WriteString("\n### Example: `user.authentication.sso`, its auth record (`raw_data` left out)\n\n")
	b.WriteString("Input: `internal/normalize/testdata/golden/listed-user.authentication.sso.json`; ")
	b.WriteString("both records with `raw_data`: the `.golden` file beside it.\n\n```json\n")
	b.Write(pretty.Bytes())
	b.WriteString("\n```\n\n")
	return b.String()
}

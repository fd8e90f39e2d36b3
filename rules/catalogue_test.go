package rules

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/detect"
	"github.com/idwatch/idwatch/internal/detect/sigma"
)

// catalogueFile is the generated catalogue of the built-in detections, relative to this package.
const catalogueFile = "../docs/detections.md"

// detection is one alerting built-in rule as the catalogue lists it.
type detection struct {
	area, id, title, level, kind, attack string
	stateful                             bool
}

// detections returns the built-in rules that raise alerts (helper rules that only feed a
// correlation are left out), sorted by area and title.
func detections(t *testing.T) []detection {
	t.Helper()
	files, err := detect.LoadFS(FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := detect.Compile(files)
	if err != nil {
		t.Fatal(err)
	}
	var out []detection
	for _, r := range rs.Rules() {
		if !rs.Alerting(r) {
			continue
		}
		d := detection{area: path.Dir(r.File), id: r.ID, title: r.Title, level: r.Level, kind: kindOf(r), stateful: r.Correlation != nil}
		if d.level == "" {
			d.level = "medium"
		}
		var tags []string
		for _, tag := range r.Tags {
			if v, ok := strings.CutPrefix(tag, "attack."); ok {
				tags = append(tags, v)
			}
		}
		d.attack = strings.Join(tags, ", ")
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b detection) int {
		if c := strings.Compare(a.area, b.area); c != 0 {
			return c
		}
		return strings.Compare(a.title, b.title)
	})
	return out
}

// kindOf names the rule's type: the correlation type, or the log source a single-event rule reads.
func kindOf(r *sigma.Rule) string {
	if r.Correlation != nil {
		return r.Correlation.Type
	}
	if s := r.Logsource.Schema(); s != "" {
		return "event (normalized " + s + ")"
	}
	return "event"
}

// renderCatalogue writes the catalogue as Markdown.
func renderCatalogue(ds []detection) []byte {
	var b bytes.Buffer
	corr, areas := 0, map[string]int{}
	for _, d := range ds {
		if d.stateful {
			corr++
		}
		areas[d.area]++
	}
	b.WriteString("# Built-in detections\n\n")
	b.WriteString("Generated from `rules/` by `go test ./rules -run TestCatalogue -update`; do not edit by hand.\n")
	b.WriteString("Each rule's test events are in `rules/<area>/<name>.tests.yml`; how rules work is in `rules.md`.\n\n")
	fmt.Fprintf(&b, "%d detections, %d of them stateful correlations. Rules that only feed a correlation are not listed.\n\n", len(ds), corr)
	names := make([]string, 0, len(areas))
	for a := range areas {
		names = append(names, a)
	}
	slices.Sort(names)
	for i, a := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", a, areas[a])
	}
	b.WriteString(".\n\n")
	b.WriteString("| area | title | level | type | ATT&CK | id |\n|---|---|---|---|---|---|\n")
	for _, d := range ds {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | `%s` |\n", d.area, d.title, d.level, d.kind, d.attack, d.id)
	}
	b.WriteString(outcomesSection)
	return b.Bytes()
}

// outcomesSection says which rules read refused attempts, and why the others do not.
const outcomesSection = `
## Failed, denied and challenged attempts

Many rules read what happened: a grant, a change or a sign-in that succeeded (` + "`outcome.result`" + `
SUCCESS or ALLOW). Each of them was reviewed for whether an attempt that Okta refused (FAILURE,
DENY, or a CHALLENGE that was not met) is a signal in itself.

- **New rules, one level lower than the successful form and with their own ids**, so the alerts of
  the successful forms keep their ids and severity:
  - *Okta Admin Role Grant or Session Impersonation Attempted but Failed* (medium): a refused
    admin role grant (user, group, resource-set binding) or session impersonation start or grant,
    often an account with too little privilege probing for a way up.
  - *Okta Identity Provider or Org2Org Application Change Attempted but Failed* (medium): the
    cross-tenant impersonation playbook, refused.
  - *Okta Sign-in Through an Anonymising Proxy Denied* (low): DENY only. Wrong passwords through a
    proxy are for the password rules (spray, stuffing, brute force), and an MFA challenge is
    routine for every sign-in.
- **Widened, same id and level**, because a refused attempt means the same as a successful one:
  - *Okta Session Used From Two Networks*: a replayed session cookie that was denied or
    challenged is stolen all the same, and the session must be revoked.
  - *Okta Device Token Used From Several Addresses With a Different Browser or OS*: likewise for
    a replayed device token.
  - *Okta Sign-in Through an External Identity Provider Not Seen Before*: a new issuer counts
    from its first attempt; a rogue IdP that does not map to a user yet is still being set up.
- **Left as they are**: configuration changes (policies, network zones, applications,
  authenticators, API tokens, role revocations), which have no effect when refused and fail
  mostly for validation reasons; sign-ins from sanctioned countries, new countries and
  impossible travel, where failed attempts are the internet's background noise and the password
  rules count them; Okta's own high-risk and ThreatInsight denials, which have rules of their
  own; and MFA, enrolment, reset and push rules, which describe a completed change.
`

// TestCatalogue keeps docs/detections.md in step with the rules (regenerate with -update).
func TestCatalogue(t *testing.T) {
	ds := detections(t)
	got := renderCatalogue(ds)
	if *update {
		if err := os.WriteFile(catalogueFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(catalogueFile)
	if err != nil {
		t.Fatalf("%v: run go test ./rules -run TestCatalogue -update", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date with the rules: run go test ./rules -run TestCatalogue -update", catalogueFile)
	}
}

// TestDetectionIDsAndTags adds to TestBuiltinRuleMetadata what the catalogue relies on: ids
// are UUID v4, the author is idwatch, and tags name an ATT&CK tactic besides a technique.
func TestDetectionIDsAndTags(t *testing.T) {
	files, err := detect.LoadFS(FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := detect.Compile(files)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs.Rules() {
		if !rs.Alerting(r) {
			continue
		}
		where := fmt.Sprintf("%s:%d (%s)", r.File, r.Line, r.Title)
		if !isUUIDv4(r.ID) {
			t.Errorf("%s: id %q is not a UUID v4", where, r.ID)
		}
		if r.Author != "idwatch" {
			t.Errorf("%s: author is %q, want idwatch", where, r.Author)
		}
		tactic := false
		for _, tag := range r.Tags {
			v, ok := strings.CutPrefix(tag, "attack.")
			if ok && !(len(v) > 1 && v[0] == 't' && v[1] >= '0' && v[1] <= '9') {
				tactic = true
			}
		}
		if !tactic {
			t.Errorf("%s: needs an ATT&CK tactic tag such as attack.credential-access", where)
		}
	}
}

// isUUIDv4 reports whether s is a lower-case UUID of version 4, variant 1.
func isUUIDv4(s string) bool {
	if len(s) != 36 || s[14] != '4' || !strings.ContainsRune("89ab", rune(s[19])) {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdef", c) {
				return false
			}
		}
	}
	return true
}

package detect

import (
	"os"
	"strings"
	"testing"

	"github.com/idwatch/idwatch/internal/detect/sigma"
)

// TestSigmaHQOktaRules loads SigmaHQ's 24 Okta rules unchanged (testdata/sigmahq-okta): all
// load, the placeholder rule only once its placeholder is defined, and then it matches.
func TestSigmaHQOktaRules(t *testing.T) {
	files, err := LoadFS(os.DirFS("testdata/sigmahq-okta"), ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 24 {
		t.Fatalf("%d rule files, want SigmaHQ's 24", len(files))
	}
	// Without a definition, only the placeholder rule is left out, naming the placeholder.
	rs, err := CompileWith(files, Options{SkipBad: true})
	if err != nil {
		t.Fatal(err)
	}
	sk := rs.Skipped()
	if len(rs.Rules()) != 23 || len(sk) != 1 || sk[0].Error() != "rules-placeholder/identity/okta/okta_session_impersonation_granted.yml:30: actor.alternateId|contains|expand: placeholder %legtimate_identifiers% is not defined; define it in placeholders.yml in the rules folder" {
		t.Fatalf("%d rules, skipped: %v", len(rs.Rules()), sk)
	}
	ph := sigma.PlaceholderMap{"legtimate_identifiers": {"@example.com"}}
	rs, err = CompileWith(files, Options{Sigma: sigma.Options{Placeholders: ph}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Rules()) != 24 {
		t.Fatalf("%d rules loaded, want 24", len(rs.Rules()))
	}
	const impersonation = "fe04b26b-0ac4-45d7-9404-4b9f16a440a9"
	e := engine(t, rs, Config{})
	var got []string
	for _, actor := range []string{"eve@evil.test", "system@okta.com", "ann@example.com", "mallory@example.com.evil.test"} {
		for _, a := range process(t, e, ev(t, actor, 0, `,"eventType":"user.session.impersonation.grant","actor":{"alternateId":"`+actor+`"}`)) {
			if a.RuleID == impersonation {
				got = append(got, actor)
			}
		}
	}
	// The rule's filter is contains: a look-alike domain that contains the trusted one passes,
	// as SigmaHQ wrote it.
	if strings.Join(got, ",") != "eve@evil.test" {
		t.Fatalf("impersonation alerts for %v, want only the outsider", got)
	}
}

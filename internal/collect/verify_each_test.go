package collect

import (
	"context"
	"reflect"
	"testing"

	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
)

// TestVerifyIntegrationEachEmitsEveryCheck: the checks are told one by one, in the report's
// order, so a page can show the checklist as it fills in; a failing check is told too.
func TestVerifyIntegrationEachEmitsEveryCheck(t *testing.T) {
	s, tok := verifyOrg(t, []oktasim.Role{oktasim.RoleReadOnlyAdmin}, false)
	v := &Verifier{HTTPClient: s.ts.Client(), Clock: s.clock}
	for _, token := range []string{tok, "wrong-token"} {
		var told []Check
		in := store.Integration{Name: "each", OrgURL: s.ts.URL, AuthKind: store.AuthAPIToken, Credentials: store.Credentials{APIToken: secret.New(token)}}
		r := v.VerifyIntegrationEach(context.Background(), in, func(c Check) { told = append(told, c) })
		if len(told) < 3 || !reflect.DeepEqual(told, r.Checks) {
			t.Fatalf("token %q: told %+v, report %+v", token, told, r.Checks)
		}
		if want := token == tok; r.CanCollectLogs != want {
			t.Errorf("token %q: CanCollectLogs %v", token, r.CanCollectLogs)
		}
	}
}

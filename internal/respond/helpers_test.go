package respond

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

var t0 = time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)

// Users of the test org.
const (
	jdoe   = "00ujdoe0000000000001"
	root   = "00uroot0000000000001"
	root2  = "00uroot0000000000002"
	vip    = "00uvip00000000000001"
	groupX = "00gexecs00000000001"
)

// org is an oktasim org over loopback with a store and a responder acting through an API token
// whose admin has the response role.
type org struct {
	t      *testing.T
	ctx    context.Context
	sim    *oktasim.Server
	clock  clock.Clock
	st     store.Store
	r      *Responder
	admin  oktasim.User
	url    string
	token  string
	inID   int64
	client *okta.Client
}

func user(id, login, status string) oktasim.User {
	return oktasim.User{ID: id, Status: status, Created: t0.Add(-time.Hour), LastUpdated: t0.Add(-time.Hour), ProviderType: "OKTA", ProviderName: "OKTA",
		Profile: map[string]any{"login": login, "email": login, "firstName": "F", "lastName": id}}
}

type orgOpt func(*orgSetup)

type orgSetup struct {
	cfg      Config
	adminRT  []oktasim.Role
	perms    []oktasim.Permission
	features []string
	system   bool // the org and the responder run on the system clock
	sim      oktasim.Config
}

func withConfig(c Config) orgOpt               { return func(s *orgSetup) { s.cfg = c } }
func withPerms(p ...oktasim.Permission) orgOpt { return func(s *orgSetup) { s.perms = p } }
func withFeatures(f ...string) orgOpt          { return func(s *orgSetup) { s.features = f } }
func withSystemClock() orgOpt                  { return func(s *orgSetup) { s.system = true } }
func withSim(c oktasim.Config) orgOpt          { return func(s *orgSetup) { s.sim = c } }

func newOrg(t *testing.T, opts ...orgOpt) *org {
	t.Helper()
	setup := orgSetup{adminRT: []oktasim.Role{oktasim.RoleReadOnlyAdmin},
		perms:    []oktasim.Permission{oktasim.PermUsersManage, oktasim.PermSessionsManage, oktasim.PermFactorsManage},
		features: []string{"response"}}
	for _, o := range opts {
		o(&setup)
	}
	var clk clock.Clock = clock.NewManual(t0)
	if setup.system {
		clk = clock.System{}
	}
	simCfg := setup.sim
	simCfg.Clock = clk
	sim, err := oktasim.New(simCfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sim)
	t.Cleanup(ts.Close)
	u := user(jdoe, "jdoe@acme.example", oktasim.StatusActive)
	u.GroupIDs = []string{"00gall0000000000000"}
	u.Factors = []oktasim.Factor{{ID: "opfjdoe1", FactorType: "push", Provider: "OKTA", VendorName: "OKTA", Status: "ACTIVE", Created: t0}}
	r1 := user(root, "root@acme.example", oktasim.StatusActive)
	r1.AdminRoles = []oktasim.Role{oktasim.RoleSuperAdmin}
	v := user(vip, "ceo@acme.example", oktasim.StatusActive)
	v.GroupIDs = []string{groupX}
	if err := sim.SetUsers([]oktasim.User{u, r1, v}); err != nil {
		t.Fatal(err)
	}
	sim.SetDirectory([]oktasim.Group{{ID: "00gall0000000000000", Name: "Everyone", Type: "BUILT_IN", Created: t0},
		{ID: groupX, Name: "Executives", Type: "OKTA_GROUP", Created: t0}}, nil)
	admin, _, token, err := sim.AddAdmin(oktasim.User{ID: "00uidwatch0000000001", AdminRoles: setup.adminRT, Permissions: setup.perms}, "idwatch")
	if err != nil {
		t.Fatal(err)
	}
	client, err := okta.New(okta.Config{OrgURL: ts.URL, Credentials: okta.Credentials{APIToken: okta.Secret(token)},
		Retry: okta.RetryConfig{MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), sqlite.Options{Path: filepath.Join(t.TempDir(), "idwatch.db"), Clock: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	o := &org{t: t, ctx: t.Context(), sim: sim, clock: clk, st: st, admin: admin, url: ts.URL, token: token, inID: 7, client: client}
	clients := func(_ context.Context, id int64) (*okta.Client, store.Integration, error) {
		return client, store.Integration{ID: id, Name: "acme", Features: setup.features}, nil
	}
	o.r, err = New(setup.cfg, Deps{Store: st, Clients: clients, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func (o *org) status(id string) string {
	o.t.Helper()
	for _, u := range o.sim.Users() {
		if u.ID == id {
			return u.Status
		}
	}
	o.t.Fatalf("no user %s", id)
	return ""
}

// events returns the System Log events of eventType targeting id, read from oktasim.
func (o *org) events(eventType, id string) []map[string]any {
	o.t.Helper()
	p, err := o.client.LogsIn(o.ctx, okta.LaneLogs, okta.LogsQuery{Since: o.clock.Now().Add(-2 * time.Hour), Filter: `eventType eq "` + eventType + `" and target.id eq "` + id + `"`})
	if err != nil {
		o.t.Fatal(err)
	}
	var out []map[string]any
	for _, raw := range p.Items {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			o.t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// writes returns the non-GET requests oktasim received after seq.
func (o *org) writes(after uint64) []oktasim.RequestRecord {
	var out []oktasim.RequestRecord
	for _, r := range o.sim.RequestLog(after) {
		if r.Method != "GET" {
			out = append(out, r)
		}
	}
	return out
}

func (o *org) lastSeq() uint64 {
	l := o.sim.RequestLog(0)
	if len(l) == 0 {
		return 0
	}
	return l[len(l)-1].Seq
}

func (o *org) trail(id string) []store.ResponseRecord {
	o.t.Helper()
	_, recs, err := o.r.Trail(o.ctx, id)
	if err != nil {
		o.t.Fatal(err)
	}
	return recs
}

func (o *org) exec(req Request) Outcome {
	o.t.Helper()
	if req.IntegrationID == 0 {
		req.IntegrationID = o.inID
	}
	if req.By == "" {
		req.By = "cli:ana"
	}
	out, err := o.r.Execute(o.ctx, req)
	if err != nil {
		o.t.Fatalf("execute %+v: %v", req, err)
	}
	return out
}

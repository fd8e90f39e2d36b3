package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/oktasim/scenario"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

// t0 is the org's present in every test.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// org is an oktasim org on loopback with a connector token, and an idwatch store.
type org struct {
	srv       *oktasim.Server
	client    *okta.Client
	connector oktasim.User
	st        *sqlite.Store
	svc       *Service
}

type orgOptions struct {
	users     int
	groups    int // total groups: the scenario's plus numbered project groups with members
	flaws     []oktasim.Flaw
	seed      int64
	connector oktasim.User // roles of the connector account (default Read-Only + custom role)
	setup     func(users []oktasim.User, groups []oktasim.Group) ([]oktasim.User, []oktasim.Group)
}

// newOrg builds a scenario org with the options and an inventory Service over it.
func newOrg(t testing.TB, o orgOptions) *org {
	t.Helper()
	rl := oktasim.DefaultRateLimits()
	rl.Disabled = true
	for i := range rl.Buckets {
		rl.Buckets[i].PerMinute = 1_000_000
	}
	srv, err := oktasim.New(oktasim.Config{Clock: fixedClock{t0}, ControlKey: "control", RateLimits: rl})
	if err != nil {
		t.Fatal(err)
	}
	w, err := oktasim.NewScenarioWorld(scenario.Config{Seed: o.seed, Users: o.users, OrgDomain: "acme.example", Start: t0})
	if err != nil {
		t.Fatal(err)
	}
	w.Flaws = o.flaws
	if w.Flaws == nil {
		w.Flaws = []oktasim.Flaw{}
	}
	users, groups := w.Users(), w.Groups()
	for i := range max(0, o.groups-len(groups)) {
		g := oktasim.Group{ID: fmt.Sprintf("00gextra%012d", i), Name: fmt.Sprintf("Project %03d", i), Type: "OKTA_GROUP",
			Created: t0.Add(-time.Hour), LastUpdated: t0.Add(-time.Hour), LastMembershipUpdated: t0.Add(-time.Hour)}
		groups = append(groups, g)
		for j := i % 7; j < len(users); j += 37 + i%11 {
			users[j].GroupIDs = append(users[j].GroupIDs, g.ID)
		}
	}
	if o.setup != nil {
		users, groups = o.setup(users, groups)
	}
	srv.SetDirectory(groups, w.Apps())
	if err := srv.SetUsers(users); err != nil {
		t.Fatal(err)
	}
	conn := o.connector
	if conn.AdminRoles == nil && conn.Permissions == nil {
		conn.AdminRoles = []oktasim.Role{oktasim.RoleReadOnlyAdmin}
		conn.Permissions = []oktasim.Permission{oktasim.PermUsersManage, oktasim.PermSessionsManage, oktasim.PermFactorsManage}
	}
	if conn.Profile == nil {
		conn.Profile = map[string]any{"login": "idwatch.service@acme.example", "email": "idwatch.service@acme.example", "firstName": "idwatch", "lastName": "Service"}
	}
	admin, _, token, err := srv.AddAdmin(conn, "idwatch")
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	c, err := okta.New(okta.Config{OrgURL: ts.URL, Credentials: okta.Credentials{APIToken: okta.Secret(token)}, Retry: okta.RetryConfig{MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := secret.NewKeyring(bytes.Repeat([]byte{3}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(t.TempDir(), sqlite.FileName), Sealer: keys})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	in, err := st.CreateIntegration(context.Background(), store.Integration{Name: "acme", OrgURL: ts.URL, AuthKind: store.AuthAPIToken,
		Credentials: store.Credentials{APIToken: secret.New(token)}})
	if err != nil {
		t.Fatal(err)
	}
	syncer := &Syncer{API: c, Now: func() time.Time { return t0 }}
	return &org{srv: srv, client: c, connector: admin, st: st, svc: &Service{Store: st, Syncer: syncer, IntegrationID: in.ID}}
}

// appendEvent puts one System Log event into the journal as the collector would.
func (o *org) appendEvent(t testing.TB, uuid, typ string, actorID string, targets ...map[string]any) {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"uuid": uuid, "published": t0.Add(time.Minute).Format(time.RFC3339Nano), "eventType": typ,
		"version": "0", "severity": "INFO", "displayMessage": typ,
		"actor":   map[string]any{"id": actorID, "type": "User", "alternateId": actorID},
		"outcome": map[string]any{"result": "SUCCESS"}, "target": targets})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.st.AppendPage(context.Background(), o.svc.IntegrationID, []store.Event{{UUID: uuid, Published: t0.Add(time.Minute), EventType: typ, Raw: raw}}, nil); err != nil {
		t.Fatal(err)
	}
}

func userTarget(id string) map[string]any {
	return map[string]any{"id": id, "type": "User", "alternateId": id}
}
func groupTarget(id string) map[string]any {
	return map[string]any{"id": id, "type": "UserGroup", "alternateId": "unknown"}
}

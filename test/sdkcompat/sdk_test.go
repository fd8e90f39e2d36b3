package sdkcompat

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/okta/okta-sdk-golang/v5/okta"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/oktasim"
	"github.com/idwatch/idwatch/internal/oktasim/scenario"
)

// orgURL is what the SDK is configured with. The SDK keeps only the host name of its org URL and
// dials the scheme's default port, so the org must look like a real one on 443: the simulation
// advertises it, serves a certificate for it, and the transport maps the name to the listener.
const orgURL = "https://acme.okta.com"

// org is a running simulation with the world it was built from.
type org struct {
	sim   *oktasim.Simulation
	world oktasim.ScenarioWorld
	hc    *http.Client
	dials atomic.Int64
}

// startOrg runs oktasim in-process on the wall clock (the SDK signs its JWTs with it) with a day
// of history (so the window holds a working day whatever the time) and no live traffic, so the
// ground truth holds still while the SDK reads.
func startOrg(t *testing.T) *org {
	t.Helper()
	now := time.Now()
	const history = 26 * time.Hour
	world, err := oktasim.NewScenarioWorld(scenario.Config{Seed: 7, Users: 60, OrgDomain: "acme.example", Start: now.Add(-history)})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	cfg := oktasim.SimConfig{Listen: "127.0.0.1:0", OrgURL: orgURL, History: history, HistoryStorylines: 3,
		Tick: 24 * time.Hour, UsersRefresh: 24 * time.Hour,
		Server: oktasim.Config{Seed: 7, LateShare: 0.02, LateDelay: 2 * time.Minute, RateLimits: oktasim.DefaultRateLimits()}}
	clk := clock.System{}
	sim, ln, err := oktasim.StartSim(cfg, world, clk, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sim.Serve(ctx, cfg, world, ln, clk, log) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	o := &org{sim: sim, world: world}
	tr := sim.Transport()
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr != "acme.okta.com:443" {
			return nil, fmt.Errorf("the SDK dialled %s, want acme.okta.com:443", addr)
		}
		o.dials.Add(1)
		return dial(ctx, network, addr)
	}
	o.hc = &http.Client{Transport: tr, Timeout: time.Minute}
	return o
}

// authMode is one of the SDK's ways to authenticate.
type authMode struct {
	name      string
	principal func(*oktasim.Simulation) string
	setters   func(*oktasim.Simulation) []okta.ConfigSetter
}

var authModes = []authMode{
	{"SSWS", func(s *oktasim.Simulation) string { return s.APITokenID }, func(s *oktasim.Simulation) []okta.ConfigSetter {
		return []okta.ConfigSetter{okta.WithAuthorizationMode("SSWS"), okta.WithToken(s.Info.APIToken)}
	}},
	{"PrivateKey+DPoP", func(s *oktasim.Simulation) string { return s.Info.ServiceApp.ClientID }, func(s *oktasim.Simulation) []okta.ConfigSetter {
		app := s.Info.ServiceApp
		return []okta.ConfigSetter{okta.WithAuthorizationMode("PrivateKey"), okta.WithClientId(app.ClientID),
			okta.WithPrivateKey(app.PrivateKeyPEM), okta.WithPrivateKeyId(app.KeyID),
			okta.WithScopes([]string{"okta.logs.read", "okta.users.read", "okta.groups.read", "okta.roles.read", "okta.schemas.read"})}
	}},
}

func (o *org) client(t *testing.T, mode authMode) *okta.APIClient {
	t.Helper()
	setters := append([]okta.ConfigSetter{okta.WithOrgUrl(orgURL), okta.WithHttpClientPtr(o.hc), okta.WithCache(false),
		okta.WithRequestTimeout(60), okta.WithRateLimitMaxRetries(2)}, mode.setters(o.sim)...)
	cfg, err := okta.NewConfiguration(setters...)
	if err != nil {
		t.Fatal(err)
	}
	return okta.NewAPIClient(cfg)
}

// page follows an SDK listing to its end, the way the SDK's docs show it.
func page[T any](t *testing.T, what string, items []T, resp *okta.APIResponse, err error) []T {
	t.Helper()
	for pages := 1; ; pages++ {
		if err != nil {
			t.Fatalf("%s page %d: %v", what, pages, sdkError(err))
		}
		if !resp.HasNextPage() {
			return items
		}
		if pages > 500 {
			t.Fatalf("%s does not end after %d pages", what, pages)
		}
		var next []T
		resp, err = resp.Next(&next)
		items = append(items, next...)
	}
}

// sdkError adds the response body the SDK keeps in its error type.
func sdkError(err error) string {
	if e, ok := err.(*okta.GenericOpenAPIError); ok {
		return fmt.Sprintf("%v: %s", err, e.Body())
	}
	return err.Error()
}

func TestOktaSDKReadsTheOrg(t *testing.T) {
	o := startOrg(t)
	now := time.Now()
	since, until := now.Add(-25*time.Hour).Truncate(time.Second), now.Add(-10*time.Minute).Truncate(time.Second)
	wantEvents := o.sim.Server.PublishedUUIDs(since, until)
	slices.Sort(wantEvents)
	if len(wantEvents) < 500 {
		t.Fatalf("the window holds only %d events; the test needs many pages", len(wantEvents))
	}
	// About a dozen pages, within the per-token share of the System Log's rate limit.
	pageSize := int32(min(1000, len(wantEvents)/12))
	users := o.sim.Server.Users()
	wantUsers := map[string]oktasim.User{}
	for _, u := range users {
		if u.Status != "DEPROVISIONED" {
			wantUsers[u.ID] = u
		}
	}
	groups := o.world.Groups()
	if len(groups) == 0 {
		t.Fatal("the org has no groups")
	}

	for _, mode := range authModes {
		t.Run(mode.name, func(t *testing.T) {
			c := o.client(t, mode)
			ctx := context.Background()
			principal := mode.principal(o.sim)
			if principal == "" {
				t.Fatal("no principal for the request log")
			}
			firstSeq := lastSeq(o.sim)

			// The whole System Log of a bounded window, about a dozen pages: every page after the
			// first carries since (merged in by the SDK from the first request) and after.
			evs, resp, err := c.SystemLogAPI.ListLogEvents(ctx).Since(since).Until(until).Limit(pageSize).Execute()
			evs = page(t, "logs", evs, resp, err)
			got := make([]string, 0, len(evs))
			for _, ev := range evs {
				got = append(got, ev.GetUuid())
				if ev.GetEventType() == "" || ev.GetPublished().Before(since) || !ev.GetPublished().Before(until) {
					t.Fatalf("event %s: type %q published %v outside [%v, %v)", ev.GetUuid(), ev.GetEventType(), ev.GetPublished(), since, until)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, wantEvents) {
				t.Fatalf("SDK paged %d events (%d distinct), want exactly the window's %d", len(got), len(slices.Compact(slices.Clone(got))), len(wantEvents))
			}

			// Every user, 25 a page.
			us, resp, err := c.UserAPI.ListUsers(ctx).Limit(25).Execute()
			us = page(t, "users", us, resp, err)
			gotUsers := map[string]bool{}
			for _, u := range us {
				gotUsers[u.GetId()] = true
				if want, ok := wantUsers[u.GetId()]; !ok || u.GetStatus() != want.Status || u.Profile.GetLogin() != want.Profile["login"] {
					t.Fatalf("user %s (%s, %s) is not the org's", u.GetId(), u.GetStatus(), u.Profile.GetLogin())
				}
			}
			if len(gotUsers) != len(us) || !maps.Equal(gotUsers, boolSet(maps.Keys(wantUsers))) {
				t.Fatalf("SDK listed %d users (%d distinct), want the org's %d", len(us), len(gotUsers), len(wantUsers))
			}

			// Groups and their members.
			gs, resp, err := c.GroupAPI.ListGroups(ctx).Limit(10).Execute()
			gs = page(t, "groups", gs, resp, err)
			gotGroups := map[string]bool{}
			for _, g := range gs {
				gotGroups[g.GetId()] = true
			}
			wantGroups := map[string]bool{}
			for _, g := range groups {
				wantGroups[g.ID] = true
			}
			if !maps.Equal(gotGroups, wantGroups) {
				t.Fatalf("SDK listed groups %v, want %v", slices.Sorted(maps.Keys(gotGroups)), slices.Sorted(maps.Keys(wantGroups)))
			}
			members := 0
			for _, g := range groups {
				ms, resp, err := c.GroupAPI.ListGroupUsers(ctx, g.ID).Limit(10).Execute()
				ms = page(t, "members of "+g.Name, ms, resp, err)
				got, want := map[string]bool{}, map[string]bool{}
				for _, m := range ms {
					got[m.GetId()] = true
				}
				for _, u := range users {
					if slices.Contains(u.GroupIDs, g.ID) {
						want[u.ID] = true
					}
				}
				if !maps.Equal(got, want) {
					t.Fatalf("group %s: SDK listed %d members, want %d", g.Name, len(got), len(want))
				}
				members += len(got)
			}

			// Role assignments and factors of every user, and the default user schema.
			admins, factors := 0, 0
			for _, u := range users {
				if u.Status == "DEPROVISIONED" {
					continue
				}
				roles, _, err := c.RoleAssignmentAPI.ListAssignedRolesForUser(ctx, u.ID).Execute()
				if err != nil {
					t.Fatalf("roles of %s: %v", u.ID, sdkError(err))
				}
				want := len(u.AdminRoles)
				if len(u.Permissions) > 0 {
					want++ // the custom role
				}
				if len(roles) != want {
					t.Fatalf("user %s: SDK read %d role assignments, want %d", u.ID, len(roles), want)
				}
				for i, r := range u.AdminRoles {
					if roles[i].GetType() != string(r) {
						t.Fatalf("user %s role %d: %q, want %q", u.ID, i, roles[i].GetType(), r)
					}
				}
				if want > 0 {
					admins++
				}
				fs, _, err := c.UserFactorAPI.ListFactors(ctx, u.ID).Execute()
				if err != nil {
					t.Fatalf("factors of %s: %v", u.ID, sdkError(err))
				}
				if len(fs) != len(u.Factors) {
					t.Fatalf("user %s: SDK read %d factors, want %d", u.ID, len(fs), len(u.Factors))
				}
				for i, f := range fs {
					if id := factorID(f); id != u.Factors[i].ID {
						t.Fatalf("user %s factor %d: id %q, want %q (type %s)", u.ID, i, id, u.Factors[i].ID, u.Factors[i].FactorType)
					}
				}
				factors += len(fs)
			}
			schema, _, err := c.SchemaAPI.GetUserSchema(ctx, "default").Execute()
			if err != nil {
				t.Fatalf("user schema: %v", sdkError(err))
			}
			custom := schema.GetDefinitions().Custom.GetProperties()
			for _, attr := range []string{"ObjectSid", "ObjectGuid", "DistinguishedName"} {
				if _, ok := custom[attr]; !ok {
					t.Fatalf("user schema's custom attributes %v lack %s", slices.Sorted(maps.Keys(custom)), attr)
				}
			}

			// What the SDK sent, as the org saw it: every request by this principal succeeded, and
			// the System Log pages after the first carried since together with after.
			var reqs, logPages, withBoth int
			var tokenCalls []int
			for _, r := range o.sim.Server.RequestLog(firstSeq) {
				if r.Path == "/oauth2/v1/token" {
					tokenCalls = append(tokenCalls, r.Status)
				}
				if r.Principal != principal {
					continue
				}
				reqs++
				if r.Status != http.StatusOK {
					t.Fatalf("request %s %s?%s answered %d", r.Method, r.Path, r.Query, r.Status)
				}
				if r.Path == "/api/v1/logs" {
					logPages++
					if strings.Contains(r.Query, "since=") && strings.Contains(r.Query, "after=") {
						withBoth++
					}
				}
			}
			// With a private key the SDK gets its DPoP-bound token in three calls (no proof, a proof
			// without nonce, a proof with the nonce) and keeps it; with SSWS it asks for none.
			wantToken := []int{}
			if mode.name != "SSWS" {
				wantToken = []int{http.StatusBadRequest, http.StatusBadRequest, http.StatusOK}
			}
			if !slices.Equal(tokenCalls, wantToken) {
				t.Fatalf("token endpoint answered %v, want %v", tokenCalls, wantToken)
			}
			if logPages < 2 || withBoth != logPages-1 {
				t.Fatalf("%d System Log pages, %d with since and after; want every page after the first to carry both", logPages, withBoth)
			}
			t.Logf("%s: %d events in %d System Log pages, %d users, %d groups with %d memberships, %d admins' roles, %d factors, schema with %d custom attributes; %d API requests and %d token requests (%d connections so far)",
				mode.name, len(got), logPages, len(gotUsers), len(gotGroups), members, admins, factors, len(custom), reqs, len(tokenCalls), o.dials.Load())
		})
	}
}

// factorID reads the id of whichever factor type the SDK decoded.
func factorID(f okta.ListFactors200ResponseInner) string {
	v := f.GetActualInstance()
	if g, ok := v.(interface{ GetId() string }); ok {
		return g.GetId()
	}
	return fmt.Sprintf("<undecoded %T>", v)
}

func lastSeq(s *oktasim.Simulation) uint64 {
	reqs := s.Server.RequestLog(0)
	if len(reqs) == 0 {
		return 0
	}
	return reqs[len(reqs)-1].Seq
}

func boolSet(keys func(func(string) bool)) map[string]bool {
	m := map[string]bool{}
	for k := range keys {
		m[k] = true
	}
	return m
}

// Okta refuses a DPoP proof sent twice, and okta-sdk-golang v5.0.2 retries a 429 with the very
// same proof (okta/okta-sdk-golang#554), so with private key + DPoP its retry after a rate limit
// fails with 400 invalid_dpop_proof "The DPoP proof JWT has already been used.", as against a real
// org (the same report shows Okta's answer). oktasim reproduces this: it is the SDK's bug, and a
// client of idwatch's must not copy it (idwatch's own client signs a fresh proof per attempt).
func TestOktaSDKRetryAfterRateLimit(t *testing.T) {
	o := startOrg(t)
	rl := oktasim.DefaultRateLimits()
	for i := range rl.Buckets {
		if rl.Buckets[i].Name == "logs" {
			rl.Buckets[i].PerMinute = 2 // each token or app may make one call a minute
		}
	}
	if err := o.sim.Server.SetRateLimits(rl); err != nil {
		t.Fatal(err)
	}
	since := time.Now().Add(-24 * time.Hour)
	for _, mode := range authModes {
		t.Run(mode.name, func(t *testing.T) {
			setters := append([]okta.ConfigSetter{okta.WithOrgUrl(orgURL), okta.WithHttpClientPtr(o.hc), okta.WithCache(false),
				okta.WithRateLimitMaxRetries(1), okta.WithRateLimitMaxBackOff(1)}, mode.setters(o.sim)...)
			cfg, err := okta.NewConfiguration(setters...)
			if err != nil {
				t.Fatal(err)
			}
			c := okta.NewAPIClient(cfg)
			_, resp, err := c.SystemLogAPI.ListLogEvents(context.Background()).Since(since).Limit(5).Execute()
			if err != nil || !resp.HasNextPage() {
				t.Fatalf("first page: %v", err)
			}
			var next []okta.LogEvent
			resp, err = resp.Next(&next)
			if mode.name == "SSWS" {
				// Retried once after a second, still within the minute: the SDK gives up.
				if err == nil || !strings.Contains(err.Error(), "too many requests") {
					t.Fatalf("SSWS retry: %v", err)
				}
				return
			}
			// The SDK reports no error for a 400 with an empty body (it only decodes 403, 404 and
			// 429): the caller gets an empty page, and only the response says what happened.
			if resp == nil || resp.StatusCode != http.StatusBadRequest || len(next) != 0 ||
				!strings.Contains(resp.Header.Get("WWW-Authenticate"), "The DPoP proof JWT has already been used.") {
				t.Fatalf("DPoP retry: %v, %d events, err %v", resp, len(next), err)
			}
			reqs := o.sim.Server.RequestLog(0)
			var statuses []int
			for _, r := range reqs[len(reqs)-3:] {
				statuses = append(statuses, r.Status)
			}
			if !slices.Equal(statuses, []int{http.StatusOK, http.StatusTooManyRequests, http.StatusBadRequest}) {
				t.Fatalf("last System Log calls answered %v, want 200, 429, then 400 for the replayed proof", statuses)
			}
		})
	}
}

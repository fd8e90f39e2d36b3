package oktasim

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/okta"
)

type testWorld struct {
	*stepWorkforce
	*fakeStories
}

func (testWorld) Users() []User { return testUsers(12) }

func TestSimulationServesHistoryAndWritesInfo(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[useTLS], func(t *testing.T) {
			clock := clock.NewManual(t0)
			world := testWorld{&stepWorkforce{last: t0.Add(-24 * time.Hour)}, &fakeStories{}}
			info := filepath.Join(t.TempDir(), "info.json")
			cfg := SimConfig{Listen: "127.0.0.1:0", TLS: useTLS, HistoryStorylines: 3, InfoFile: info, Tick: time.Millisecond}
			sim, ln, err := StartSim(cfg, world, clock, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- sim.Serve(ctx, cfg, world, ln, clock, discardLogger()) }()

			// The info file appears once serving; wait for it with a deadline.
			var raw []byte
			deadline := time.Now().Add(10 * time.Second)
			for raw == nil {
				if b, err := os.ReadFile(info); err == nil {
					raw = b
				} else if time.Now().After(deadline) {
					t.Fatal("info file never written")
				} else {
					time.Sleep(5 * time.Millisecond)
				}
			}
			var keys map[string]any
			if err := json.Unmarshal(raw, &keys); err != nil {
				t.Fatal(err)
			}
			var top, app []string
			for k := range keys {
				top = append(top, k)
			}
			for k := range keys["serviceApp"].(map[string]any) {
				app = append(app, k)
			}
			sort.Strings(top)
			sort.Strings(app)
			wantTop := []string{"address", "apiToken", "orgId", "orgUrl", "serviceApp"}
			if useTLS {
				wantTop = []string{"address", "apiToken", "caPem", "orgId", "orgUrl", "serviceApp"}
			}
			if !reflect.DeepEqual(top, wantTop) || !reflect.DeepEqual(app, []string{"clientId", "keyId", "privateKeyPem", "scopes"}) {
				t.Fatalf("info keys %v / %v", top, app)
			}
			if st, _ := os.Stat(info); st.Mode().Perm() != 0o600 {
				t.Errorf("info file mode %v, want 0600", st.Mode().Perm())
			}
			if b, _ := pem.Decode([]byte(sim.Info.ServiceApp.PrivateKeyPEM)); b == nil || b.Type != "PRIVATE KEY" {
				t.Error("service app key is not a PEM private key")
			}

			// The certificate is verified against the CA the info file carries.
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: sim.CertPool()}}}
			req, _ := http.NewRequest(http.MethodGet, sim.Info.OrgURL+"/api/v1/logs?limit=1000&since="+t0.Add(-25*time.Hour).Format(time.RFC3339), nil)
			req.Header.Set("Authorization", "SSWS "+sim.Info.APIToken)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var evs []map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&evs); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if v, _ := sim.Server.EventCount(); len(evs) != 1000 || v != 24*60+3*3 {
				t.Fatalf("history page %d events of %d, want 1000 of %d benign + 9 storyline events", len(evs), v, 24*60)
			}
			if n := len(sim.Server.StoryTruths()); n != 3 {
				t.Fatalf("%d storylines in history, want 3", n)
			}
			// The token acts as the connector admin: read everything, manage users, no more.
			req, _ = http.NewRequest(http.MethodGet, sim.Info.OrgURL+"/api/v1/users?limit=200", nil)
			req.Header.Set("Authorization", "SSWS "+sim.Info.APIToken)
			resp, err = client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var users []map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&users)
			resp.Body.Close()
			if len(users) != 12 { // 11 active test users + the service admin
				t.Fatalf("users list has %d users", len(users))
			}

			// The service app gets a DPoP-bound token and reads the System Log with it, acting as the
			// connector admin; a scope it was not granted is refused with Okta's challenge.
			oc, err := okta.New(okta.Config{OrgURL: sim.Info.OrgURL, HTTPClient: client, Logger: discardLogger(),
				Credentials: okta.Credentials{ServiceApp: &okta.ServiceApp{ClientID: sim.Info.ServiceApp.ClientID,
					KeyID: sim.Info.ServiceApp.KeyID, PrivateKey: okta.Secret(sim.Info.ServiceApp.PrivateKeyPEM),
					Scopes: []string{"okta.logs.read"}}}})
			if err != nil {
				t.Fatal(err)
			}
			cursor, err := oc.LogsURL(okta.LogsQuery{Since: t0.Add(-2 * time.Hour), Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			page, err := oc.Logs(context.Background(), cursor)
			if err != nil || len(page.Items) != 10 {
				t.Fatalf("logs over OAuth: %v, %d items", err, len(page.Items))
			}
			reqs := sim.Server.RequestLog(0)
			if last := reqs[len(reqs)-1]; last.Principal != sim.Info.ServiceApp.ClientID || last.Status != 200 {
				t.Fatalf("last request %+v, want the service app's successful logs call", last)
			}
			err = oc.Paginate(context.Background(), "/api/v1/users", nil, func(*okta.Page) error { return nil })
			if err == nil {
				t.Fatal("users read with a token lacking okta.users.read")
			}
			if last := sim.Server.RequestLog(0); last[len(last)-1].Status != http.StatusForbidden {
				t.Fatalf("users call without scope: %+v", last[len(last)-1])
			}

			// Live traffic: advance the clock; the ticker feeds it.
			clock.Advance(3 * time.Minute)
			for deadline := time.Now().Add(10 * time.Second); ; {
				if v, _ := sim.Server.EventCount(); v == 24*60+9+3 {
					break
				}
				if time.Now().After(deadline) {
					v, _ := sim.Server.EventCount()
					t.Fatalf("live traffic not fed: %d events", v)
				}
				time.Sleep(5 * time.Millisecond)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("serve: %v", err)
			}
		})
	}
}

func TestSimConfigValidate(t *testing.T) {
	for _, c := range []SimConfig{{}, {Listen: "x", History: -time.Hour}, {Listen: "x", History: 100 * 24 * time.Hour}, {Listen: "x", HistoryStorylines: -1}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

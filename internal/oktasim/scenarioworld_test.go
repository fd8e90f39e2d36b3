package oktasim

import (
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/oktasim/scenario"
)

func TestScenarioWorld(t *testing.T) {
	world, err := NewScenarioWorld(scenario.Config{Seed: 3, Users: 40, OrgDomain: "acme.example", Start: t0.Add(-6 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	o := newTestOrg(t, Config{})
	o.srv.SetStorylines(world)
	if err := o.srv.Feed(world, t0); err != nil {
		t.Fatal(err)
	}
	users := world.Users()
	if err := o.srv.SetUsers(users); err != nil {
		t.Fatal(err)
	}
	ad := 0
	for _, u := range users {
		if !strings.HasPrefix(u.ID, "00u") || len(u.TypeID) != 20 || u.Profile["login"] == "" {
			t.Fatalf("user %+v", u)
		}
		if u.ProviderType == "ACTIVE_DIRECTORY" {
			ad++
			if u.Profile["ObjectSid"] == "" || u.Profile["ObjectGuid"] == "" || !strings.HasPrefix(u.Profile["DistinguishedName"].(string), "CN=") || !strings.Contains(u.ProviderName, ".") {
				t.Fatalf("AD user without link attributes: %+v", u)
			}
		}
	}
	if ad == 0 {
		t.Fatal("no AD-sourced users")
	}
	infos := o.srv.Storylines()
	if len(infos) < 10 {
		t.Fatalf("%d storylines", len(infos))
	}
	truth, err := o.srv.InjectStoryline(infos[0].Name, t0.Add(-30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	visible := map[string]bool{}
	for _, id := range o.srv.VisibleUUIDs() {
		visible[id] = true
	}
	for _, id := range truth.UUIDs {
		if !visible[id] {
			t.Fatalf("storyline event %s is not visible", id)
		}
	}
	if page, _ := listUsers(t, o, "search=profile.ObjectSid%20pr"); len(page) != ad {
		t.Fatalf("search for AD users found %d of %d", len(page), ad)
	}
}

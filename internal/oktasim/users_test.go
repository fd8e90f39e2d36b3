package oktasim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"
)

func testUsers(n int) []User {
	var out []User
	for i := 0; i < n; i++ {
		u := User{ID: fmt.Sprintf("00u%017d", i), Status: StatusActive,
			Created: t0.Add(-time.Duration(n-i) * time.Hour), LastUpdated: t0.Add(-time.Duration(n-i) * time.Minute),
			TypeID: "oty1162QAr8hJjTaq0g4", ProviderType: "OKTA", ProviderName: "OKTA",
			Profile: map[string]any{"login": fmt.Sprintf("user%d@acme.example", i), "email": fmt.Sprintf("user%d@acme.example", i),
				"firstName": fmt.Sprintf("First%d", i), "lastName": "Doe", "department": "Finance"}}
		if i%3 == 0 {
			u.ProviderType, u.ProviderName = "ACTIVE_DIRECTORY", "corp.acme.example"
			u.Profile["ObjectSid"] = fmt.Sprintf("S-1-5-21-717838489-685202119-709183397-%d", 1100+i)
			u.Profile["ObjectGuid"] = "OZJdWdONCU6h7WjQKp+LPA=="
			u.Profile["DistinguishedName"] = fmt.Sprintf("CN=First%d Doe,OU=Finance,DC=corp,DC=acme,DC=example", i)
		}
		if i%10 == 9 {
			u.Status = StatusDeprovisioned
		}
		out = append(out, u)
	}
	return out
}

func listUsers(t *testing.T, o *testOrg, query string) ([]map[string]any, map[string]string) {
	t.Helper()
	rec := o.get("/api/v1/users?" + query)
	if rec.Code != 200 {
		t.Fatalf("users?%s: %d %s", query, rec.Code, rec.Body)
	}
	var out []map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	return out, links(t, rec.Header())
}

func TestUsersListPagingAndDeprovisioned(t *testing.T) {
	o := newTestOrg(t, Config{RateLimits: RateLimitConfig{Disabled: true}})
	if err := o.srv.SetUsers(testUsers(450)); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	target := "/api/v1/users"
	pages := 0
	for target != "" {
		pages++
		rec := o.get(target)
		var page []map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || rec.Code != 200 {
			t.Fatalf("%s: %d %v", target, rec.Code, err)
		}
		if len(page) > 200 {
			t.Fatalf("page of %d users exceeds the default 200", len(page))
		}
		for _, u := range page {
			if u["status"] == StatusDeprovisioned {
				t.Fatal("plain list returned a DEPROVISIONED user")
			}
			if seen[u["id"].(string)] {
				t.Fatalf("user %s twice", u["id"])
			}
			seen[u["id"].(string)] = true
		}
		target = ""
		if n := links(t, rec.Header())["next"]; n != "" {
			target = pathOf(n)
		}
	}
	if len(seen) != 405 || pages != 3 {
		t.Fatalf("plain list returned %d users in %d pages, want 405 in 3", len(seen), pages)
	}
	if page, _ := listUsers(t, o, "limit=500"); len(page) != 200 {
		t.Fatalf("limit=500 returned %d, want the maximum 200", len(page))
	}
	wantAPIError(t, o.get("/api/v1/users?limit=abc"), http.StatusBadRequest, "E0000001")
	wantAPIError(t, o.get("/api/v1/users?after=00unobody"), http.StatusBadRequest, "E0000001")
}

func TestUsersObjectShape(t *testing.T) {
	o := newTestOrg(t, Config{})
	if err := o.srv.SetUsers(testUsers(3)); err != nil {
		t.Fatal(err)
	}
	page, _ := listUsers(t, o, "limit=1")
	u := page[0]
	for _, k := range []string{"id", "status", "created", "activated", "statusChanged", "lastLogin", "lastUpdated", "passwordChanged", "type", "profile", "credentials", "_links"} {
		if _, ok := u[k]; !ok {
			t.Errorf("user lacks %q", k)
		}
	}
	if u["created"] != "2026-03-10T11:00:00.000Z" || u["activated"] != nil {
		t.Errorf("timestamps: created %v activated %v; want ms precision and null", u["created"], u["activated"])
	}
	prof := u["profile"].(map[string]any)
	if prof["ObjectSid"] == nil || prof["ObjectGuid"] == nil || prof["DistinguishedName"] == nil {
		t.Errorf("AD-sourced user lacks AD link attributes: %v", prof)
	}
	if u["_links"].(map[string]any)["self"].(map[string]any)["href"] != "http://acme.example/api/v1/users/"+u["id"].(string) {
		t.Errorf("self link %v", u["_links"])
	}
}

func TestUsersSearchFilterQ(t *testing.T) {
	o := newTestOrg(t, Config{RateLimits: RateLimitConfig{Disabled: true}})
	if err := o.srv.SetUsers(testUsers(30)); err != nil {
		t.Fatal(err)
	}
	count := func(q string) int {
		page, _ := listUsers(t, o, q)
		return len(page)
	}
	cases := []struct {
		query string
		want  int
	}{
		{"search=" + url.QueryEscape(`status eq "DEPROVISIONED"`), 3},
		{"search=" + url.QueryEscape(`status pr`), 30},
		{"search=" + url.QueryEscape(`profile.firstName sw "First1"`), 11},
		{"search=" + url.QueryEscape(`profile.email co "user2"`), 11},
		{"search=" + url.QueryEscape(`profile.ObjectSid pr`), 10},
		{"search=" + url.QueryEscape(`profile.DistinguishedName sw "CN=First3 "`), 1},
		{"search=" + url.QueryEscape(`lastUpdated gt "`+t0.Add(-5*time.Minute).Format(time.RFC3339)+`"`), 4},
		{"search=" + url.QueryEscape(`created lt "`+t0.Add(-28*time.Hour).Format(time.RFC3339)+`" or id eq "00u00000000000000029"`), 3},
		{"filter=" + url.QueryEscape(`status eq "DEPROVISIONED"`), 3},
		{"filter=" + url.QueryEscape(`profile.login eq "user5@acme.example" or profile.login eq "user6@acme.example"`), 2},
		{"filter=" + url.QueryEscape(`lastUpdated ge "`+t0.Add(-3*time.Minute).Format(time.RFC3339)+`"`), 3},
		{"q=first2", 10},
		{"q=FIRST", 10}, // q defaults to 10 results
		{"q=first&limit=50", 27},
		{"q=user19", 0}, // deprovisioned users are excluded from q
	}
	for _, c := range cases {
		if got := count(c.query); got != c.want {
			t.Errorf("%s: %d users, want %d", c.query, got, c.want)
		}
	}
	if _, l := listUsers(t, o, "q=first&limit=5"); l["next"] != "" {
		t.Error("q results must not be paginated")
	}
	page, _ := listUsers(t, o, "search="+url.QueryEscape(`status eq "ACTIVE"`)+"&sortBy=profile.login&sortOrder=desc&limit=2")
	if page[0]["profile"].(map[string]any)["login"] != "user8@acme.example" {
		t.Errorf("sorted search first %v", page[0]["profile"])
	}
	errs := []struct{ query, code string }{
		{"search=" + url.QueryEscape(`status eq "ACTIVE"`) + "&filter=" + url.QueryEscape(`status eq "ACTIVE"`), "E0000033"},
		{"search=" + url.QueryEscape(`status ne "ACTIVE"`), "E0000031"},
		{"search=" + url.QueryEscape(`profile.department co "Fin"`), "E0000031"},
		{"search=" + url.QueryEscape(`profile.objectsid pr`), "E0000031"},
		{"search=" + url.QueryEscape(`status eq`), "E0000031"},
		{"filter=" + url.QueryEscape(`profile.department eq "Finance"`), "E0000031"},
		{"filter=" + url.QueryEscape(`status sw "ACT"`), "E0000031"},
		{"filter=" + url.QueryEscape(`not (status eq "ACTIVE")`), "E0000031"},
	}
	for _, e := range errs {
		wantAPIError(t, o.get("/api/v1/users?"+e.query), http.StatusBadRequest, e.code)
	}
}

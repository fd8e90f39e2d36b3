package inventory

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/idwatch/idwatch/internal/normalize"
	"github.com/idwatch/idwatch/internal/store"
)

// OCSF activities of the identity records.
const (
	activityLog     = 1 // User Inventory Info: a change logged from System Log events
	activityCollect = 2 // User Inventory Info: collected by a full sync
	findingCreate   = 1
	findingUpdate   = 2
	findingClose    = 3
)

// identityProduct is metadata.product of the identity records: idwatch built them, from Okta.
var identityProduct = map[string]any{"name": "idwatch", "vendor_name": "idwatch", "feature": map[string]any{"name": "inventory"}}

// userInventoryRecord renders one user as an OCSF 1.8.0 User Inventory Info (5003) record:
// activity Collect after a full sync, Log after an incremental update; removed is a user Okta no
// longer has (uid only).
func userInventoryRecord(integrationID int64, u *store.InventoryUser, id Identity, activity int, removed bool, at time.Time) (store.IdentityRecord, error) {
	name := map[int]string{activityLog: "Log", activityCollect: "Collect"}[activity]
	var user []byte
	unmapped := map[string]any{}
	msg := "user " + u.Login
	if removed {
		user = normalize.AppendUserJSON(nil, &normalize.User{UID: u.ID, Name: u.Login, TypeID: 1, Type: "User"})
		unmapped["removed"] = true
		msg += " is no longer in Okta"
	} else {
		user = normalize.AppendUserJSON(nil, normalize.IdentityUser(u.ID, u.Login, u.DisplayName, id.Normalized()))
		put := func(k string, v any, ok bool) {
			if ok {
				unmapped[k] = v
			}
		}
		put("providerType", u.ProviderType, u.ProviderType != "")
		put("department", u.Department, u.Department != "")
		put("title", u.Title, u.Title != "")
		put("created", u.Created, !u.Created.IsZero())
		put("statusChanged", u.StatusChanged, !u.StatusChanged.IsZero())
		put("lastLogin", u.LastLogin, !u.LastLogin.IsZero())
		put("passwordChanged", u.PasswordChanged, !u.PasswordChanged.IsZero())
		put("roles", id.Roles, len(id.Roles) > 0)
		put("factors", id.Factors, len(id.Factors) > 0)
		put("adLinked", id.ADLinked, true)
	}
	ms := at.UnixMilli()
	rec := map[string]any{
		"activity_id": activity, "activity_name": name,
		"category_uid": 5, "category_name": "Discovery",
		"class_uid": 5003, "class_name": "User Inventory Info",
		"type_uid": 500300 + activity, "type_name": "User Inventory Info: " + name,
		"severity_id": 1, "severity": "Informational",
		"time": ms, "message": msg,
		"metadata": map[string]any{"version": normalize.OCSFVersion, "product": identityProduct,
			"uid":        fmt.Sprintf("%d-%s-%d", integrationID, u.ID, ms),
			"tenant_uid": strconv.FormatInt(integrationID, 10), "labels": []string{"inventory:" + map[int]string{activityLog: "change", activityCollect: "snapshot"}[activity]}},
		"user":     json.RawMessage(user),
		"unmapped": unmapped,
	}
	body, err := json.Marshal(rec)
	return store.IdentityRecord{IntegrationID: integrationID, Kind: store.IdentityUser, UID: u.ID, At: at, Body: body}, err
}

// postureSeverity maps a posture severity to OCSF severity_id.
var postureSeverity = map[string]int{"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}

// postureRecord renders a posture finding as an OCSF 1.8.0 IAM Analysis Finding (2008): an
// analysis of the org's identities and admin role assignments for security risk, which is what
// a posture finding is (not a detection of activity, nor a check against a named compliance
// framework). Activity Create when it appears, Update when its accounts change, Close when it
// is resolved.
func postureRecord(integrationID int64, f store.PostureFinding, activity int, at time.Time) (store.IdentityRecord, error) {
	name := map[int]string{findingCreate: "Create", findingUpdate: "Update", findingClose: "Close"}[activity]
	sev := postureSeverity[f.Severity]
	statusID, status := 1, "New"
	if activity == findingClose {
		statusID, status = 4, "Resolved"
	}
	resources := make([]map[string]any, len(f.Accounts))
	for i, a := range f.Accounts {
		resources[i] = map[string]any{"name": a, "type": "Okta account"}
	}
	uid := strconv.FormatInt(integrationID, 10) + "-" + f.ID
	ms := at.UnixMilli()
	info := map[string]any{"uid": uid, "title": f.Title, "desc": f.Why, "types": []string{f.Kind},
		"analytic": map[string]any{"type_id": 1, "type": "Rule", "uid": f.Kind, "name": f.Title}}
	if !f.FirstSeen.IsZero() {
		info["first_seen_time"], info["created_time"] = f.FirstSeen.UnixMilli(), f.FirstSeen.UnixMilli()
	}
	if !f.LastSeen.IsZero() {
		info["last_seen_time"] = f.LastSeen.UnixMilli()
	}
	rec := map[string]any{
		"activity_id": activity, "activity_name": name,
		"category_uid": 2, "category_name": "Findings",
		"class_uid": 2008, "class_name": "IAM Analysis Finding",
		"type_uid": 200800 + activity, "type_name": "IAM Analysis Finding: " + name,
		"severity_id": sev, "severity": []string{"Unknown", "Informational", "Low", "Medium", "High", "Critical"}[sev],
		"status_id": statusID, "status": status,
		"time": ms, "message": f.Title,
		"metadata": map[string]any{"version": normalize.OCSFVersion, "product": identityProduct,
			"uid": fmt.Sprintf("%s-%d", uid, ms), "tenant_uid": strconv.FormatInt(integrationID, 10)},
		"finding_info": info,
		"remediation":  map[string]any{"desc": f.Fix},
	}
	if len(resources) > 0 {
		rec["resources"] = resources
	}
	body, err := json.Marshal(rec)
	return store.IdentityRecord{IntegrationID: integrationID, Kind: store.IdentityPosture, UID: f.ID, At: at, Body: body}, err
}

// identityRecords lists the identity records of an inventory change from prev (nil: none) to
// next: every user after a full sync, else the users that changed or went; and the posture
// findings created, changed or resolved between was and now.
func identityRecords(integrationID int64, prev, next *Index, full bool, was, now []store.PostureFinding, at time.Time) ([]store.IdentityRecord, error) {
	var out []store.IdentityRecord
	add := func(r store.IdentityRecord, err error) error {
		if err == nil {
			out = append(out, r)
		}
		return err
	}
	activity := activityLog
	if full {
		activity = activityCollect
	}
	for i := range next.snap.Users {
		u := &next.snap.Users[i]
		id, _ := next.Lookup(u.ID)
		if !full && prev != nil {
			if old, ok := prev.Lookup(u.ID); ok && reflect.DeepEqual(old, id) && sameUser(prev, u) {
				continue
			}
		}
		if err := add(userInventoryRecord(integrationID, u, id, activity, false, at)); err != nil {
			return nil, err
		}
	}
	if !full && prev != nil {
		for i := range prev.snap.Users {
			u := &prev.snap.Users[i]
			if _, ok := next.byKey[u.ID]; !ok {
				if err := add(userInventoryRecord(integrationID, u, Identity{}, activityLog, true, at)); err != nil {
					return nil, err
				}
			}
		}
	}
	old := map[string]store.PostureFinding{}
	for _, f := range was {
		old[f.ID] = f
	}
	for _, f := range now {
		o, seen := old[f.ID]
		delete(old, f.ID)
		act := findingCreate
		if seen {
			if o.Severity == f.Severity && slicesEqual(o.Accounts, f.Accounts) {
				continue
			}
			act = findingUpdate
			f.FirstSeen = o.FirstSeen
		}
		if err := add(postureRecord(integrationID, f, act, at)); err != nil {
			return nil, err
		}
	}
	for _, f := range was {
		if _, gone := old[f.ID]; gone {
			f.LastSeen = at
			if err := add(postureRecord(integrationID, f, findingClose, at)); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// sameUser reports whether prev holds u with the same profile and times.
func sameUser(prev *Index, u *store.InventoryUser) bool {
	i, ok := prev.byKey[u.ID]
	if !ok {
		return false
	}
	p := prev.snap.Users[i]
	p.SyncedAt, p.LastLogin = u.SyncedAt, u.LastLogin // a sign-in alone is not an inventory change
	return reflect.DeepEqual(p, *u)
}

func slicesEqual(a, b []string) bool { return reflect.DeepEqual(a, b) || (len(a) == 0 && len(b) == 0) }

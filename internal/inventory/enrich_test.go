package inventory

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/normalize"
	"github.com/idwatch/idwatch/internal/normalize/ocsftest"
	"github.com/idwatch/idwatch/internal/sink"
	"github.com/idwatch/idwatch/internal/store"
)

// TestRecordsEnrichedFromInventory: with the manager as the enrichment of the OCSF records sinks
// deliver, an event about an AD-linked admin of the oktasim org carries the admin's SID, GUID
// and DN where OCSF puts them, as the inventory synced them from Okta.
func TestRecordsEnrichedFromInventory(t *testing.T) {
	o := newOrg(t, orgOptions{seed: 63, users: 60})
	bg := context.Background()
	setFeatures(t, o, []string{"inventory"})
	clk := clock.NewManual(t0)
	o.svc.Syncer.Now = clk.Now
	m := &Manager{Store: o.st, Clock: clk, Poll: time.Second,
		NewService: func(in store.Integration) (*Service, error) {
			return &Service{Store: o.st, Syncer: o.svc.Syncer, IntegrationID: in.ID}, nil
		}}
	ctx, cancel := context.WithCancel(bg)
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	id := o.svc.IntegrationID
	waitFor(t, clk, time.Second, "the first sync", func() bool { return m.Enricher(id) != nil })
	snap, err := o.st.LoadInventory(bg, id)
	if err != nil {
		t.Fatal(err)
	}
	var admin, plain store.InventoryUser
	for _, u := range snap.Users {
		x, _ := m.Lookup(bg, id, u.ID)
		switch {
		case x.IsAdmin && x.ADLinked && admin.ID == "":
			admin = u
		case !x.IsAdmin && plain.ID == "" && u.ID != o.connector.ID:
			plain = u
		}
	}
	if admin.ID == "" || plain.ID == "" {
		t.Fatal("the org has no AD-linked admin or no plain user")
	}
	o.appendEvent(t, "enrich-1", "user.lifecycle.suspend", admin.ID, userTarget(plain.ID))
	entries, err := o.st.ReadJournal(bg, 0, 10, store.ReadFilter{})
	if err != nil || len(entries) == 0 {
		t.Fatalf("journal: %v %v", entries, err)
	}
	recs, err := sink.NormalizeOCSFEnriched(normalize.New(), m.Enricher)(entries[len(entries)-1])
	if err != nil || len(recs) == 0 {
		t.Fatalf("records: %v %v", recs, err)
	}
	body := string(recs[0].Body)
	for _, want := range []string{`"uid_alt":"` + admin.ObjectSid + `"`, `"ldap_dn":"` + admin.DistinguishedName + `"`,
		`"uid":"` + admin.ObjectGuid + `"`, `"type_id":2,"type":"Admin"`, `"uid":"` + plain.ID + `"`} {
		if !strings.Contains(body, want) {
			t.Errorf("record lacks %s:\n%s", want, body)
		}
	}
	if err := ocsftest.New(t).Validate(recs[0].Body); err != nil {
		t.Errorf("enriched record is not valid OCSF 1.8.0: %v", err)
	}
}

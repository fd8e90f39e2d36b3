package inventory

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/clock"
	"github.com/idwatch/idwatch/internal/process"
	"github.com/idwatch/idwatch/internal/store"
)

// TestProcessorEnrichesFromInventory: with the manager as the processor's enrichment, an
// event about an AD-linked admin of the oktasim org is stored with the admin's SID, GUID and DN
// where OCSF puts them, as the inventory synced them from Okta.
func TestProcessorEnrichesFromInventory(t *testing.T) {
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
	p, err := process.New(bg, process.Config{Store: o.st, Enrichment: m})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.ProcessAvailable(bg); err != nil {
		t.Fatal(err)
	}
	recs, err := o.st.ReadRecords(bg, 0, 10, store.RecordFilter{})
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
}

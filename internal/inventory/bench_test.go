package inventory

import (
	"fmt"
	"testing"

	"github.com/idwatch/idwatch/internal/store"
)

// BenchmarkIndexLookup measures one enrichment lookup in a 10,000-user, 500-group inventory.
func BenchmarkIndexLookup(b *testing.B) {
	x := benchIndex()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, ok := x.Lookup(fmt.Sprintf("USER%d@acme.example", i%10000)); !ok {
			b.Fatal("not found")
		}
	}
}

// BenchmarkEnrichUser is what enrichment costs per user of a record: the lookup and the
// conversion to what normalize writes.
func BenchmarkEnrichUser(b *testing.B) {
	e := indexEnricher{benchIndex()}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, ok := e.EnrichUser(fmt.Sprintf("00u%017d", i%10000)); !ok {
			b.Fatal("not found")
		}
	}
}

// benchIndex indexes 10,000 users in 500 groups.
func benchIndex() *Index {
	snap := &store.InventorySnapshot{}
	for i := range 10000 {
		snap.Users = append(snap.Users, store.InventoryUser{ID: fmt.Sprintf("00u%017d", i), Login: fmt.Sprintf("user%d@acme.example", i),
			Status: "ACTIVE", ObjectSid: fmt.Sprintf("S-1-5-21-1-2-3-%d", 1000+i)})
	}
	for g := range 500 {
		grp := store.InventoryGroup{ID: fmt.Sprintf("00g%017d", g), Name: fmt.Sprintf("Group %d", g)}
		for i := g % 13; i < 10000; i += 97 {
			grp.Members = append(grp.Members, snap.Users[i].ID)
		}
		snap.Groups = append(snap.Groups, grp)
	}
	return NewIndex(snap)
}

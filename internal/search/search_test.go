package search

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/store"
	"github.com/idwatch/idwatch/internal/store/sqlite"
)

func TestParseTypes(t *testing.T) {
	exact, prefixes, err := ParseTypes([]string{"user.session.start", " user.mfa.* ", "policy.", ""})
	if err != nil || !slices.Equal(exact, []string{"user.session.start"}) || !slices.Equal(prefixes, []string{"user.mfa.", "policy."}) {
		t.Fatalf("got %v %v %v", exact, prefixes, err)
	}
	for _, bad := range []string{"user.*.start", "*", "user.sess?on"} {
		if _, _, err := ParseTypes([]string{bad}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestSchemaSearchPagesAcrossNewTypes pages a schema search while an event of a type the index
// had not seen arrives: the cursor stays valid, and each earlier event comes once.
func TestSchemaSearchPagesAcrossNewTypes(t *testing.T) {
	st, err := sqlite.Open(t.Context(), sqlite.Options{Path: filepath.Join(t.TempDir(), "idwatch.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	base := time.Date(2026, 3, 12, 9, 0, 0, 0, time.UTC)
	ev := func(i int, typ string) store.Event {
		uuid := fmt.Sprintf("e%d", i)
		at := base.Add(time.Duration(i) * time.Second)
		return store.Event{UUID: uuid, Published: at, EventType: typ,
			Raw: fmt.Appendf(nil, `{"uuid":%q,"published":%q,"eventType":%q}`, uuid, at.Format(time.RFC3339), typ)}
	}
	var evs []store.Event
	for i := range 9 {
		evs = append(evs, ev(i, []string{"user.session.start", "user.lifecycle.create", "group.user_membership.add"}[i%3]))
	}
	if _, err := st.AppendPage(t.Context(), 1, evs, nil); err != nil {
		t.Fatal(err)
	}
	svc := New(st)
	q := EventQuery{Schemas: []string{"auth"}}
	q.Limit, q.Oldest = 1, true
	var got []string
	for i := 0; ; i++ {
		p, err := svc.SearchEvents(t.Context(), q)
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		for _, e := range p.Events {
			got = append(got, e.UUID)
		}
		if i == 0 { // a new auth type arrives between pages
			if _, err := st.AppendPage(t.Context(), 1, []store.Event{ev(20, "user.mfa.factor.activate")}, nil); err != nil {
				t.Fatal(err)
			}
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	if !slices.Equal(got, []string{"e0", "e3", "e6", "e20"}) {
		t.Fatalf("auth events %v", got)
	}
	// A query with another schema does not take the cursor.
	first, err := svc.SearchEvents(t.Context(), EventQuery{Schemas: []string{"auth"}, EventQuery: store.EventQuery{Limit: 1}})
	if err != nil || first.Next == "" {
		t.Fatalf("first page: %+v %v", first, err)
	}
	q2 := EventQuery{Schemas: []string{"generic"}, EventQuery: store.EventQuery{Limit: 1, Cursor: first.Next}}
	if _, err := svc.SearchEvents(t.Context(), q2); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("cursor of another schema: %v", err)
	}
}

package inventory

import (
	"testing"

	"github.com/idwatch/idwatch/internal/store"
)

// FuzzCollect: reading any journal entry for the inventory never panics, and an entry it cannot
// decode is counted, not applied.
func FuzzCollect(f *testing.F) {
	f.Add("user.lifecycle.suspend", `{"uuid":"u1","eventType":"user.lifecycle.suspend","target":[{"id":"00u1","type":"User"}]}`)
	f.Add("group.user_membership.add", `{"target":[{"id":"00u1","type":"User"},{"id":"00g1","type":"UserGroup"}]}`)
	f.Add("user.session.start", `{"actor":{"id":"00u1","type":"User"},"outcome":{"result":"SUCCESS"},"published":"2026-03-02T09:00:00.000Z"}`)
	f.Add("user.mfa.factor.activate", `{"target":[{"id":"00u1","type":"User"}],"actor":null}`)
	f.Add("system.api_token.create", `not json`)
	f.Add("user.account.privilege.grant", `{"target":"oops"}`)
	f.Fuzz(func(t *testing.T, typ, raw string) {
		ch := collect([]store.Entry{{Seq: 1, EventType: typ, Raw: []byte(raw)}})
		if ch.lastSeq != 1 {
			t.Fatalf("lastSeq %d", ch.lastSeq)
		}
		if ch.malformed > 0 && (len(ch.users)+len(ch.groups)+len(ch.logins) > 0 || ch.tokens) {
			t.Fatalf("a malformed entry changed something: %+v", ch)
		}
	})
}

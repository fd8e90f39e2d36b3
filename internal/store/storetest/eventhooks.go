package storetest

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
)

func (su suite) eventHooks(t *testing.T) {
	f := su.open(t)
	in, err := f.s.CreateIntegration(f.ctx, sampleIntegration("acme"))
	f.must(err)
	_, err = f.s.EventHook(f.ctx, in.ID)
	wantErr(t, "no hook yet", err, store.ErrNotFound)
	_, err = f.s.PutEventHook(f.ctx, store.EventHook{IntegrationID: in.ID + 99, URL: "https://x", HeaderName: "Authorization", Secret: secret.New("s")})
	wantErr(t, "hook of a missing integration", err, store.ErrNotFound)
	_, err = f.s.PutEventHook(f.ctx, store.EventHook{IntegrationID: in.ID, URL: "https://x", HeaderName: "Authorization"})
	wantErr(t, "hook without secret", err, store.ErrInvalid)

	h := store.EventHook{IntegrationID: in.ID, OktaHookID: "who1", URL: "https://idwatch.example.com/hooks/okta/acme",
		HeaderName: "Authorization", Secret: secret.New("hook-secret-1"), EventTypes: []string{"user.session.start"}, Status: "ACTIVE VERIFIED"}
	_, err = f.s.PutEventHook(f.ctx, h)
	f.must(err)
	got, err := f.s.EventHook(f.ctx, in.ID)
	f.must(err)
	if got.Secret.Reveal() != "hook-secret-1" || got.OktaHookID != "who1" || !slices.Equal(got.EventTypes, h.EventTypes) || !got.CreatedAt.Equal(epoch) {
		t.Fatalf("round trip: %+v", got)
	}
	f.h.Clock.Advance(time.Minute)
	f.must(f.s.RecordHookDeliveries(f.ctx, in.ID, store.HookDeliveries{At: f.h.Clock.Now(), Deliveries: 3, Events: 7, PerMinute: 3}))
	h.Secret = secret.New("hook-secret-2")
	_, err = f.s.PutEventHook(f.ctx, h)
	f.must(err)
	list, err := f.s.ListEventHooks(f.ctx)
	f.must(err)
	if len(list) != 1 || list[0].Deliveries != 3 || list[0].EventsReceived != 7 || !list[0].LastDelivery.Equal(f.h.Clock.Now()) ||
		!list[0].Secret.IsZero() || !list[0].CreatedAt.Equal(epoch) {
		t.Fatalf("list after rotation: %+v", list)
	}
	got, err = f.s.EventHook(f.ctx, in.ID)
	f.must(err)
	if got.Secret.Reveal() != "hook-secret-2" {
		t.Fatal("rotated secret not stored")
	}

	// Journal source: the first copy wins; polled copies of subscribed types count as missed.
	ev := func(uuid, typ, source string) store.Event {
		return store.Event{UUID: uuid, EventType: typ, Published: epoch, Raw: json.RawMessage(`{"uuid":"` + uuid + `"}`), Source: source}
	}
	f.appendPage(in.ID, []store.Event{ev("a", "user.session.start", store.SourcePush)}, nil)
	f.appendPage(in.ID, []store.Event{ev("a", "user.session.start", ""), ev("b", "user.session.start", ""), ev("c", "policy.evaluate_sign_on", "")}, nil)
	entries := f.readAll(0, store.ReadFilter{})
	var sources []string
	for _, e := range entries {
		sources = append(sources, e.UUID+"="+e.Source)
	}
	if !slices.Equal(sources, []string{"a=push", "b=poll", "c=poll"}) {
		t.Fatalf("sources %v", sources)
	}
	n, err := f.s.CountPolledSince(f.ctx, in.ID, []string{"user.session.start"}, epoch)
	f.must(err)
	if n != 1 {
		t.Fatalf("polled subscribed events = %d, want 1", n)
	}

	f.must(f.s.DeleteEventHook(f.ctx, in.ID))
	wantErr(t, "delete twice", f.s.DeleteEventHook(f.ctx, in.ID), store.ErrNotFound)
}

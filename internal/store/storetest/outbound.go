package storetest

import (
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// Deliveries of several channels share the table: each channel's claims,
// next-due times and lapses see only its own; e-mails keep their address
// as target; another channel's delivery has "channel:target" as address,
// one per event and target; listing and retrying filter by channel.
func testOutboundChannels(t *testing.T, s store.Store) {
	ctx := t.Context()
	ev := newEvent(t, s, nil)
	n, err := s.DeliveryInsertMany(ctx, &store.DeliveryInsertManyParams{EventID: ev.ID, CreatedAt: t0,
		Recipients: []store.DeliveryRecipient{{UserID: "u1", Address: "ann@x.test"}}})
	must(t, err)
	if n != 1 {
		t.Fatalf("e-mails queued = %d, want 1", n)
	}
	n, err = s.DeliveryInsertMany(ctx, &store.DeliveryInsertManyParams{EventID: ev.ID, CreatedAt: t0, Channel: store.OutboundWebhook,
		Recipients: []store.DeliveryRecipient{{Target: "3"}, {Target: "4"}, {Target: "3"}}})
	must(t, err)
	if n != 2 {
		t.Fatalf("webhooks queued = %d, want 2 (one per outlet)", n)
	}
	all, err := s.DeliveryList(ctx, &store.DeliveryListParams{EventID: ev.ID})
	must(t, err)
	got := map[string]store.Delivery{}
	for _, d := range all {
		got[d.Channel+" "+d.Target] = d
	}
	if len(all) != 3 || got["email ann@x.test"].Address != "ann@x.test" || got["webhook 3"].Address != "webhook:3" ||
		got["webhook 4"].Address != "webhook:4" {
		t.Fatalf("deliveries = %+v", all)
	}
	hooks, err := s.DeliveryList(ctx, &store.DeliveryListParams{Channel: store.OutboundWebhook})
	must(t, err)
	if len(hooks) != 2 {
		t.Fatalf("webhook deliveries listed = %d, want 2", len(hooks))
	}

	now := t0.Add(time.Minute)
	claim := func(channel, owner string) []store.ClaimedDelivery {
		cs, err := s.DeliveryClaim(ctx, &store.DeliveryClaimParams{Channel: channel, Owner: owner, Now: now,
			LeaseUntil: now.Add(time.Minute), Limit: 10})
		must(t, err)
		return cs
	}
	cs := claim(store.OutboundWebhook, "w")
	if len(cs) != 2 || cs[0].Channel != store.OutboundWebhook || cs[0].MessageID != "" {
		t.Fatalf("webhook claim = %+v, want the 2 webhooks, without Message-ID", cs)
	}
	if lapse, err := s.DeliveryNextLapse(ctx, store.OutboundEmail, nil); err != nil || lapse != nil {
		t.Errorf("e-mail's next lapse = %v, %v; want none (only webhooks are being sent)", lapse, err)
	}
	if lapse, err := s.DeliveryNextLapse(ctx, store.OutboundWebhook, nil); err != nil || lapse == nil {
		t.Errorf("webhook's next lapse = %v, %v; want the claim's lease", lapse, err)
	}
	next := now.Add(time.Hour)
	recorded, err := s.DeliveryRecord(ctx, &store.DeliveryRecordParams{Owner: "w", At: now, Outcomes: []store.DeliveryOutcome{
		{ID: cs[0].ID, State: store.DeliveryFailed, Code: 410, Message: "gone"},
		{ID: cs[1].ID, State: store.DeliveryRetrying, Code: 503, NextAttemptAt: &next},
	}})
	must(t, err)
	if recorded != 2 {
		t.Fatalf("recorded %d, want 2", recorded)
	}
	if due, err := s.DeliveryNextDue(ctx, store.OutboundEmail); err != nil || due != nil {
		t.Errorf("e-mail's next due = %v, %v; want none", due, err)
	}
	if due, err := s.DeliveryNextDue(ctx, store.OutboundWebhook); err != nil || due == nil || !due.Equal(norm(next)) {
		t.Errorf("webhook's next due = %v, %v; want %v", due, err, norm(next))
	}
	if cs := claim("", "e"); len(cs) != 1 || cs[0].Channel != store.OutboundEmail || cs[0].Target != "ann@x.test" {
		t.Fatalf("e-mail claim = %+v, want the e-mail only", cs)
	}
	if n, err := s.DeliveryRetry(ctx, &store.DeliveryRetryParams{Channel: store.OutboundEmail, At: now}); err != nil || n != 0 {
		t.Errorf("retry failed e-mails = %d, %v; want 0", n, err)
	}
	if n, err := s.DeliveryRetry(ctx, &store.DeliveryRetryParams{Channel: store.OutboundWebhook, At: now}); err != nil || n != 1 {
		t.Errorf("retry failed webhooks = %d, %v; want 1", n, err)
	}
	st, err := s.MonitorStats(ctx, now)
	must(t, err)
	if w := st.DeliveriesByChannel[store.OutboundWebhook]; w[store.DeliveryQueued] != 1 || w[store.DeliveryRetrying] != 1 ||
		st.DeliveriesByChannel[store.OutboundEmail][store.DeliverySending] != 1 || st.DeliveriesByState[store.DeliveryQueued] != 1 {
		t.Errorf("monitor stats = %+v", st)
	}
}

package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// Outlets are kept with their filters; a name is taken once; a run of
// failures longer than the window pauses an outlet, a success ends the
// run, resuming forgets it.
func testWebhooks(t *testing.T, s store.Store) {
	ctx := t.Context()
	if list, err := s.WebhookList(ctx); err != nil || list == nil || len(list) != 0 {
		t.Fatalf("empty list = %#v, %v", list, err)
	}
	a := &store.WebhookOutlet{Name: "chat", URL: "http://127.0.0.1:1/hook", Format: store.WebhookChat, Secret: "whsec_AAAA",
		Types: []string{"task:*", "message:system"}, Recipients: store.WebhookRecipients{CompanyIDs: []string{"10"}}}
	must(t, s.WebhookInsert(ctx, a))
	b := &store.WebhookOutlet{Name: "erp", URL: "http://127.0.0.1:1/erp", Format: store.WebhookStandard, Secret: "whsec_BBBB", Types: []string{"*"}}
	must(t, s.WebhookInsert(ctx, b))
	if err := s.WebhookInsert(ctx, &store.WebhookOutlet{Name: "chat", URL: "http://x", Format: "chat", Secret: "s"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a second outlet named chat: %v, want ErrConflict", err)
	}
	got, err := s.WebhookGet(ctx, a.ID)
	must(t, err)
	if got.Name != "chat" || len(got.Types) != 2 || got.Types[0] != "task:*" || got.Recipients.CompanyIDs[0] != "10" ||
		got.PausedAt != nil || got.FailingSince != nil {
		t.Errorf("got %+v", got)
	}
	if gb, _ := s.WebhookGet(ctx, b.ID); gb == nil || gb.Recipients.Empty() != true {
		t.Errorf("erp recipients = %+v, want none", gb)
	}

	start := t0
	paused, err := s.WebhookAttempts(ctx, &store.WebhookAttemptsParams{At: start, Window: time.Hour,
		Failed: []int64{a.ID, b.ID}, OK: []int64{b.ID}, Errors: map[int64]string{a.ID: "500 boom", b.ID: "x"}})
	must(t, err)
	if len(paused) != 0 {
		t.Errorf("paused %v at the first failure", paused)
	}
	ga, _ := s.WebhookGet(ctx, a.ID)
	gb, _ := s.WebhookGet(ctx, b.ID)
	if ga.FailingSince == nil || !ga.FailingSince.Equal(norm(start)) || ga.LastError != "500 boom" || gb.FailingSince != nil {
		t.Errorf("after one failure: chat %+v, erp %+v", ga, gb)
	}
	paused, err = s.WebhookAttempts(ctx, &store.WebhookAttemptsParams{At: start.Add(59 * time.Minute), Window: time.Hour,
		Failed: []int64{a.ID}, Errors: map[int64]string{a.ID: "404 nope"}})
	must(t, err)
	if len(paused) != 0 {
		t.Errorf("paused %v within the window", paused)
	}
	paused, err = s.WebhookAttempts(ctx, &store.WebhookAttemptsParams{At: start.Add(time.Hour), Window: time.Hour,
		Failed: []int64{a.ID}, Errors: map[int64]string{a.ID: "404 nope"}})
	must(t, err)
	if len(paused) != 1 || paused[0] != a.ID {
		t.Fatalf("paused %v after the window, want [%d]", paused, a.ID)
	}
	ga, _ = s.WebhookGet(ctx, a.ID)
	if ga.PausedAt == nil || ga.PauseReason != store.PauseReason(time.Hour)+"404 nope" {
		t.Errorf("paused outlet %+v", ga)
	}
	must(t, s.WebhookSetPaused(ctx, a.ID, nil, ""))
	ga, _ = s.WebhookGet(ctx, a.ID)
	if ga.PausedAt != nil || ga.FailingSince != nil || ga.PauseReason != "" {
		t.Errorf("resumed outlet %+v", ga)
	}
	must(t, s.WebhookDelete(ctx, a.ID))
	if err := s.WebhookDelete(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete again: %v", err)
	}
	if err := s.WebhookSetPaused(ctx, a.ID, &start, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("pause a removed outlet: %v", err)
	}
}

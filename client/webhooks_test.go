package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche/client"
	"github.com/cloche/cloche/internal/testdb"
)

// TestClientWebhooks: an outlet added, listed, tested, paused, resumed and
// removed through the API; bad input names its field; a name taken is a
// conflict; the webhook of a notification arrives and is listed among the
// webhook deliveries.
func TestClientWebhooks(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			got := make(chan string, 10)
			rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got <- r.Header.Get("webhook-signature")
				w.WriteHeader(http.StatusAccepted)
			}))
			defer rcv.Close()
			base, svc, key := serve(t, b.URL(t))
			if err := svc.Start(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = svc.Stop(ctx)
			})
			c, err := client.New(base, key)
			if err != nil {
				t.Fatal(err)
			}
			o, err := c.AddWebhook(ctx, client.WebhookInput{Name: "erp", URL: rcv.URL, Types: []string{"message:*"}})
			if err != nil || o.ID == 0 || !strings.HasPrefix(o.Secret, "whsec_") || o.Format != "standard" {
				t.Fatalf("add = %+v, %v", o, err)
			}
			var ce *client.Error
			_, err = c.AddWebhook(ctx, client.WebhookInput{Name: "x", URL: "nope", Types: []string{"*"}})
			if !errors.Is(err, client.ErrInvalid) || !errors.As(err, &ce) || ce.Field != "url" {
				t.Errorf("bad url: %v", err)
			}
			if _, err = c.AddWebhook(ctx, client.WebhookInput{Name: "erp", URL: rcv.URL, Types: []string{"*"}}); !errors.Is(err, client.ErrConflict) {
				t.Errorf("a second erp: %v", err)
			}
			list, err := c.Webhooks(ctx)
			if err != nil || len(list) != 1 || list[0].Name != "erp" {
				t.Fatalf("list = %+v, %v", list, err)
			}
			res, err := c.TestWebhook(ctx, o.ID)
			if err != nil || !res.OK || res.Status != http.StatusAccepted || res.MessageID == "" {
				t.Errorf("test = %+v, %v", res, err)
			}
			if sig := <-got; !strings.HasPrefix(sig, "v1,") {
				t.Errorf("test webhook signature %q", sig)
			}
			if p, err := c.PauseWebhook(ctx, o.ID); err != nil || p.PausedAt == nil {
				t.Errorf("pause = %+v, %v", p, err)
			}
			if p, err := c.ResumeWebhook(ctx, o.ID); err != nil || p.PausedAt != nil {
				t.Errorf("resume = %+v, %v", p, err)
			}
			if _, err := c.UpsertUser(ctx, client.UserInput{ID: "1", Email: "alice@example.org"}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Notify(ctx, client.Notification{Key: "message:internal", Title: "Hi", UserIDs: []string{"1"}}); err != nil {
				t.Fatal(err)
			}
			select {
			case <-got:
			case <-time.After(time.Minute):
				t.Fatal("no webhook within a minute")
			}
			deadline := time.Now().Add(time.Minute)
			for {
				p, err := c.Deliveries(ctx, client.DeliveryFilter{Channel: "webhook", State: "sent"})
				if err != nil {
					t.Fatal(err)
				}
				if len(p.Items) == 1 && p.Items[0].Channel == "webhook" && p.Items[0].Target == "1" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("webhook deliveries %+v", p.Items)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if err := c.RemoveWebhook(ctx, o.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Webhook(ctx, o.ID); !errors.Is(err, client.ErrNotFound) {
				t.Errorf("removed outlet: %v", err)
			}
		})
	}
}

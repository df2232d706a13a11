package client_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/client"
	"github.com/cloche/cloche/internal/httpapi"
	"github.com/cloche/cloche/internal/testdb"
)

// serve runs a real Cloche server on 127.0.0.1 and returns its URL, the
// service, and an API key.
func serve(t *testing.T, dbURL string) (string, *cloche.Service, string) {
	t.Helper()
	cfg := cloche.DefaultConfig()
	cfg.DatabaseURL = dbURL
	cfg.TimeZone = "Europe/Paris"
	svc, err := cloche.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	srv, err := httpapi.New(svc, httpapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	_, key, err := svc.CreateAPIKey(context.Background(), "client-test")
	if err != nil {
		t.Fatal(err)
	}
	return "http://" + ln.Addr().String(), svc, key
}

func TestClient(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			base, _, key := serve(t, b.URL(t))
			c, err := client.New(base+"/", key)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Health(ctx); err != nil {
				t.Fatal(err)
			}
			if err := c.Ready(ctx); err != nil {
				t.Fatal(err)
			}

			// Directory.
			f := false
			stats, err := c.ImportDirectory(ctx, client.DirectoryFile{
				Companies: []client.CompanyInput{{ID: "10", Name: "Atelier Nord", Email: "nord@example.org"}},
				Users: []client.UserInput{
					{ID: "1", Email: "alice@example.org", Name: "Alice", Groups: []string{"manager"}, Companies: []string{"10"}},
					{ID: "2", Email: "bob@example.org", Name: "Bob", Groups: []string{"manager"}, FollowerID: "1"},
					{ID: "3", Name: "Carol", Active: &f},
				},
			})
			if err != nil || stats.Users != 3 || stats.Companies != 1 {
				t.Fatalf("import: %+v %v", stats, err)
			}
			// The same people as a snapshot: only Carol's account type changes.
			synced, err := c.SyncDirectory(ctx, client.DirectorySnapshot{
				Users: []client.UserInput{
					{ID: "1", Email: "alice@example.org", Name: "Alice", Groups: []string{"manager"}, Companies: []string{"10"}},
					{ID: "2", Email: "bob@example.org", Name: "Bob", Groups: []string{"manager"}, FollowerID: "1"},
					{ID: "3", Name: "Carol", Active: &f, AccountType: "entrepreneur"},
				},
			})
			if err != nil || synced.SyncCounts != (client.SyncCounts{Updated: 1, Unchanged: 2}) {
				t.Fatalf("sync: %+v %v", synced, err)
			}
			u, err := c.UpsertUser(ctx, client.UserInput{ID: "a b/c", Name: "Odd id", Groups: []string{"night shift"}})
			if err != nil || u.ID != "a b/c" {
				t.Fatalf("upsert a user with an odd id: %+v %v", u, err)
			}
			if got, err := c.User(ctx, "a b/c"); err != nil || got.Groups[0] != "night shift" {
				t.Errorf("user: %+v %v", got, err)
			}
			members, err := c.GroupMembers(ctx, "night shift", "", 0)
			if err != nil || len(members.Items) != 1 {
				t.Errorf("members of a group with a space: %+v %v", members, err)
			}
			if err := c.SetGroupMembers(ctx, "night shift", []string{"1", "2"}); err != nil {
				t.Error(err)
			}
			if n, err := c.DeleteGroup(ctx, "night shift"); err != nil || n != 2 {
				t.Errorf("delete group: %d %v", n, err)
			}
			if err := c.DeleteUser(ctx, "a b/c"); err != nil {
				t.Error(err)
			}
			users, err := c.Users(ctx, client.UserFilter{Group: "manager", Limit: 1})
			if err != nil || len(users.Items) != 1 || users.Next != "1" {
				t.Errorf("users: %+v %v", users, err)
			}
			if gs, err := c.Groups(ctx); err != nil || len(gs) != 1 || gs[0].Members != 2 {
				t.Errorf("groups: %+v %v", gs, err)
			}
			co, err := c.UpsertCompany(ctx, client.CompanyInput{ID: "20", Name: "Sud"})
			if err != nil || !co.Active {
				t.Errorf("company: %+v %v", co, err)
			}
			if err := c.DeleteCompany(ctx, "20"); err != nil {
				t.Error(err)
			}
			if _, err := c.Company(ctx, "20"); !errors.Is(err, client.ErrNotFound) {
				t.Errorf("deleted company: %v", err)
			}

			// Types.
			if _, err := c.SetType(ctx, "invoice:late", client.TypeSettings{DefaultChannel: "message", Label: "Late"}); err != nil {
				t.Fatal(err)
			}
			if ty, err := c.Type(ctx, "invoice:late"); err != nil || ty.Label != "Late" {
				t.Errorf("type: %+v %v", ty, err)
			}
			if ts, err := c.Types(ctx); err != nil || len(ts) != 22 {
				t.Errorf("types: %d %v", len(ts), err)
			}

			// Notify, idempotently.
			res, err := c.Notify(ctx, client.Notification{Key: "invoice:late", Title: "Pay", UserIDs: []string{"1", "2"}},
				client.IdempotencyKey("inv-1"))
			if err != nil || res.Status != "published" || res.Reached["message"] != 2 || res.Replayed {
				t.Fatalf("notify: %+v %v", res, err)
			}
			again, err := c.Notify(ctx, client.Notification{Key: "invoice:late", Title: "Pay", UserIDs: []string{"1", "2"}},
				client.IdempotencyKey("inv-1"))
			if err != nil || !again.Replayed || again.EventID != res.EventID {
				t.Errorf("retry: %+v %v", again, err)
			}
			_, err = c.Notify(ctx, client.Notification{Key: "invoice:late", Title: "Other", UserIDs: []string{"1"}},
				client.IdempotencyKey("inv-1"))
			var ae *client.Error
			if !errors.As(err, &ae) || ae.Status != 422 || ae.Field != "Idempotency-Key" || !errors.Is(err, client.ErrInvalid) {
				t.Errorf("key reused: %v", err)
			}
			if err := c.DeleteType(ctx, "invoice:late"); !errors.Is(err, client.ErrConflict) {
				t.Errorf("delete a used type: %v", err)
			}
			due := time.Now().Add(time.Hour)
			sched, err := c.Notify(ctx, client.Notification{Key: "task:status:valid", Title: "Later", CompanyID: "10",
				DueDatetime: &due, Context: &client.Context{Type: "invoice", ID: "7"}})
			if err != nil || sched.Status != "pending" {
				t.Fatalf("scheduled: %+v %v", sched, err)
			}
			evs, err := c.Events(ctx, client.EventFilter{Status: "pending", Context: &client.Context{Type: "invoice", ID: "7"}})
			if err != nil || len(evs.Items) != 1 || evs.Items[0].ID != sched.EventID {
				t.Errorf("events: %+v %v", evs, err)
			}
			if ids, err := c.CancelEvents(ctx, client.Context{Type: "invoice", ID: "7"}, ""); err != nil || len(ids) != 1 {
				t.Errorf("cancel by context: %v %v", ids, err)
			}
			if err := c.CancelEvent(ctx, sched.EventID); !errors.Is(err, client.ErrConflict) {
				t.Errorf("cancel a cancelled event: %v", err)
			}
			mail, err := c.Notify(ctx, client.Notification{Key: "task:status:valid", Title: "Mail", UserIDs: []string{"1", "2"}})
			if err != nil {
				t.Fatal(err)
			}
			if ev, err := c.Event(ctx, mail.EventID); err != nil || ev.Deliveries["queued"] != 2 {
				t.Errorf("event: %+v %v", ev, err)
			}
			ds, err := c.Deliveries(ctx, client.DeliveryFilter{EventID: mail.EventID})
			if err != nil || len(ds.Items) != 2 {
				t.Fatalf("deliveries: %+v %v", ds, err)
			}
			if d, err := c.Delivery(ctx, ds.Items[0].ID); err != nil || d.State != "queued" {
				t.Errorf("delivery: %+v %v", d, err)
			}
			if _, err := c.RetryDelivery(ctx, ds.Items[0].ID); !errors.Is(err, client.ErrConflict) {
				t.Errorf("retry a queued delivery: %v", err)
			}

			// A page with a user token.
			tok, err := c.UserToken(ctx, "1", 10*time.Minute)
			if err != nil || tok.TokenType != "Bearer" {
				t.Fatalf("token: %+v %v", tok, err)
			}
			me, err := client.New(base, tok.Token)
			if err != nil {
				t.Fatal(err)
			}
			page, err := me.Me().List(ctx, client.InboxQuery{Channel: "message", Limit: 10})
			if err != nil || len(page.Items) != 1 || page.Items[0].Title != "Pay" {
				t.Fatalf("my inbox: %+v %v", page, err)
			}
			id := page.Items[0].ID
			if err := me.Me().MarkRead(ctx, id); err != nil {
				t.Error(err)
			}
			if it, err := me.Me().Get(ctx, id); err != nil || it.ReadAt == nil {
				t.Errorf("read: %+v %v", it, err)
			}
			if err := me.Me().MarkUnread(ctx, id); err != nil {
				t.Error(err)
			}
			if counts, err := me.Me().Counts(ctx); err != nil || counts.Unread["message"] != 1 {
				t.Errorf("counts: %+v %v", counts, err)
			}
			until := time.Now().Add(48 * time.Hour).Truncate(time.Second)
			if at, err := me.Me().Postpone(ctx, id, &until); err != nil || !at.Equal(until) {
				t.Errorf("postpone: %v %v", at, err)
			}
			// Browser push: the key, a browser registered and forgotten.
			if k, err := me.PushPublicKey(ctx); err != nil || len(k.PublicKey) != 87 || k.Enabled {
				t.Errorf("push key: %+v %v (want a key, not enabled without push.subject)", k, err)
			}
			browser := client.PushSubscriptionInput{Endpoint: "https://push.example/abc", Keys: client.PushKeys{
				P256dh: "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
				Auth:   "tBHItJI5svbpez7KI4CCXg"}}
			if sub, err := me.SubscribePush(ctx, browser); err != nil || sub.ID == 0 {
				t.Errorf("subscribe: %+v %v", sub, err)
			}
			browser.Keys.Auth = "short"
			if _, err := me.SubscribePush(ctx, browser); !errors.Is(err, client.ErrInvalid) {
				t.Errorf("subscribe with a bad auth secret: %v", err)
			}
			if err := me.UnsubscribePush(ctx, browser.Endpoint); err != nil {
				t.Errorf("unsubscribe: %v", err)
			}
			if err := me.UnsubscribePush(ctx, browser.Endpoint); !errors.Is(err, client.ErrNotFound) {
				t.Errorf("unsubscribe again: %v", err)
			}
			if _, err := me.Types(ctx); !errors.Is(err, client.ErrForbidden) {
				t.Errorf("a user token on a host route: %v", err)
			}
			// The host sees user 2's inbox; user 1's token does not.
			bobs, err := c.Inbox("2").List(ctx, client.InboxQuery{})
			if err != nil || len(bobs.Items) != 1 {
				t.Fatalf("bob's inbox: %+v %v", bobs, err)
			}
			if _, err := me.Me().Get(ctx, bobs.Items[0].ID); !errors.Is(err, client.ErrNotFound) {
				t.Errorf("another user's notification: %v", err)
			}
			if n, err := c.Inbox("2").MarkAllRead(ctx, ""); err != nil || n != 1 {
				t.Errorf("read all: %d %v", n, err)
			}

			bad, _ := client.New(base, "ck_"+strings.Repeat("x", 43))
			err = bad.Ready(ctx) // public
			if err != nil {
				t.Errorf("ready needs no key: %v", err)
			}
			if _, err := bad.Types(ctx); !errors.Is(err, client.ErrUnauthorized) {
				t.Errorf("unknown key: %v", err)
			}
		})
	}
}

func TestNewRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:8080", "ftp://x", "http://"} {
		if _, err := client.New(u, "k"); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
}

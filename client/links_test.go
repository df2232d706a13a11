package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cloche/cloche/client"
	"github.com/cloche/cloche/internal/testdb"
)

// Links, callback actions and the archive, through the client.
func TestClientLinksArchive(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Cloche-Signature") == "" {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				_, _ = w.Write([]byte(`{"message": "done"}`))
			}))
			t.Cleanup(host.Close)
			base, _, key := serve(t, b.URL(t))
			c, err := client.New(base, key)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.ImportDirectory(ctx, client.DirectoryFile{Users: []client.UserInput{{ID: "1", Name: "Alice"}}}); err != nil {
				t.Fatal(err)
			}
			res, err := c.Notify(ctx, client.Notification{Key: "message:internal", Title: "Invoice 42", UserIDs: []string{"1"},
				URL:     "https://erp.example.org/invoices/42",
				Actions: []client.Action{{Label: "Voir", URL: "https://erp.example.org/invoices/42"}, {Label: "Pay", Callback: host.URL}}})
			if err != nil {
				t.Fatal(err)
			}
			ev, err := c.Event(ctx, res.EventID)
			if err != nil || ev.URL != "https://erp.example.org/invoices/42" || len(ev.Actions) != 2 || ev.Actions[1].Callback != host.URL {
				t.Fatalf("event %+v %v", ev, err)
			}
			in := c.Inbox("1")
			page, err := in.List(ctx, client.InboxQuery{})
			if err != nil || len(page.Items) != 1 {
				t.Fatalf("inbox %+v %v", page, err)
			}
			it := page.Items[0]
			if it.URL != ev.URL || len(it.Actions) != 2 || !it.Actions[1].Callback || it.Actions[0].URL != ev.Actions[0].URL {
				t.Fatalf("item %+v", it)
			}
			out, err := in.RunAction(ctx, it.ID, 1)
			if err != nil || !out.OK || out.Message != "done" {
				t.Fatalf("run action: %+v %v", out, err)
			}
			if err := in.Archive(ctx, it.ID); err != nil {
				t.Fatal(err)
			}
			if page, err := in.List(ctx, client.InboxQuery{}); err != nil || len(page.Items) != 0 {
				t.Fatalf("inbox after archive %+v %v", page, err)
			}
			arch, err := in.List(ctx, client.InboxQuery{Archived: true})
			if err != nil || len(arch.Items) != 1 || arch.Items[0].ArchivedAt == nil {
				t.Fatalf("archive %+v %v", arch, err)
			}
			if counts, err := in.Counts(ctx); err != nil || counts.Total != 0 {
				t.Fatalf("counts %+v %v", counts, err)
			}
			if err := in.Unarchive(ctx, it.ID); err != nil {
				t.Fatal(err)
			}
			if page, err := in.List(ctx, client.InboxQuery{}); err != nil || len(page.Items) != 1 {
				t.Fatalf("inbox after unarchive %+v %v", page, err)
			}
			_, err = c.Notify(ctx, client.Notification{Key: "message:internal", Title: "t", UserIDs: []string{"1"}, URL: "ftp://x"})
			if err == nil || !strings.Contains(err.Error(), "url") {
				t.Fatalf("bad url: %v", err)
			}
		})
	}
}

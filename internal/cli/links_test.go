package cli

import (
	"fmt"
	"strings"
	"testing"
)

// notify --url --action --callback, events show, inbox archive/unarchive
// and inbox --archived.
func TestNotifyLinksAndArchive(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		h.importDirectory()
		var res struct {
			EventID int64 `json:"event_id"`
		}
		h.json(&res, "notify", "-k", "message:internal", "--title", "Facture 42", "-u", "1",
			"--url", "https://erp.example.org/invoices/42",
			"--action", "Voir=https://erp.example.org/invoices/42?a=b", "--callback", "Payer=https://erp.example.org/hooks/pay/42")
		show := h.ok("events", "show", fmt.Sprint(res.EventID))
		for _, want := range []string{"https://erp.example.org/invoices/42", "Voir → https://erp.example.org/invoices/42?a=b",
			"Payer → callback https://erp.example.org/hooks/pay/42"} {
			if !strings.Contains(show, want) {
				t.Errorf("events show lacks %q:\n%s", want, show)
			}
		}
		var page struct {
			Items []struct {
				ID      int64  `json:"id"`
				URL     string `json:"url"`
				Actions []struct {
					Label    string `json:"label"`
					Callback bool   `json:"callback"`
				} `json:"actions"`
			} `json:"items"`
		}
		h.json(&page, "inbox", "1")
		if len(page.Items) != 1 || page.Items[0].URL != "https://erp.example.org/invoices/42" || len(page.Items[0].Actions) != 2 ||
			!page.Items[0].Actions[1].Callback {
			t.Fatalf("inbox %+v", page)
		}
		id := fmt.Sprint(page.Items[0].ID)
		if out := h.ok("inbox", "archive", "1", id); !strings.Contains(out, "archived") {
			t.Errorf("archive: %s", out)
		}
		if out := h.ok("inbox", "1", "--all"); !strings.Contains(out, "no notifications") {
			t.Errorf("inbox after archive:\n%s", out)
		}
		if out := h.ok("inbox", "1", "--archived"); !strings.Contains(out, "Facture 42") {
			t.Errorf("archive list:\n%s", out)
		}
		h.ok("inbox", "unarchive", "1", id)
		if out := h.ok("inbox", "1"); !strings.Contains(out, "Facture 42") {
			t.Errorf("inbox after unarchive:\n%s", out)
		}

		h.fails(2, []string{"notify", "-k", "message:internal", "--title", "t", "-u", "1", "--action", "Voir"}, "--action", "LABEL=URL")
		h.fails(1, []string{"notify", "-k", "message:internal", "--title", "t", "-u", "1", "--url", "javascript:alert(1)"}, "url:", "--url")
		h.fails(1, []string{"notify", "-k", "message:internal", "--title", "t", "-u", "1", "--callback", "Go=ftp://x"},
			"actions[0].callback", "--callback")
	})
}

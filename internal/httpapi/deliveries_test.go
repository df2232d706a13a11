package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/cloche/cloche/internal/store/postgres"
	"github.com/cloche/cloche/internal/store/sqlite"
)

// failDelivery marks a delivery failed in the database, as the e-mail
// sender does after its last attempt.
func failDelivery(t *testing.T, dbURL string, id int64) {
	t.Helper()
	ctx := context.Background()
	const q = `UPDATE deliveries SET state = 'failed', attempts = 5, last_code = 550, last_message = 'no such mailbox' WHERE id = `
	if sqlite.IsURL(dbURL) {
		st, err := sqlite.Open(ctx, dbURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if _, err := st.DB().ExecContext(ctx, q+fmt.Sprint(id)); err != nil {
			t.Fatal(err)
		}
		return
	}
	st, err := postgres.Open(ctx, dbURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Pool().Exec(ctx, q+fmt.Sprint(id)); err != nil {
		t.Fatal(err)
	}
}

func TestDeliveries(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		h := newHarness(t, testConfig(db), Options{})
		h.loadDirectory()
		var first, second notifyResult
		h.host("POST", "/api/v1/events", map[string]any{"key": "task:status:valid", "title": "Valid", "user_ids": []int{1, 2, 3}}).
			want(t, http.StatusCreated, &first)
		h.host("POST", "/api/v1/events", map[string]any{"key": "task:status:paid", "title": "Paid", "company_id": 10}).
			want(t, http.StatusCreated, &second)

		type delivery struct {
			ID          int64  `json:"id"`
			EventID     int64  `json:"event_id"`
			Address     string `json:"address"`
			State       string `json:"state"`
			LastMessage string `json:"last_message"`
		}
		type page struct {
			Items []delivery `json:"items"`
			Next  string     `json:"next"`
		}
		var all page
		h.host("GET", "/api/v1/deliveries", nil).want(t, http.StatusOK, &all)
		if len(all.Items) != 4 || all.Items[0].Address != "nord@example.org" {
			t.Fatalf("deliveries %+v", all)
		}
		var ofFirst page
		h.host("GET", "/api/v1/deliveries?event_id="+itoa(first.EventID)+"&limit=2", nil).want(t, http.StatusOK, &ofFirst)
		if len(ofFirst.Items) != 2 || ofFirst.Next == "" || ofFirst.Items[0].EventID != first.EventID {
			t.Fatalf("first page of the first event %+v", ofFirst)
		}
		var rest page
		h.host("GET", "/api/v1/deliveries?event_id="+itoa(first.EventID)+"&limit=2&cursor="+ofFirst.Next, nil).want(t, http.StatusOK, &rest)
		if len(rest.Items) != 1 {
			t.Errorf("second page %+v", rest)
		}

		id := all.Items[1].ID
		var d delivery
		h.host("GET", "/api/v1/deliveries/"+itoa(id), nil).want(t, http.StatusOK, &d)
		if d.State != "queued" {
			t.Errorf("delivery %+v", d)
		}
		h.host("POST", "/api/v1/deliveries/"+itoa(id)+"/retry", nil).wantError(t, http.StatusConflict, codeConflict, "")
		failDelivery(t, db, id)
		var failed page
		h.host("GET", "/api/v1/deliveries?status=failed", nil).want(t, http.StatusOK, &failed)
		if len(failed.Items) != 1 || failed.Items[0].ID != id {
			t.Errorf("failed deliveries %+v", failed)
		}
		h.host("POST", "/api/v1/deliveries/"+itoa(id)+"/retry", nil).want(t, http.StatusOK, &d)
		if d.State != "queued" || d.LastMessage != "no such mailbox" {
			t.Errorf("retried %+v", d)
		}

		h.host("GET", "/api/v1/deliveries/424242", nil).wantError(t, http.StatusNotFound, codeNotFound, "")
		h.host("POST", "/api/v1/deliveries/424242/retry", nil).wantError(t, http.StatusNotFound, codeNotFound, "")
		h.host("GET", "/api/v1/deliveries?status=lost", nil).wantError(t, http.StatusUnprocessableEntity, codeInvalidField, "status")
		h.host("GET", "/api/v1/deliveries?event_id=x", nil).wantError(t, http.StatusBadRequest, codeInvalidParam, "event_id")
		h.host("GET", "/api/v1/deliveries/0", nil).wantError(t, http.StatusBadRequest, codeInvalidParam, "id")
	})
}

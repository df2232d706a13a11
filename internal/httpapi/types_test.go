package httpapi

import (
	"net/http"
	"testing"
)

func TestTypes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		h := newHarness(t, testConfig(db), Options{})
		h.loadDirectory()
		type typeJSON struct {
			Key            string `json:"key"`
			Label          string `json:"label"`
			DefaultChannel string `json:"default_channel"`
			StatusType     string `json:"status_type"`
			Builtin        bool   `json:"builtin"`
		}
		var list struct {
			Items []typeJSON `json:"items"`
		}
		h.host("GET", "/api/v1/types", nil).want(t, http.StatusOK, &list)
		if len(list.Items) != 21 {
			t.Errorf("%d types, want the 21 seeded", len(list.Items))
		}
		var ty typeJSON
		h.host("GET", "/api/v1/types/message:system", nil).want(t, http.StatusOK, &ty)
		if ty.DefaultChannel != "alert" || !ty.Builtin {
			t.Errorf("message:system %+v", ty)
		}
		h.host("GET", "/api/v1/types/invoice:late", nil).wantError(t, http.StatusNotFound, codeNotFound, "")

		h.host("PUT", "/api/v1/types/invoice:late", map[string]string{"label": "Late invoice"}).
			wantError(t, http.StatusUnprocessableEntity, codeInvalidField, "default_channel")
		h.host("PUT", "/api/v1/types/invoice:late", map[string]string{"default_channel": "email", "status_type": "caution"}).
			want(t, http.StatusCreated, &ty)
		if ty.Label != "invoice:late" || ty.StatusType != "caution" || ty.Builtin {
			t.Errorf("created %+v", ty)
		}
		h.host("PUT", "/api/v1/types/invoice:late", map[string]string{"label": "Late invoice"}).want(t, http.StatusOK, &ty)
		if ty.Label != "Late invoice" || ty.DefaultChannel != "email" {
			t.Errorf("changed %+v", ty)
		}
		h.host("PUT", "/api/v1/types/invoice:late", map[string]string{"status_type": "loud"}).
			wantError(t, http.StatusUnprocessableEntity, codeInvalidField, "status_type")

		h.host("POST", "/api/v1/events", map[string]any{"key": "invoice:late", "title": "Pay", "user_ids": []int{1}}).
			want(t, http.StatusCreated, nil)
		h.host("DELETE", "/api/v1/types/invoice:late", nil).wantError(t, http.StatusConflict, codeInUse, "")
		h.host("PUT", "/api/v1/types/invoice:unused", map[string]string{"default_channel": "message"}).want(t, http.StatusCreated, nil)
		h.host("DELETE", "/api/v1/types/invoice:unused", nil).want(t, http.StatusNoContent, nil)
		h.host("DELETE", "/api/v1/types/invoice:unused", nil).wantError(t, http.StatusNotFound, codeNotFound, "")
	})
}

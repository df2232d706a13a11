package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/email/smtptest"
)

// POST /api/v1/events takes attachments in base64; they go with the
// e-mail, byte for byte. Bad ones are refused naming the file and field.
func TestNotifyAttachments(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		smtp := smtptest.Start(t, smtptest.Options{})
		cfg := testConfig(db)
		cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.TLS = smtp.Host, smtp.Port, "none"
		cfg.SMTP.From = "Cloche <noreply@cloche.test>"
		cfg.Email.MaxAttachmentSize = 64 << 10
		h := newHarness(t, cfg, Options{})
		if err := h.svc.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = h.svc.Stop(ctx)
		})
		h.loadDirectory()
		pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte{0, 0xff, '\n'}, 1000)...)
		var res notifyResult
		h.host("POST", "/api/v1/events", map[string]any{
			"key": "message:internal", "title": "Facture F-42", "user_ids": []string{"1"}, "force_channel": "email",
			"attachments": []map[string]any{
				{"name": "facture F-42.pdf", "content_type": "application/pdf", "data": base64.StdEncoding.EncodeToString(pdf)},
				{"name": "note.txt", "data": base64.RawStdEncoding.EncodeToString([]byte("hello"))},
			},
		}).want(t, http.StatusCreated, &res)
		if res.Reached["email"] != 1 {
			t.Fatalf("reached %v", res.Reached)
		}
		msgs := smtp.Wait(t, 1, 60*time.Second)
		files := attachmentsOf(t, msgs[0].Data)
		if !bytes.Equal(files["facture F-42.pdf"], pdf) || string(files["note.txt"]) != "hello" {
			t.Errorf("attachments received: %d files, pdf %d bytes", len(files), len(files["facture F-42.pdf"]))
		}

		cases := []struct {
			name  string
			atts  any
			field string
		}{
			{"not an array", "x", "attachments"},
			{"not base64", []map[string]any{{"name": "a.txt", "data": "%%%"}}, "attachments[0].data"},
			{"no data", []map[string]any{{"name": "a.txt"}}, "attachments[0].data"},
			{"unknown field", []map[string]any{{"name": "a.txt", "data": "", "size": 3}}, "attachments[0].size"},
			{"a path", []map[string]any{{"name": "../a.txt", "data": ""}}, "attachments[0].name"},
			{"bad content type", []map[string]any{{"name": "a", "data": "", "content_type": "pdf"}}, "attachments[0].content_type"},
			{"too heavy", []map[string]any{{"name": "big.bin", "data": base64.StdEncoding.EncodeToString(make([]byte, 65<<10))}}, "attachments"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				h.host("POST", "/api/v1/events", map[string]any{"key": "message:internal", "title": "T", "user_ids": []string{"1"},
					"attachments": tc.atts}).wantError(t, http.StatusUnprocessableEntity, "invalid_field", tc.field)
			})
		}
	})
}

// attachmentsOf returns the attached files of a MIME message by name.
func attachmentsOf(t *testing.T, raw []byte) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(ct string, body io.Reader)
	walk = func(ct string, body io.Reader) {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || !strings.HasPrefix(mt, "multipart/") {
			return
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				return
			}
			var r io.Reader = p
			if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
				r = base64.NewDecoder(base64.StdEncoding, p)
			}
			if name := p.FileName(); name != "" {
				b, _ := io.ReadAll(r)
				out[name] = b
				continue
			}
			walk(p.Header.Get("Content-Type"), r)
		}
	}
	walk(m.Header.Get("Content-Type"), m.Body)
	return out
}

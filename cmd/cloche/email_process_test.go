package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/email/smtptest"
	"github.com/cloche/cloche/internal/testdb"
)

// A `cloche serve` SIGKILLed while it sends e-mail to a slow server: once
// restarted, every delivery is delivered within 30 s of the kill (the
// deliveries the dead process held are taken again when its claims'
// leases lapse). A message is accepted twice only when the server accepted
// it before the kill and the dead process had not recorded it yet; it then
// keeps its Message-ID.
func TestServeKilledWhileSendingEmail(t *testing.T) {
	bin := buildBinary(t)
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			const (
				users    = 30
				beforeIt = 8 // messages the server accepts before the kill
			)
			url := b.URL(t)
			dir := filepath.Join(t.TempDir(), "dir.json")
			var js strings.Builder
			js.WriteString(`{"users": [`)
			for i := range users {
				if i > 0 {
					js.WriteString(",")
				}
				fmt.Fprintf(&js, `{"id": "%d", "email": "u%d@example.org", "groups": ["many"]}`, i, i)
			}
			js.WriteString("]}")
			if err := os.WriteFile(dir, []byte(js.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			run(t, bin, url, "migrate")
			run(t, bin, url, "directory", "import", dir)

			// The server accepts beforeIt messages, then holds every
			// further one at the end of its DATA until the process that
			// sends it was killed, and then drops it unkept: the kill
			// lands while messages are being sent.
			srv := smtptest.Start(t, smtptest.Options{})
			var (
				allowed atomic.Int64
				held    atomic.Int64
				killed  atomic.Bool
				gate    = make(chan struct{})
			)
			t.Cleanup(func() {
				if !killed.Swap(true) {
					close(gate)
				}
			})
			srv.Handle(func(stage smtptest.Stage, rcpt string, attempt int) error {
				if stage != smtptest.StageData || killed.Load() {
					return nil
				}
				if allowed.Add(1) <= beforeIt {
					time.Sleep(20 * time.Millisecond) // a slow server
					return nil
				}
				held.Add(1)
				<-gate
				return smtptest.Drop
			})
			env := []string{"CLOCHE_SMTP__HOST=" + srv.Host, "CLOCHE_SMTP__PORT=" + strconv.Itoa(srv.Port),
				"CLOCHE_SMTP__TLS=none", "CLOCHE_SMTP__FROM=Cloche <noreply@cloche.test>",
				"CLOCHE_EMAIL__BATCH_SIZE=5"}
			first := startServe(t, bin, url, "127.0.0.1:0", env)
			t.Cleanup(func() {
				if !first.stopped {
					first.stopped = true
					_ = first.cmd.Process.Kill()
					_ = first.cmd.Wait()
				}
			})
			run(t, bin, url, "notify", "-k", "task:status:valid", "--title", "Killed", "-g", "many")

			deadline := time.Now().Add(120 * time.Second)
			for srv.Count() < beforeIt || held.Load() == 0 {
				if time.Now().After(deadline) {
					t.Fatalf("%d messages accepted and %d held within 120s", srv.Count(), held.Load())
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := first.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			kill := time.Now()
			first.stopped = true
			_ = first.cmd.Wait()
			before := srv.Count()
			killed.Store(true)
			close(gate)
			t.Logf("killed with %d messages accepted and %d held at the end of DATA", before, held.Load())

			second := startServe(t, bin, url, "127.0.0.1:0", env)
			t.Cleanup(func() { second.stop(t) })
			type delivery struct {
				ID        int64  `json:"id"`
				State     string `json:"state"`
				Attempts  int    `json:"attempts"`
				MessageID string `json:"message_id"`
			}
			var ds []delivery
			deadline = time.Now().Add(120 * time.Second)
			for {
				ds = nil
				if err := json.Unmarshal(run(t, bin, url, "deliveries", "list", "--json", "--limit", "1000"), &ds); err != nil {
					t.Fatal(err)
				}
				sent := 0
				for _, d := range ds {
					if d.State == "sent" {
						sent++
					}
				}
				if sent == users {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d of %d deliveries sent 120s after the kill: %+v", sent, users, ds)
				}
				time.Sleep(100 * time.Millisecond)
			}
			msgs := srv.Messages()
			late := time.Since(kill) // an upper bound: the last message was accepted before
			t.Logf("every delivery sent at most %s after the kill", late.Round(time.Millisecond))
			if late > 30*time.Second {
				t.Errorf("deliveries sent %s after the kill, want within 30s", late)
			}

			// Copies per delivery, before and after the kill.
			type copies struct {
				before, after int
				messageID     string
			}
			byDelivery := map[string]*copies{}
			for i, m := range msgs {
				h, err := mail.ReadMessage(bytes.NewReader(m.Data))
				if err != nil {
					t.Fatal(err)
				}
				id := h.Header.Get("X-Cloche-Delivery")
				c := byDelivery[id]
				if c == nil {
					c = &copies{messageID: h.Header.Get("Message-Id")}
					byDelivery[id] = c
				}
				if c.messageID != h.Header.Get("Message-Id") {
					t.Errorf("delivery %s sent with Message-IDs %s and %s", id, c.messageID, h.Header.Get("Message-Id"))
				}
				if i < before {
					c.before++
				} else {
					c.after++
				}
			}
			repeated := 0
			for _, d := range ds {
				c := byDelivery[strconv.FormatInt(d.ID, 10)]
				switch {
				case c == nil:
					t.Errorf("delivery %d is sent, the server never accepted it", d.ID)
				case c.before > 1 || c.after > 1:
					t.Errorf("delivery %d accepted %d times before the kill and %d after", d.ID, c.before, c.after)
				case c.before == 1 && c.after == 1:
					// Accepted before the kill, not recorded by the dead
					// process: sent again, the one repeat SMTP allows.
					repeated++
				}
				if c != nil && "<"+d.MessageID+">" != c.messageID {
					t.Errorf("delivery %d: Message-ID %s, sent with %s", d.ID, d.MessageID, c.messageID)
				}
			}
			t.Logf("%d deliveries, %d messages accepted (%d before the kill), %d repeated (accepted before the kill, unrecorded)",
				len(ds), len(msgs), before, repeated)
			if repeated > before {
				t.Errorf("%d repeated, more than the %d accepted before the kill", repeated, before)
			}

			// The restarted process says how many it took from the dead one.
			resp, err := http.Get("http://" + second.addr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			m := regexp.MustCompile(`(?m)^cloche_deliveries_rescued_total (\d+)$`).FindSubmatch(body)
			if m == nil {
				t.Fatalf("metrics lack cloche_deliveries_rescued_total:\n%s", body)
			}
			if n, _ := strconv.Atoi(string(m[1])); n == 0 {
				t.Errorf("cloche_deliveries_rescued_total = 0, want the deliveries the dead process held")
			} else {
				t.Logf("cloche_deliveries_rescued_total %d", n)
			}
		})
	}
}

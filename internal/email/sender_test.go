package email

import (
	"errors"
	"net/textproto"
	"testing"
)

func TestReply(t *testing.T) {
	cases := []struct {
		err  error
		code int
		text string
	}{
		{&textproto.Error{Code: 535, Msg: "5.7.8 Authentication credentials invalid"}, 535, "5.7.8 Authentication credentials invalid"},
		{errors.New(`sending SMTP RCPT TO command: 451 "4.3.0 Mailbox busy, try later", affected recipient(s): a@example.org, affected message ID: <x@y>`),
			451, "4.3.0 Mailbox busy, try later"},
		{errors.New(`closing SMTP DATA writer: 554 5.7.1 Rejected, affected message ID: <x@y>`), 554, "5.7.1 Rejected"},
		{errors.New("dial tcp 127.0.0.1:25: connect: connection refused"), 0, "dial tcp 127.0.0.1:25: connect: connection refused"},
	}
	for _, tc := range cases {
		code, text := reply(tc.err)
		if code != tc.code || text != tc.text {
			t.Errorf("reply(%q) = %d %q, want %d %q", tc.err, code, text, tc.code, tc.text)
		}
	}
	if r := dialResult(errors.New("dial tcp: connection refused")); !r.temp || !r.down || r.code != 0 || r.message != "connect: dial tcp: connection refused" {
		t.Errorf("dialResult = %+v", r)
	}
}

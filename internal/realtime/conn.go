package realtime

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// A stream served off its handler. Once its first events are ready, a
// stream takes its connection from net/http (Hijack), and its handler
// returns: net/http's buffers of that connection (a 4 KiB reader, a 4 KiB
// writer, the response's 2 KiB chunking buffer), the request and net/http's
// goroutine reading in the background are freed. A goroutine of the
// stream's own, started with a shallow stack, writes the response's head
// and then each batch of events straight to the connection, chunked as
// net/http would, from one buffer it reuses.
//
// Nothing reads the connection any more, so nothing learns at once that
// the client hung up. The stream looks at its connection (a read that
// peeks and does not block) at each keep-alive; a write to a connection
// the client closed fails; and the hub looks at a user's streams before
// refusing one over max_streams_per_user. Writers that cannot be hijacked
// (HTTP/2, tests' recorders) keep the handler's goroutine and net/http's
// own detection.

// errHungUp ends a stream whose client hung up.
var errHungUp = errors.New("realtime: the client hung up")

// chunkPre is the room kept at the start of a stream's buffer for the size
// line of the chunk it becomes: eight hex digits and CRLF.
const chunkPre = 10

// rawConn is a hijacked connection, and what can look at it without
// reading it.
type rawConn struct {
	conn net.Conn
	raw  syscall.RawConn // nil: it cannot be looked at
}

func newRawConn(c net.Conn) *rawConn {
	rc := &rawConn{conn: c}
	under := c
	if t, ok := c.(interface{ NetConn() net.Conn }); ok { // TLS
		under = t.NetConn()
	}
	if sc, ok := under.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			rc.raw = raw
		}
	}
	return rc
}

// connSink writes a stream to its hijacked connection.
type connSink struct {
	c *rawConn
	// head is the response's status line and headers, written with the
	// first events; nil once written.
	head     []byte
	chunked  bool
	deadline time.Time // of writes
}

// hijack takes the connection of w from net/http, for a stream that
// answers 200 to r; nil if it cannot be taken, and then nothing was
// written.
func hijack(w http.ResponseWriter, r *http.Request) *connSink {
	if r.Method != http.MethodGet || r.ProtoMajor != 1 {
		return nil
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	h.Set("Connection", "close")
	chunked := r.ProtoAtLeast(1, 1)
	if chunked {
		h.Set("Transfer-Encoding", "chunked")
	}
	var head bytes.Buffer
	head.WriteString("HTTP/1.")
	head.WriteString(strconv.Itoa(min(r.ProtoMinor, 1)))
	head.WriteString(" 200 OK\r\n")
	if err := h.Write(&head); err != nil {
		return nil
	}
	head.WriteString("\r\n")
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		h.Del("Date")
		h.Del("Connection")
		h.Del("Transfer-Encoding")
		return nil
	}
	// The bufio.ReadWriter net/http hands over is dropped: the client
	// sends nothing after its request.
	return &connSink{c: newRawConn(conn), head: head.Bytes(), chunked: chunked}
}

// write sends b[chunkPre:] as one chunk, b[:chunkPre] being free for its
// size line; it returns b, which it may have grown.
func (s *connSink) write(b []byte) ([]byte, error) {
	from := 0
	if s.chunked {
		n := len(b) - chunkPre
		var size [chunkPre]byte
		line := append(strconv.AppendInt(size[:0], int64(n), 16), '\r', '\n')
		from = chunkPre - len(line)
		copy(b[from:], line)
		b = append(b, '\r', '\n')
	}
	out := b[from:]
	if s.head != nil {
		out = append(s.head, out...)
		s.head = nil
	}
	// Move the deadline only when half of it is spent: setting it costs a
	// timer update, which 10,000 streams writing at once notice.
	if now := time.Now(); s.deadline.Sub(now) < writeTimeout/2 {
		s.deadline = now.Add(writeTimeout)
		_ = s.c.conn.SetWriteDeadline(s.deadline)
	}
	_, err := s.c.conn.Write(out)
	if s.chunked {
		b = b[:len(b)-2]
	}
	return b, err
}

// end closes the connection; when the stream ends cleanly (the server
// ends it), it first ends the chunked body, so that the client sees the
// response end rather than break.
func (s *connSink) end(clean bool) {
	if clean && s.head == nil && s.chunked {
		_ = s.c.conn.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = s.c.conn.Write([]byte("0\r\n\r\n"))
	}
	_ = s.c.conn.Close()
}

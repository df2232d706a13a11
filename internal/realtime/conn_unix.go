//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package realtime

import "syscall"

// hungUp reports whether the client closed the connection (or it broke),
// by peeking at it without blocking: the socket is non-blocking, so a
// connection with nothing to read answers EAGAIN at once. Data the client
// sent (it should send none) count as alive.
func (c *rawConn) hungUp() bool {
	if c.raw == nil {
		return false
	}
	var b [1]byte
	gone := false
	err := c.raw.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK)
		switch {
		case err == nil:
			gone = n == 0 // end of stream
		case err == syscall.EAGAIN || err == syscall.EINTR:
		default:
			gone = true
		}
		return true // never wait for the connection to become readable
	})
	return gone || err != nil
}

//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package realtime

// hungUp cannot look at the connection here: a stream learns that its
// client went when a write (a keep-alive at the latest) fails.
func (c *rawConn) hungUp() bool { return false }

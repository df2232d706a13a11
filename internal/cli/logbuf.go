package cli

import (
	"io"
	"sync"
	"time"
)

// logFlushEvery bounds how long a log line of `cloche serve` waits in the
// buffer.
const logFlushEvery = 100 * time.Millisecond

// logBufferSize is how much is buffered before a write goes out at once.
const logBufferSize = 64 << 10

// bufferedLog batches the log lines of a long-running command: under load
// the server logs a line per request, and a write (a system call) per line
// costs about a quarter of a cached API answer. A line goes out within
// logFlushEvery, at once when the buffer is full, and on Close; what a
// crash leaves in the buffer (at most logFlushEvery's lines) is lost.
type bufferedLog struct {
	mu      sync.Mutex
	w       io.Writer
	buf     []byte
	pending *time.Timer // set while lines wait
	closed  bool
}

func newBufferedLog(w io.Writer) *bufferedLog {
	return &bufferedLog{w: w, buf: make([]byte, 0, logBufferSize)}
}

// Write buffers p (slog handlers write one whole record per call).
func (b *bufferedLog) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return b.w.Write(p)
	}
	if len(b.buf)+len(p) > logBufferSize {
		if err := b.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) > logBufferSize {
			return b.w.Write(p)
		}
	}
	b.buf = append(b.buf, p...)
	if b.pending == nil {
		b.pending = time.AfterFunc(logFlushEvery, b.Flush)
	}
	return len(p), nil
}

// Flush writes out what is buffered.
func (b *bufferedLog) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	_ = b.flushLocked()
}

func (b *bufferedLog) flushLocked() error {
	if b.pending != nil {
		b.pending.Stop()
		b.pending = nil
	}
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.w.Write(b.buf)
	b.buf = b.buf[:0]
	return err
}

// Close writes out what is buffered; later lines are written at once.
func (b *bufferedLog) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return b.flushLocked()
}

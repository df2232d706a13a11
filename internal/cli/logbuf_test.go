package cli

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the flushing timer's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
	n  int // writes
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return s.b.Write(p)
}

func (s *syncBuffer) state() (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String(), s.n
}

func TestBufferedLog(t *testing.T) {
	out := &syncBuffer{}
	b := newBufferedLog(out)
	for i := range 100 {
		if _, err := b.Write([]byte("line " + string(rune('a'+i%26)) + "\n")); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := out.state(); got != "" {
		t.Fatalf("lines went out before the flush: %q", got)
	}
	// They go out, in one write, within logFlushEvery.
	deadline := time.Now().Add(time.Minute)
	for {
		got, writes := out.state()
		if strings.Count(got, "\n") == 100 {
			if writes != 1 {
				t.Errorf("100 lines in %d writes, want 1", writes)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a minute, out holds %d lines", strings.Count(got, "\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}

	// A full buffer goes out at once; Close writes the rest, and later
	// lines directly.
	big := bytes.Repeat([]byte("#"), logBufferSize/2+1)
	b.Write(big)
	b.Write(big)
	if got, _ := out.state(); len(got) < len(big) {
		t.Errorf("a full buffer was not written out (%d bytes out)", len(got))
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b.Write([]byte("after close\n"))
	got, _ := out.state()
	if !strings.HasSuffix(got, "#after close\n") || strings.Count(got, "#") != 2*len(big) {
		t.Errorf("after Close: %d #, ends %q", strings.Count(got, "#"), got[len(got)-20:])
	}
}

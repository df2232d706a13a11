package cloche

import (
	"context"
	"sync"
)

// EventsRescued is how many scheduled events this process handed back to
// the queue because the process publishing them died (README, "What a crash
// costs").
func (s *Service) EventsRescued() int64 { return s.disp.Rescued() }

// SweepStranded hands back to the queue, at once, the due events whose
// publication stopped with its process, as every serving process does every
// few seconds, and returns how many.
func (s *Service) SweepStranded(ctx context.Context) (int, error) { return s.disp.Sweep(ctx) }

// startSweeps runs the sweep for stranded events, and the publication of
// due events without check_url (dispatch.RunDue), until stopSweeps.
func (s *Service) startSweeps(ctx context.Context) {
	s.sweeps.mu.Lock()
	defer s.sweeps.mu.Unlock()
	if s.sweeps.stop != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	s.sweeps.stop, s.sweeps.done = cancel, done
	var wg sync.WaitGroup
	wg.Go(func() { s.disp.RunSweeps(ctx) })
	wg.Go(func() { s.disp.RunDue(ctx) })
	go func() {
		defer close(done)
		wg.Wait()
	}()
}

func (s *Service) stopSweeps() {
	s.sweeps.mu.Lock()
	defer s.sweeps.mu.Unlock()
	if s.sweeps.stop == nil {
		return
	}
	s.sweeps.stop()
	<-s.sweeps.done
	s.sweeps.stop, s.sweeps.done = nil, nil
}

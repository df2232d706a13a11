package cloche

import (
	"context"
	"time"

	"github.com/cloche/cloche/internal/outbound"
	"github.com/cloche/cloche/internal/push"
	"github.com/cloche/cloche/internal/webhook"
)

// OutboundChannels names the channels whose deliveries leave the process
// (email, then push and webhook), in the order they were registered.
func (s *Service) OutboundChannels() []string { return s.outbound.Channels() }

// DeliveriesRescuedByChannel counts, per outbound channel, the deliveries
// this process took again because the claim of the process sending them
// lapsed.
func (s *Service) DeliveriesRescuedByChannel() map[string]int64 { return s.outbound.Rescued() }

// RetryFailedDeliveriesOf queues every failed delivery of channel again
// (every channel's when empty; only those of event eventID, when it is not
// zero) and returns how many. An unknown channel is ErrInvalid.
func (s *Service) RetryFailedDeliveriesOf(ctx context.Context, channel string, eventID int64) (int, error) {
	n, err := s.outbound.RetryFailed(ctx, channel, eventID, s.now())
	return n, wrap("retry failed deliveries", err)
}

// addChannels registers the outbound channels: each is a package that
// implements outbound.Channel, sent by the shared layer.
func (s *Service) addChannels(o options) error {
	r, err := s.outbound.Add(s.mailer, s.mailer.OutboundConfig())
	if err != nil {
		return err
	}
	s.mailer.SetRunner(r)

	w := s.cfg.Webhooks
	s.webhooks = webhook.New(s.store, webhook.Config{
		PauseAfter: w.PauseAfter.D(), Timeout: w.Timeout.D(), Connections: w.Connections,
		MaxAttempts: w.MaxAttempts, RetryBase: w.RetryBase.D(), RetryWindow: w.RetryWindow.D(),
		Lease: s.cfg.Email.Lease.D(),
	}, s.logger)
	s.webhooks.SetClock(o.clock)
	if r, err = s.outbound.Add(s.webhooks, s.webhooks.OutboundConfig()); err != nil {
		return err
	}
	s.webhooks.SetRunner(r)
	s.disp.AddPublishHook(s.webhooks)
	pc := push.NewChannel(s.store, push.ChannelConfig{
		Subject: s.cfg.Push.Subject, Timeout: s.cfg.Push.Timeout.D(), Concurrency: s.cfg.Push.Concurrency, Keys: s.PushKeys,
	}, s.logger)
	pc.SetClock(s.clock)
	pr, err := s.outbound.Add(pc, outbound.Config{
		BatchSize: push.BatchSize,
		// A slow push service may take several timeouts for a batch.
		SendTimeout: 4 * s.cfg.Push.Timeout.D(),
	})
	if err != nil {
		return err
	}
	s.disp.SetPusher(pr)
	return nil
}

func (s *Service) now() time.Time { return s.clock() }

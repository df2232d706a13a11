package email

import "time"

// JobTimeout is the longest an e-mail job may run, as the outbound
// layer's job timeout says: its slice, the last batch and its recording.
func (m *Mailer) JobTimeout() time.Duration {
	return m.cfg.Slice + max(m.cfg.Lease, 10*m.cfg.SMTP.Timeout)
}

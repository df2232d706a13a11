package email

import "time"

// JobTimeout is the longest an e-mail job may run, as sendWorker.Timeout
// says: its slice, the last batch and its recording. River takes a job
// running longer than the longest timeout of any kind for dead.
func (m *Mailer) JobTimeout() time.Duration {
	return m.cfg.Slice + max(m.cfg.Lease, 10*m.cfg.SMTP.Timeout)
}

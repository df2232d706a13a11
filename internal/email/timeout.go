package email

import "time"

// JobTimeout is the longest an e-mail job may run: its slice, the last
// batch and its recording. River rescues a job running longer than the
// longest timeout of any kind.
func (m *Mailer) JobTimeout() time.Duration { return m.cfg.Slice + m.cfg.Lease }

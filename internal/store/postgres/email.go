package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche/internal/store"
)

// deliveryColumns are the columns scanDelivery reads, in its order.
const deliveryColumns = `id, channel, target, event_id, user_id, company_id, address, state, attempts, last_code, last_message,
    created_at, updated_at, sent_at, reason, message_id, last_attempt_at, next_attempt_at, not_before, hold_reason`

// scanDelivery reads deliveryColumns, plus extra destinations after them.
func scanDelivery(row pgx.Row, extra ...any) (store.Delivery, error) {
	var d store.Delivery
	dest := append([]any{&d.ID, &d.Channel, &d.Target, &d.EventID, &d.UserID, &d.CompanyID, &d.Address, &d.State, &d.Attempts,
		&d.LastCode, &d.LastMessage, &d.CreatedAt, &d.UpdatedAt, &d.SentAt, &d.Reason, &d.MessageID,
		&d.LastAttemptAt, &d.NextAttemptAt, &d.NotBefore, &d.HoldReason}, extra...)
	if err := row.Scan(dest...); err != nil {
		return d, err
	}
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	d.SentAt, d.LastAttemptAt, d.NextAttemptAt = utcPtr(d.SentAt), utcPtr(d.LastAttemptAt), utcPtr(d.NextAttemptAt)
	d.NotBefore = utcPtr(d.NotBefore)
	return d, nil
}

// DeliveryGet returns one delivery.
func (q *queries) DeliveryGet(ctx context.Context, id int64) (*store.Delivery, error) {
	d, err := scanDelivery(q.db.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("postgres: delivery get %d: %w", id, mapErr(err, ""))
	}
	return &d, nil
}

// DeliveryClaim takes due deliveries in one statement. Each kind of due
// row (queued, retrying and due, sending with a lapsed lease) is found
// through its own index and locked with SKIP LOCKED, so that concurrent
// claims take different rows, and a row another claim changed meanwhile is
// checked again against its state before it is locked.
func (q *queries) DeliveryClaim(ctx context.Context, p *store.DeliveryClaimParams) ([]store.ClaimedDelivery, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	channel := store.ChannelOrEmail(p.Channel)
	// Held deliveries whose notification was read meanwhile are skipped
	// first; SKIP LOCKED leaves those another claim is looking at.
	if _, err := q.db.Exec(ctx, `
UPDATE deliveries d SET state = 'skipped', last_message = $2, updated_at = $1
WHERE d.id IN (SELECT id FROM deliveries WHERE channel = $3 AND state = 'queued' AND not_before <= $1 AND unless_read
        AND EXISTS (SELECT 1 FROM notifications n
            WHERE n.user_id = deliveries.user_id AND n.event_id = deliveries.event_id AND n.read_at IS NOT NULL)
        FOR UPDATE SKIP LOCKED)`, ts(p.Now), store.SkipReasonRead, channel); err != nil {
		return nil, fmt.Errorf("postgres: delivery claim: %w", mapErr(err, ""))
	}
	rows, err := q.db.Query(ctx, `
WITH queued AS (
    SELECT id FROM deliveries WHERE channel = $6 AND state = 'queued' AND not_before IS NULL ORDER BY channel, id LIMIT $5 FOR UPDATE SKIP LOCKED
), held AS (
    SELECT id FROM deliveries WHERE channel = $6 AND state = 'queued' AND not_before <= $3
    ORDER BY channel, not_before LIMIT $5 FOR UPDATE SKIP LOCKED
), retrying AS (
    SELECT id FROM deliveries WHERE channel = $6 AND state = 'retrying' AND next_attempt_at <= $3
    ORDER BY channel, next_attempt_at LIMIT $5 FOR UPDATE SKIP LOCKED
), lapsed AS (
    SELECT id FROM deliveries WHERE channel = $6 AND state = 'sending' AND lease_until <= $3
    ORDER BY channel, lease_until LIMIT $5 FOR UPDATE SKIP LOCKED
), due AS (
    SELECT id FROM queued UNION ALL SELECT id FROM held UNION ALL SELECT id FROM retrying UNION ALL SELECT id FROM lapsed
    ORDER BY id LIMIT $5
)
UPDATE deliveries d SET state = 'sending', attempts = d.attempts + 1,
    lease_owner = $1, lease_until = $2, last_attempt_at = $3, updated_at = $3,
    message_id = CASE WHEN d.message_id = '' AND $4 <> ''
        THEN substr(md5(random()::text || clock_timestamp()::text || d.id::text), 1, 16) || '.' || d.id || '@' || $4
        ELSE d.message_id END
FROM due
WHERE d.id = due.id
RETURNING d.id, d.channel, d.target, d.event_id, d.user_id, d.company_id, d.address, d.state, d.attempts, d.last_code, d.last_message,
    d.created_at, d.updated_at, d.sent_at, d.reason, d.message_id, d.last_attempt_at, d.next_attempt_at,
    d.not_before, d.hold_reason, d.lease_until,
    CASE WHEN d.user_id <> '' THEN coalesce((SELECT u.name FROM users u WHERE u.id = d.user_id), '')
         ELSE coalesce((SELECT c.name FROM companies c WHERE c.id = d.company_id), '') END,
    CASE WHEN d.user_id <> '' THEN coalesce((SELECT u.locale FROM users u WHERE u.id = d.user_id), '') ELSE '' END,
    d.id IN (SELECT id FROM lapsed)`,
		p.Owner, ts(p.LeaseUntil), ts(p.Now), p.MessageIDDomain, p.Limit, channel)
	if err != nil {
		return nil, fmt.Errorf("postgres: delivery claim: %w", mapErr(err, ""))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.ClaimedDelivery, error) {
		var c store.ClaimedDelivery
		d, err := scanDelivery(r, &c.LeaseUntil, &c.Name, &c.Locale, &c.Rescued)
		c.Delivery, c.LeaseUntil = d, c.LeaseUntil.UTC()
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: delivery claim: %w", mapErr(err, ""))
	}
	slices.SortFunc(out, func(a, b store.ClaimedDelivery) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// DeliveryRecord writes every outcome of a claim in one UPDATE … FROM
// unnest(…).
func (q *queries) DeliveryRecord(ctx context.Context, p *store.DeliveryRecordParams) (int, error) {
	n := len(p.Outcomes)
	if n == 0 {
		return 0, nil
	}
	var (
		ids      = make([]int64, n)
		states   = make([]string, n)
		codes    = make([]int32, n)
		messages = make([]string, n)
		nexts    = make([]*time.Time, n)
		releases = make([]bool, n)
	)
	for i, o := range p.Outcomes {
		ids[i], states[i], codes[i], messages[i], releases[i] = o.ID, string(o.State), int32(o.Code), o.Message, o.Release
		nexts[i] = tsPtr(o.NextAttemptAt)
	}
	tag, err := q.db.Exec(ctx, `
UPDATE deliveries d SET
    state = CASE WHEN o.release THEN (CASE WHEN d.attempts > 1 THEN 'retrying' ELSE 'queued' END) ELSE o.state END,
    attempts = CASE WHEN o.release THEN d.attempts - 1 ELSE d.attempts END,
    last_code = CASE WHEN o.release THEN d.last_code ELSE o.code END,
    last_message = CASE WHEN o.release THEN d.last_message ELSE o.message END,
    next_attempt_at = CASE WHEN o.release THEN d.next_attempt_at ELSE o.next END,
    sent_at = CASE WHEN NOT o.release AND o.state = 'sent' THEN $7 ELSE d.sent_at END,
    lease_owner = '', lease_until = NULL, updated_at = $7
FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[], $5::timestamptz[], $6::bool[])
    AS o (id, state, code, message, next, release)
WHERE d.id = o.id AND d.state = 'sending' AND d.lease_owner = $8`,
		ids, states, codes, messages, nexts, releases, ts(p.At), p.Owner)
	if err != nil {
		return 0, fmt.Errorf("postgres: delivery record: %w", mapErr(err, ""))
	}
	return int(tag.RowsAffected()), nil
}

// DeliveryRenew extends the leases of live claims; see store.Queries.
func (q *queries) DeliveryRenew(ctx context.Context, p *store.DeliveryRenewParams) (int, error) {
	if len(p.Owners) == 0 {
		return 0, nil
	}
	tag, err := q.db.Exec(ctx, `UPDATE deliveries SET lease_until = $2
WHERE state = 'sending' AND lease_owner = ANY($1::text[])`, p.Owners, ts(p.LeaseUntil))
	if err != nil {
		return 0, fmt.Errorf("postgres: delivery renew: %w", mapErr(err, ""))
	}
	return int(tag.RowsAffected()), nil
}

// DeliveryNextLapse is when the next lease of another owner lapses; see
// store.Queries.
func (q *queries) DeliveryNextLapse(ctx context.Context, channel string, exclude []string) (*time.Time, error) {
	if exclude == nil {
		exclude = []string{} // <> ALL(NULL) would match nothing
	}
	var next *time.Time
	err := q.db.QueryRow(ctx, `SELECT lease_until FROM deliveries
WHERE channel = $2 AND state = 'sending' AND lease_owner <> ALL($1::text[]) ORDER BY channel, lease_until LIMIT 1`,
		exclude, store.ChannelOrEmail(channel)).Scan(&next)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: delivery next lapse: %w", mapErr(err, ""))
	}
	return utcPtr(next), nil
}

// DeliveryRetry queues failed deliveries again; see store.Queries.
func (q *queries) DeliveryRetry(ctx context.Context, p *store.DeliveryRetryParams) (int, error) {
	at := ts(p.At)
	const set = `UPDATE deliveries SET state = 'queued', attempts = 0, next_attempt_at = NULL, updated_at = $1`
	if p.ID == 0 {
		query, args := set+` WHERE state = 'failed'`, []any{at}
		if p.EventID > 0 {
			query, args = query+fmt.Sprintf(` AND event_id = $%d`, len(args)+1), append(args, p.EventID)
		}
		if p.Channel != "" {
			query, args = query+fmt.Sprintf(` AND channel = $%d`, len(args)+1), append(args, p.Channel)
		}
		tag, err := q.db.Exec(ctx, query, args...)
		if err != nil {
			return 0, fmt.Errorf("postgres: delivery retry: %w", mapErr(err, ""))
		}
		return int(tag.RowsAffected()), nil
	}
	var n int
	err := q.atomic(ctx, func(q *queries) error {
		var state store.DeliveryState
		err := q.db.QueryRow(ctx, `SELECT state FROM deliveries WHERE id = $1 FOR UPDATE`, p.ID).Scan(&state)
		if err != nil {
			return fmt.Errorf("postgres: delivery retry %d: %w", p.ID, mapErr(err, ""))
		}
		if state != store.DeliveryFailed && state != store.DeliveryRetrying {
			return store.DeliveryNotRetryable(p.ID, store.DeliveryState(state))
		}
		tag, err := q.db.Exec(ctx, set+` WHERE id = $2`, at, p.ID)
		if err != nil {
			return fmt.Errorf("postgres: delivery retry %d: %w", p.ID, mapErr(err, ""))
		}
		n = int(tag.RowsAffected())
		return nil
	})
	return n, err
}

// DeliveryNextDue is the earliest next attempt of the retrying deliveries.
func (q *queries) DeliveryNextDue(ctx context.Context, channel string) (*time.Time, error) {
	var next *time.Time
	err := q.db.QueryRow(ctx, `SELECT least(
    (SELECT min(next_attempt_at) FROM deliveries WHERE channel = $1 AND state = 'retrying'),
    (SELECT min(not_before) FROM deliveries WHERE channel = $1 AND state = 'queued' AND not_before IS NOT NULL))`,
		store.ChannelOrEmail(channel)).Scan(&next)
	if err != nil {
		return nil, fmt.Errorf("postgres: delivery next due: %w", mapErr(err, ""))
	}
	return utcPtr(next), nil
}

// AttachmentInsertMany stores the attachments of an event, in order.
func (q *queries) AttachmentInsertMany(ctx context.Context, eventID int64, atts []store.Attachment) error {
	if len(atts) == 0 {
		return nil
	}
	_, err := q.db.CopyFrom(ctx, pgx.Identifier{"event_attachments"},
		[]string{"event_id", "position", "name", "content_type", "data"},
		pgx.CopyFromSlice(len(atts), func(i int) ([]any, error) {
			data := atts[i].Data
			if data == nil {
				data = []byte{}
			}
			return []any{eventID, int32(i), atts[i].Name, atts[i].ContentType, data}, nil
		}))
	if err != nil {
		err = mapErr(err, "event_id")
		var fe *store.FieldError
		if errors.As(err, &fe) {
			fe.Problem = fmt.Sprintf("event %d does not exist", eventID)
		}
		return fmt.Errorf("postgres: attachment insert: %w", err)
	}
	return nil
}

// AttachmentList returns the attachments of an event, in order.
func (q *queries) AttachmentList(ctx context.Context, eventID int64) ([]store.Attachment, error) {
	rows, err := q.db.Query(ctx, `SELECT name, content_type, data FROM event_attachments
WHERE event_id = $1 ORDER BY position`, eventID)
	if err != nil {
		return nil, fmt.Errorf("postgres: attachment list: %w", mapErr(err, ""))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Attachment, error) {
		var a store.Attachment
		err := r.Scan(&a.Name, &a.ContentType, &a.Data)
		if a.Data == nil {
			a.Data = []byte{}
		}
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: attachment list: %w", mapErr(err, ""))
	}
	return out, nil
}

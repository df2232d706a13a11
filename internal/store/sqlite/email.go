package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// deliveryColumns are the columns scanDelivery reads, in its order.
const deliveryColumns = `id, channel, target, event_id, user_id, company_id, address, state, attempts, last_code, last_message,
	created_at, updated_at, sent_at, reason, message_id, last_attempt_at, next_attempt_at, not_before, hold_reason`

// scanDelivery reads deliveryColumns, plus extra destinations after them.
func scanDelivery(row interface{ Scan(...any) error }, extra ...any) (store.Delivery, error) {
	var (
		d                store.Delivery
		state            string
		sent, last, next sql.NullTime
		notBefore        sql.NullTime
	)
	dest := append([]any{&d.ID, &d.Channel, &d.Target, &d.EventID, &d.UserID, &d.CompanyID, &d.Address, &state, &d.Attempts,
		&d.LastCode, &d.LastMessage, &d.CreatedAt, &d.UpdatedAt, &sent, &d.Reason, &d.MessageID, &last, &next,
		&notBefore, &d.HoldReason}, extra...)
	if err := row.Scan(dest...); err != nil {
		return d, err
	}
	d.State = store.DeliveryState(state)
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	d.SentAt, d.LastAttemptAt, d.NextAttemptAt = timePtr(sent), timePtr(last), timePtr(next)
	d.NotBefore = timePtr(notBefore)
	return d, nil
}

func (q *queries) DeliveryGet(ctx context.Context, id int64) (*store.Delivery, error) {
	d, err := scanDelivery(q.r.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = ?`, id))
	if err != nil {
		return nil, mapErr(fmt.Sprintf("delivery get %d", id), err)
	}
	return &d, nil
}

// DeliveryClaim takes due deliveries in one UPDATE … RETURNING, in a
// transaction that first reads which of them are lapsed claims. SQLite has
// one writer at a time (transactions begin IMMEDIATE), so two claims never
// see the same row as due.
func (q *queries) DeliveryClaim(ctx context.Context, p *store.DeliveryClaimParams) ([]store.ClaimedDelivery, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	now, lease := ts(p.Now), ts(p.LeaseUntil)
	channel := store.ChannelOrEmail(p.Channel)
	var out []store.ClaimedDelivery
	// The lapsed claims are read first, in the same transaction (one
	// writer at a time): RETURNING only sees the new state.
	err := q.atomic(ctx, func(q *queries) error {
		if _, err := q.w.ExecContext(ctx, skipReadSQL, now, store.SkipReasonRead, channel); err != nil {
			return mapErr("delivery claim", err)
		}
		lapsed, err := q.lapsedIDs(ctx, channel, now, p.Limit)
		if err != nil {
			return err
		}
		out, err = q.claim(ctx, p, channel, now, lease)
		for i := range out {
			_, out[i].Rescued = lapsed[out[i].ID]
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b store.ClaimedDelivery) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// skipReadSQL marks skipped the due deliveries held unless read whose
// person read the event's in-app notification meanwhile (?1 now, ?2 the
// reason, ?3 the channel).
const skipReadSQL = `UPDATE deliveries SET state = 'skipped', last_message = ?2, updated_at = ?1
	WHERE id IN (SELECT id FROM deliveries WHERE channel = ?3 AND state = 'queued' AND not_before <= ?1)
		AND unless_read AND EXISTS (SELECT 1 FROM notifications n
			WHERE n.user_id = deliveries.user_id AND n.event_id = deliveries.event_id AND n.read_at IS NOT NULL)`

// lapsedIDs are the deliveries whose claim lapsed that a claim of limit
// at now may take.
func (q *queries) lapsedIDs(ctx context.Context, channel string, now time.Time, limit int) (map[int64]struct{}, error) {
	rows, err := q.w.QueryContext(ctx, `SELECT id FROM deliveries WHERE channel = ? AND state = 'sending' AND lease_until <= ?
		ORDER BY lease_until LIMIT ?`, channel, now, limit)
	if err != nil {
		return nil, mapErr("delivery claim", err)
	}
	defer rows.Close()
	out := map[int64]struct{}{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, mapErr("delivery claim", err)
		}
		out[id] = struct{}{}
	}
	return out, mapErr("delivery claim", rows.Err())
}

func (q *queries) claim(ctx context.Context, p *store.DeliveryClaimParams, channel string, now, lease time.Time) ([]store.ClaimedDelivery, error) {
	rows, err := q.w.QueryContext(ctx, `UPDATE deliveries SET state = 'sending', attempts = attempts + 1,
			lease_owner = ?1, lease_until = ?2, last_attempt_at = ?3, updated_at = ?3,
			message_id = CASE WHEN message_id = '' AND ?4 <> '' THEN lower(hex(randomblob(8))) || '.' || id || '@' || ?4 ELSE message_id END
		WHERE id IN (
			SELECT id FROM (SELECT id FROM deliveries WHERE channel = ?6 AND state = 'queued' AND not_before IS NULL ORDER BY channel, id LIMIT ?5)
			UNION ALL
			SELECT id FROM (SELECT id FROM deliveries WHERE channel = ?6 AND state = 'queued' AND not_before <= ?3 ORDER BY channel, not_before LIMIT ?5)
			UNION ALL
			SELECT id FROM (SELECT id FROM deliveries WHERE channel = ?6 AND state = 'retrying' AND next_attempt_at <= ?3 ORDER BY channel, next_attempt_at LIMIT ?5)
			UNION ALL
			SELECT id FROM (SELECT id FROM deliveries WHERE channel = ?6 AND state = 'sending' AND lease_until <= ?3 ORDER BY channel, lease_until LIMIT ?5)
			ORDER BY 1 LIMIT ?5)
		RETURNING `+deliveryColumns+`, lease_until,
			CASE WHEN user_id <> '' THEN coalesce((SELECT name FROM users WHERE users.id = deliveries.user_id), '')
			     ELSE coalesce((SELECT name FROM companies WHERE companies.id = deliveries.company_id), '') END,
			CASE WHEN user_id <> '' THEN coalesce((SELECT locale FROM users WHERE users.id = deliveries.user_id), '') ELSE '' END`,
		p.Owner, lease, now, p.MessageIDDomain, p.Limit, channel)
	if err != nil {
		return nil, mapErr("delivery claim", err)
	}
	defer rows.Close()
	var out []store.ClaimedDelivery
	for rows.Next() {
		var c store.ClaimedDelivery
		d, err := scanDelivery(rows, &c.LeaseUntil, &c.Name, &c.Locale)
		if err != nil {
			return nil, mapErr("delivery claim", err)
		}
		c.Delivery, c.LeaseUntil = d, c.LeaseUntil.UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr("delivery claim", err)
	}
	return out, nil
}

func (q *queries) DeliveryRenew(ctx context.Context, p *store.DeliveryRenewParams) (int, error) {
	if len(p.Owners) == 0 {
		return 0, nil
	}
	res, err := q.w.ExecContext(ctx, `UPDATE deliveries SET lease_until = ?2
		WHERE state = 'sending' AND lease_owner IN (SELECT value FROM json_each(?1))`, jsonList(p.Owners), ts(p.LeaseUntil))
	if err != nil {
		return 0, mapErr("delivery renew", err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr("delivery renew", err)
}

func (q *queries) DeliveryNextLapse(ctx context.Context, channel string, exclude []string) (*time.Time, error) {
	var next sql.NullTime
	err := q.r.QueryRowContext(ctx, `SELECT lease_until FROM deliveries WHERE channel = ? AND state = 'sending'
		AND lease_owner NOT IN (SELECT value FROM json_each(?)) ORDER BY channel, lease_until LIMIT 1`,
		store.ChannelOrEmail(channel), jsonList(exclude)).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, mapErr("delivery next lapse", err)
	}
	return timePtr(next), nil
}

type outcomeJSON struct {
	ID      int64   `json:"id"`
	State   string  `json:"s"`
	Code    int     `json:"c"`
	Message string  `json:"m"`
	Next    *string `json:"n"`
	Release bool    `json:"r"`
}

// sqliteTime is how modernc writes a time with _time_format=sqlite; times
// passed inside JSON must be written the same way to compare as text.
const sqliteTime = "2006-01-02 15:04:05.999999999-07:00"

func (q *queries) DeliveryRecord(ctx context.Context, p *store.DeliveryRecordParams) (int, error) {
	if len(p.Outcomes) == 0 {
		return 0, nil
	}
	rows := make([]outcomeJSON, len(p.Outcomes))
	for i, o := range p.Outcomes {
		rows[i] = outcomeJSON{ID: o.ID, State: string(o.State), Code: o.Code, Message: o.Message, Release: o.Release}
		if o.NextAttemptAt != nil {
			s := ts(*o.NextAttemptAt).Format(sqliteTime)
			rows[i].Next = &s
		}
	}
	payload, err := json.Marshal(rows)
	if err != nil {
		return 0, fmt.Errorf("sqlite: delivery record: %w", err)
	}
	at := ts(p.At)
	// The outcomes are materialised and the rows to change found by id
	// first: left to itself, SQLite would scan the table for each outcome.
	res, err := q.w.ExecContext(ctx, `WITH o AS MATERIALIZED (
			SELECT value ->> '$.id' AS id, value ->> '$.s' AS state, value ->> '$.c' AS code,
				value ->> '$.m' AS message, value ->> '$.n' AS next, value ->> '$.r' AS release
			FROM json_each(?1))
		UPDATE deliveries SET
			state = CASE WHEN o.release THEN (CASE WHEN deliveries.attempts > 1 THEN 'retrying' ELSE 'queued' END) ELSE o.state END,
			attempts = CASE WHEN o.release THEN deliveries.attempts - 1 ELSE deliveries.attempts END,
			last_code = CASE WHEN o.release THEN deliveries.last_code ELSE o.code END,
			last_message = CASE WHEN o.release THEN deliveries.last_message ELSE o.message END,
			next_attempt_at = CASE WHEN o.release THEN deliveries.next_attempt_at ELSE o.next END,
			sent_at = CASE WHEN NOT o.release AND o.state = 'sent' THEN ?2 ELSE deliveries.sent_at END,
			lease_owner = '', lease_until = NULL, updated_at = ?2
		FROM o
		WHERE deliveries.id IN (SELECT id FROM o) AND deliveries.id = o.id
			AND deliveries.state = 'sending' AND deliveries.lease_owner = ?3`,
		string(payload), at, p.Owner)
	if err != nil {
		return 0, mapErr("delivery record", err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr("delivery record", err)
}

func (q *queries) DeliveryRetry(ctx context.Context, p *store.DeliveryRetryParams) (int, error) {
	at := ts(p.At)
	const set = `UPDATE deliveries SET state = 'queued', attempts = 0, next_attempt_at = NULL, updated_at = ?`
	if p.ID == 0 {
		query, args := set+` WHERE state = 'failed'`, []any{at}
		if p.EventID > 0 {
			query, args = query+` AND event_id = ?`, append(args, p.EventID)
		}
		if p.Channel != "" {
			query, args = query+` AND channel = ?`, append(args, p.Channel)
		}
		res, err := q.w.ExecContext(ctx, query, args...)
		if err != nil {
			return 0, mapErr("delivery retry", err)
		}
		n, err := res.RowsAffected()
		return int(n), mapErr("delivery retry", err)
	}
	var n int
	err := q.atomic(ctx, func(q *queries) error {
		var state string
		if err := q.w.QueryRowContext(ctx, `SELECT state FROM deliveries WHERE id = ?`, p.ID).Scan(&state); err != nil {
			return mapErr(fmt.Sprintf("delivery retry %d", p.ID), err)
		}
		if s := store.DeliveryState(state); s != store.DeliveryFailed && s != store.DeliveryRetrying {
			return store.DeliveryNotRetryable(p.ID, s)
		}
		res, err := q.w.ExecContext(ctx, set+` WHERE id = ?`, at, p.ID)
		if err != nil {
			return mapErr("delivery retry", err)
		}
		m, err := res.RowsAffected()
		n = int(m)
		return mapErr("delivery retry", err)
	})
	return n, err
}

func (q *queries) DeliveryNextDue(ctx context.Context, channel string) (*time.Time, error) {
	var next sql.NullTime
	// Not min(): an aggregate loses the column's DATETIME type.
	err := q.r.QueryRowContext(ctx, `SELECT at FROM (
			SELECT * FROM (SELECT next_attempt_at AS at FROM deliveries WHERE channel = ?1 AND state = 'retrying' ORDER BY channel, next_attempt_at LIMIT 1)
			UNION ALL
			SELECT * FROM (SELECT not_before AS at FROM deliveries WHERE channel = ?1 AND state = 'queued' AND not_before IS NOT NULL ORDER BY channel, not_before LIMIT 1))
		ORDER BY at LIMIT 1`, store.ChannelOrEmail(channel)).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, mapErr("delivery next due", err)
	}
	return timePtr(next), nil
}

func (q *queries) AttachmentInsertMany(ctx context.Context, eventID int64, atts []store.Attachment) error {
	if len(atts) == 0 {
		return nil
	}
	return q.atomic(ctx, func(q *queries) error {
		for i, a := range atts {
			data := a.Data
			if data == nil {
				data = []byte{}
			}
			if _, err := q.w.ExecContext(ctx, `INSERT INTO event_attachments (event_id, position, name, content_type, data)
				VALUES (?, ?, ?, ?, ?)`, eventID, i, a.Name, a.ContentType, data); err != nil {
				err = mapErr("attachment insert", err)
				if errors.Is(err, store.ErrInUse) { // the only foreign key: event_id
					return fmt.Errorf("sqlite: attachment insert: %w", store.Invalid("event_id", "event %d does not exist", eventID))
				}
				return err
			}
		}
		return nil
	})
}

func (q *queries) AttachmentList(ctx context.Context, eventID int64) ([]store.Attachment, error) {
	rows, err := q.r.QueryContext(ctx, `SELECT name, content_type, data FROM event_attachments
		WHERE event_id = ? ORDER BY position`, eventID)
	if err != nil {
		return nil, mapErr("attachment list", err)
	}
	defer rows.Close()
	var out []store.Attachment
	for rows.Next() {
		var a store.Attachment
		if err := rows.Scan(&a.Name, &a.ContentType, &a.Data); err != nil {
			return nil, mapErr("attachment list", err)
		}
		if a.Data == nil {
			a.Data = []byte{}
		}
		out = append(out, a)
	}
	return out, mapErr("attachment list", rows.Err())
}

package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"time"

	"github.com/cloche/cloche/internal/store"
)

func (q *queries) DigestSettingList(ctx context.Context, userID string) ([]store.DigestSetting, error) {
	rows, err := q.r.QueryContext(ctx, `SELECT category, frequency, at, day, next_at, updated_at FROM digest_settings
		WHERE user_id = ? ORDER BY category`, userID)
	if err != nil {
		return nil, mapErr("digest setting list", err)
	}
	defer rows.Close()
	out := []store.DigestSetting{}
	for rows.Next() {
		var s store.DigestSetting
		var next sql.NullTime
		if err := rows.Scan(&s.Category, &s.Frequency, &s.At, &s.Day, &next, &s.UpdatedAt); err != nil {
			return nil, mapErr("digest setting list", err)
		}
		s.NextAt, s.UpdatedAt = timePtr(next), s.UpdatedAt.UTC()
		out = append(out, s)
	}
	return out, mapErr("digest setting list", rows.Err())
}

func (q *queries) DigestSettingReplace(ctx context.Context, userID string, settings []store.DigestSetting, now time.Time) error {
	return q.atomic(ctx, func(q *queries) error {
		var one int
		if err := q.w.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = ?`, userID).Scan(&one); err != nil {
			return mapErr(fmt.Sprintf("digest setting replace: user %q", userID), err)
		}
		if _, err := q.w.ExecContext(ctx, `DELETE FROM digest_settings WHERE user_id = ?`, userID); err != nil {
			return mapErr("digest setting replace", err)
		}
		for _, s := range settings {
			at := ts(now)
			if !s.UpdatedAt.IsZero() {
				at = ts(s.UpdatedAt)
			}
			if _, err := q.w.ExecContext(ctx, `INSERT INTO digest_settings (user_id, category, frequency, at, day, next_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, userID, s.Category, string(s.Frequency), s.At, s.Day, tsPtr(s.NextAt), at); err != nil {
				return mapErr("digest setting replace", err)
			}
		}
		return q.digestRebind(ctx, userID, now)
	})
}

// digestRebind binds a person's held items to the schedule now applying
// to their category (the category's own, else the person's), keeps a
// schedule for those whose schedule is gone, and makes immediate
// schedules holding items due at now.
func (q *queries) digestRebind(ctx context.Context, userID string, now time.Time) error {
	if _, err := q.w.ExecContext(ctx, `UPDATE digest_items SET schedule = CASE WHEN EXISTS (
			SELECT 1 FROM digest_settings s WHERE s.user_id = digest_items.user_id AND s.category = digest_items.category)
			THEN category ELSE '' END
		WHERE user_id = ?`, userID); err != nil {
		return mapErr("digest rebind", err)
	}
	if _, err := q.w.ExecContext(ctx, `INSERT INTO digest_settings (user_id, category, frequency, at, day, next_at, updated_at)
		SELECT ?1, '', 'immediate', '', '', ?2, ?2 WHERE EXISTS (
			SELECT 1 FROM digest_items WHERE user_id = ?1 AND schedule = '')
		ON CONFLICT DO NOTHING`, userID, ts(now)); err != nil {
		return mapErr("digest rebind", err)
	}
	_, err := q.w.ExecContext(ctx, `UPDATE digest_settings SET next_at = ?2
		WHERE user_id = ?1 AND frequency = 'immediate' AND EXISTS (
			SELECT 1 FROM digest_items i WHERE i.user_id = ?1 AND i.schedule = digest_settings.category)`,
		userID, ts(now))
	return mapErr("digest rebind", err)
}

func (q *queries) DigestHolders(ctx context.Context, category string, users []string) (map[string]string, error) {
	// Among few users, their rows are found by the primary key; for a
	// whole fan-out, by the category index (few people hold e-mail).
	from, args := `digest_settings s`, []any{category}
	if users != nil {
		from = `(SELECT DISTINCT value AS id FROM json_each(?2)) j CROSS JOIN digest_settings s ON s.user_id = j.id`
		args = append(args, jsonList(users))
	}
	query := `SELECT s.user_id, s.category FROM ` + from + `
		WHERE s.frequency <> 'immediate' AND (s.category = ?1 OR (s.category = '' AND NOT EXISTS (
			SELECT 1 FROM digest_settings c WHERE c.user_id = s.user_id AND c.category = ?1)))`
	rows, err := q.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr("digest holders", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var u, s string
		if err := rows.Scan(&u, &s); err != nil {
			return nil, mapErr("digest holders", err)
		}
		out[u] = s
	}
	return out, mapErr("digest holders", rows.Err())
}

func (q *queries) DigestItemInsertMany(ctx context.Context, p *store.DigestItemInsertParams) (int, error) {
	if len(p.Items) == 0 {
		return 0, nil
	}
	type row struct {
		U string `json:"u"`
		S string `json:"s"`
		R string `json:"r"`
	}
	rows := make([]row, len(p.Items))
	for i, it := range p.Items {
		rows[i] = row{it.UserID, it.Schedule, it.Reason}
	}
	payload, _ := json.Marshal(rows)
	res, err := q.w.ExecContext(ctx, `INSERT INTO digest_items (user_id, event_id, category, schedule, reason, created_at)
		SELECT value ->> '$.u', ?, ?, value ->> '$.s', value ->> '$.r', ? FROM json_each(?)`,
		p.EventID, p.Category, ts(p.CreatedAt), string(payload))
	if err != nil {
		return 0, mapErr("digest item insert", err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr("digest item insert", err)
}

func (q *queries) DigestClaim(ctx context.Context, p *store.DigestClaimParams) ([]store.DueDigest, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	var out []store.DueDigest
	err := q.atomic(ctx, func(q *queries) error {
		rows, err := q.w.QueryContext(ctx, `SELECT s.user_id, s.category, s.frequency, s.at, s.day, s.next_at, s.updated_at,
				u.name, u.email, u.locale, u.time_zone, u.quiet_hours, u.active
			FROM digest_settings s JOIN users u ON u.id = s.user_id
			WHERE s.next_at IS NOT NULL AND s.next_at <= ? ORDER BY s.next_at, s.user_id, s.category LIMIT ?`, ts(p.Now), p.Limit)
		if err != nil {
			return err
		}
		type key struct{ u, s string }
		index := map[key]int{}
		var pairs [][2]string
		for rows.Next() {
			var d store.DueDigest
			var next sql.NullTime
			if err := rows.Scan(&d.UserID, &d.Setting.Category, &d.Setting.Frequency, &d.Setting.At, &d.Setting.Day, &next,
				&d.Setting.UpdatedAt, &d.Name, &d.Email, &d.Locale, &d.TimeZone, &d.QuietHours, &d.Active); err != nil {
				rows.Close()
				return err
			}
			d.Setting.NextAt = timePtr(next)
			index[key{d.UserID, d.Setting.Category}] = len(out)
			pairs = append(pairs, [2]string{d.UserID, d.Setting.Category})
			out = append(out, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(out) == 0 {
			return err
		}
		payload, _ := json.Marshal(pairs)
		rows, err = q.w.QueryContext(ctx, `SELECT i.user_id, i.schedule, i.id, i.event_id, i.created_at
			FROM json_each(?) j
			CROSS JOIN digest_items i ON i.user_id = j.value ->> '$[0]' AND i.schedule = j.value ->> '$[1]'
			ORDER BY i.user_id, i.schedule, i.created_at DESC, i.id DESC`, string(payload))
		if err != nil {
			return err
		}
		for rows.Next() {
			var u, s string
			var e store.DigestEntry
			if err := rows.Scan(&u, &s, &e.ItemID, &e.EventID, &e.CreatedAt); err != nil {
				rows.Close()
				return err
			}
			e.CreatedAt = e.CreatedAt.UTC()
			i := index[key{u, s}]
			out[i].Items = append(out[i].Items, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		ids, _ := json.Marshal(store.DigestEventIDs(out))
		rows, err = q.w.QueryContext(ctx, `SELECT e.id, e.key, e.title, e.body, coalesce(t.status_type, 'neutral'),
				e.context_type, e.context_id, e.status, e.until
			FROM events e LEFT JOIN notification_types t ON t.key = e.key
			WHERE e.id IN (SELECT value FROM json_each(?))`, string(ids))
		if err != nil {
			return err
		}
		defer rows.Close()
		events := map[int64]store.DigestEntry{}
		for rows.Next() {
			var e store.DigestEntry
			var until sql.NullTime
			if err := rows.Scan(&e.EventID, &e.Key, &e.Title, &e.Body, &e.StatusType, &e.ContextType, &e.ContextID, &e.EventStatus, &until); err != nil {
				return err
			}
			e.Until = timePtr(until)
			events[e.EventID] = e
		}
		store.DigestFill(out, events)
		return rows.Err()
	})
	if err != nil {
		return nil, mapErr("digest claim", err)
	}
	return out, nil
}

func (q *queries) DigestComplete(ctx context.Context, p *store.DigestCompleteParams) error {
	at := ts(p.At)
	err := q.atomic(ctx, func(q *queries) error {
		for i := range p.Digests {
			d := &p.Digests[i]
			created := at
			if !d.Created.IsZero() {
				created = ts(d.Created)
			}
			if err := q.w.QueryRowContext(ctx, `INSERT INTO digests (user_id, schedule, items, subject, html, text, locale, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, d.UserID, d.Schedule, len(d.ItemIDs), d.Subject, d.HTML, d.Text, d.Locale, created).
				Scan(&d.ID); err != nil {
				return err
			}
			hold := ""
			if d.NotBefore != nil {
				hold = store.HoldQuietHours
			}
			if err := q.w.QueryRowContext(ctx, `INSERT INTO deliveries (event_id, user_id, company_id, address, reason, state, created_at, updated_at, not_before, hold_reason, target)
				VALUES (?, ?, '', ?, 'digest', 'queued', ?, ?, ?, ?, ?) RETURNING id`, -d.ID, d.UserID, d.Address, created, created, tsPtr(d.NotBefore), hold, d.Address).Scan(&d.Delivery); err != nil {
				return err
			}
		}
		done := p.Dropped
		for _, d := range p.Digests {
			done = append(done, d.ItemIDs...)
		}
		if len(done) > 0 {
			ids, _ := json.Marshal(done)
			if _, err := q.w.ExecContext(ctx, `DELETE FROM digest_items WHERE id IN (SELECT value FROM json_each(?))`, string(ids)); err != nil {
				return err
			}
		}
		for _, n := range p.Next {
			if _, err := q.w.ExecContext(ctx, `UPDATE digest_settings SET next_at = ? WHERE user_id = ? AND category = ?`,
				tsPtr(n.At), n.UserID, n.Schedule); err != nil {
				return err
			}
		}
		return nil
	})
	return mapErr("digest complete", err)
}

func (q *queries) DigestGet(ctx context.Context, id int64) (*store.Digest, error) {
	d := store.Digest{ID: id}
	err := q.r.QueryRowContext(ctx, `SELECT user_id, schedule, subject, html, text, locale, created_at FROM digests WHERE id = ?`, id).
		Scan(&d.UserID, &d.Schedule, &d.Subject, &d.HTML, &d.Text, &d.Locale, &d.Created)
	if err != nil {
		return nil, mapErr(fmt.Sprintf("digest get %d", id), err)
	}
	d.Created = d.Created.UTC()
	return &d, nil
}

func (q *queries) DigestItemCount(ctx context.Context, userID string) (int, error) {
	var n int
	err := q.r.QueryRowContext(ctx, `SELECT count(*) FROM digest_items WHERE user_id = ?`, userID).Scan(&n)
	return n, mapErr("digest item count", err)
}

func (q *queries) UserTimeZone(ctx context.Context, userID string) (string, error) {
	var tz string
	err := q.r.QueryRowContext(ctx, `SELECT time_zone FROM users WHERE id = ?`, userID).Scan(&tz)
	return tz, mapErr(fmt.Sprintf("user %q", userID), err)
}

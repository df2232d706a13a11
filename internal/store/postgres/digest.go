package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche/internal/store"
)

// DigestSettingList returns a person's digest schedules.
func (q *queries) DigestSettingList(ctx context.Context, userID string) ([]store.DigestSetting, error) {
	rows, err := q.db.Query(ctx, `SELECT category, frequency, at, day, next_at, updated_at FROM digest_settings
WHERE user_id = $1 ORDER BY category`, userID)
	if err != nil {
		return nil, fmt.Errorf("postgres: digest setting list: %w", mapErr(err, ""))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.DigestSetting, error) {
		var s store.DigestSetting
		err := r.Scan(&s.Category, &s.Frequency, &s.At, &s.Day, &s.NextAt, &s.UpdatedAt)
		s.NextAt, s.UpdatedAt = utcPtr(s.NextAt), s.UpdatedAt.UTC()
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: digest setting list: %w", mapErr(err, ""))
	}
	return out, nil
}

// DigestSettingReplace replaces a person's schedules and rebinds their
// held items.
func (q *queries) DigestSettingReplace(ctx context.Context, userID string, settings []store.DigestSetting, now time.Time) error {
	err := q.atomic(ctx, func(q *queries) error {
		var one int
		if err := q.db.QueryRow(ctx, `SELECT 1 FROM users WHERE id = $1`, userID).Scan(&one); err != nil {
			return mapErr(err, "")
		}
		if _, err := q.db.Exec(ctx, `DELETE FROM digest_settings WHERE user_id = $1`, userID); err != nil {
			return mapErr(err, "")
		}
		for _, s := range settings {
			at := ts(now)
			if !s.UpdatedAt.IsZero() {
				at = ts(s.UpdatedAt)
			}
			if _, err := q.db.Exec(ctx, `INSERT INTO digest_settings (user_id, category, frequency, at, day, next_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)`, userID, s.Category, string(s.Frequency), s.At, s.Day, tsPtr(s.NextAt), at); err != nil {
				return mapErr(err, "")
			}
		}
		// Bind held items to the schedule now applying to their category;
		// keep one for those of a schedule that is gone; make immediate
		// schedules holding items due now.
		if _, err := q.db.Exec(ctx, `UPDATE digest_items i SET schedule = CASE WHEN EXISTS (
	SELECT 1 FROM digest_settings s WHERE s.user_id = i.user_id AND s.category = i.category) THEN i.category ELSE '' END
WHERE i.user_id = $1`, userID); err != nil {
			return mapErr(err, "")
		}
		if _, err := q.db.Exec(ctx, `INSERT INTO digest_settings (user_id, category, frequency, at, day, next_at, updated_at)
SELECT $1, '', 'immediate', '', '', $2, $2 WHERE EXISTS (
	SELECT 1 FROM digest_items WHERE user_id = $1 AND schedule = '')
ON CONFLICT DO NOTHING`, userID, ts(now)); err != nil {
			return mapErr(err, "")
		}
		_, err := q.db.Exec(ctx, `UPDATE digest_settings s SET next_at = $2
WHERE s.user_id = $1 AND s.frequency = 'immediate' AND EXISTS (
	SELECT 1 FROM digest_items i WHERE i.user_id = $1 AND i.schedule = s.category)`, userID, ts(now))
		return mapErr(err, "")
	})
	if err != nil {
		return fmt.Errorf("postgres: digest setting replace %q: %w", userID, err)
	}
	return nil
}

// DigestHolders returns the users whose e-mail of category is held.
func (q *queries) DigestHolders(ctx context.Context, category string, users []string) (map[string]string, error) {
	// Among few users, their rows are found by the primary key; for a
	// whole fan-out, by the category index (few people hold e-mail).
	from, args := `digest_settings s`, []any{category}
	if users != nil {
		from = `(SELECT DISTINCT u FROM unnest($2::text[]) AS j (u)) j JOIN digest_settings s ON s.user_id = j.u`
		args = append(args, users)
	}
	query := `SELECT s.user_id, s.category FROM ` + from + `
WHERE s.frequency <> 'immediate' AND (s.category = $1 OR (s.category = '' AND NOT EXISTS (
	SELECT 1 FROM digest_settings c WHERE c.user_id = s.user_id AND c.category = $1)))`
	rows, err := q.db.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: digest holders: %w", mapErr(err, ""))
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var u, s string
		if err := rows.Scan(&u, &s); err != nil {
			return nil, fmt.Errorf("postgres: digest holders: %w", mapErr(err, ""))
		}
		out[u] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: digest holders: %w", mapErr(err, ""))
	}
	return out, nil
}

// DigestItemInsertMany holds an event's e-mail for digests.
func (q *queries) DigestItemInsertMany(ctx context.Context, p *store.DigestItemInsertParams) (int, error) {
	if len(p.Items) == 0 {
		return 0, nil
	}
	users, schedules, reasons := make([]string, len(p.Items)), make([]string, len(p.Items)), make([]string, len(p.Items))
	for i, it := range p.Items {
		users[i], schedules[i], reasons[i] = it.UserID, it.Schedule, it.Reason
	}
	tag, err := q.db.Exec(ctx, `INSERT INTO digest_items (user_id, event_id, category, schedule, reason, created_at)
SELECT r.u, $1, $2, r.s, r.r, $3 FROM unnest($4::text[], $5::text[], $6::text[]) AS r (u, s, r)`,
		p.EventID, p.Category, ts(p.CreatedAt), users, schedules, reasons)
	if err != nil {
		return 0, fmt.Errorf("postgres: digest item insert: %w", mapErr(err, ""))
	}
	return int(tag.RowsAffected()), nil
}

// DigestClaim locks up to Limit due schedules (others skip them) and
// reads their held items. Run it in the transaction that completes them.
func (q *queries) DigestClaim(ctx context.Context, p *store.DigestClaimParams) ([]store.DueDigest, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	var out []store.DueDigest
	err := q.atomic(ctx, func(q *queries) error {
		rows, err := q.db.Query(ctx, `SELECT s.user_id, s.category, s.frequency, s.at, s.day, s.next_at, s.updated_at,
	u.name, u.email, u.locale, u.time_zone, u.quiet_hours, u.active
FROM digest_settings s JOIN users u ON u.id = s.user_id
WHERE s.next_at IS NOT NULL AND s.next_at <= $1 ORDER BY s.next_at, s.user_id, s.category LIMIT $2
FOR UPDATE OF s SKIP LOCKED`, ts(p.Now), p.Limit)
		if err != nil {
			return err
		}
		type key struct{ u, s string }
		index := map[key]int{}
		var users, schedules []string
		for rows.Next() {
			var d store.DueDigest
			if err := rows.Scan(&d.UserID, &d.Setting.Category, &d.Setting.Frequency, &d.Setting.At, &d.Setting.Day, &d.Setting.NextAt,
				&d.Setting.UpdatedAt, &d.Name, &d.Email, &d.Locale, &d.TimeZone, &d.QuietHours, &d.Active); err != nil {
				rows.Close()
				return err
			}
			d.Setting.NextAt = utcPtr(d.Setting.NextAt)
			index[key{d.UserID, d.Setting.Category}] = len(out)
			users, schedules = append(users, d.UserID), append(schedules, d.Setting.Category)
			out = append(out, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(out) == 0 {
			return err
		}
		rows, err = q.db.Query(ctx, `SELECT i.user_id, i.schedule, i.id, i.event_id, i.created_at
FROM unnest($1::text[], $2::text[]) AS j (u, s)
JOIN digest_items i ON i.user_id = j.u AND i.schedule = j.s
ORDER BY i.user_id, i.schedule, i.created_at DESC, i.id DESC`, users, schedules)
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
		rows, err = q.db.Query(ctx, `SELECT e.id, e.key, e.title, e.body, coalesce(t.status_type, 'neutral'),
	e.context_type, e.context_id, e.status, e.until
FROM events e LEFT JOIN notification_types t ON t.key = e.key
WHERE e.id = ANY($1::bigint[])`, store.DigestEventIDs(out))
		if err != nil {
			return err
		}
		defer rows.Close()
		events := map[int64]store.DigestEntry{}
		for rows.Next() {
			var e store.DigestEntry
			if err := rows.Scan(&e.EventID, &e.Key, &e.Title, &e.Body, &e.StatusType, &e.ContextType, &e.ContextID, &e.EventStatus, &e.Until); err != nil {
				return err
			}
			e.Until = utcPtr(e.Until)
			events[e.EventID] = e
		}
		store.DigestFill(out, events)
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: digest claim: %w", mapErr(err, ""))
	}
	return out, nil
}

// DigestComplete records a digest run: digests, their deliveries, the
// items they took or left out, the schedules' next times.
func (q *queries) DigestComplete(ctx context.Context, p *store.DigestCompleteParams) error {
	at := ts(p.At)
	err := q.atomic(ctx, func(q *queries) error {
		if len(p.Digests) > 0 {
			n := len(p.Digests)
			users, schedules, subjects, htmls, texts, locales, addrs := make([]string, n), make([]string, n), make([]string, n),
				make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			counts := make([]int32, n)
			notBefore := make([]*time.Time, n)
			for i, d := range p.Digests {
				notBefore[i] = tsPtr(d.NotBefore)
				users[i], schedules[i], subjects[i], htmls[i], texts[i], locales[i], addrs[i] =
					d.UserID, d.Schedule, d.Subject, d.HTML, d.Text, d.Locale, d.Address
				counts[i] = int32(len(d.ItemIDs))
			}
			// Each digest's delivery and ids are matched by person and
			// schedule (one digest each in a run), never by position.
			type key struct{ u, s string }
			index := make(map[key]int, n)
			for i, d := range p.Digests {
				if _, dup := index[key{d.UserID, d.Schedule}]; dup {
					return fmt.Errorf("two digests for %q, schedule %q", d.UserID, d.Schedule)
				}
				index[key{d.UserID, d.Schedule}] = i
			}
			rows, err := q.db.Query(ctx, `WITH d AS (
	INSERT INTO digests (user_id, schedule, items, subject, html, text, locale, created_at)
	SELECT r.u, r.s, r.c, r.subj, r.h, r.t, r.l, $9
	FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[]) AS r (u, s, c, subj, h, t, l)
	RETURNING id, user_id, schedule
), del AS (
	INSERT INTO deliveries (event_id, user_id, company_id, address, target, reason, state, created_at, updated_at, not_before, hold_reason)
	SELECT -d.id, d.user_id, '', a.addr, a.addr, 'digest', 'queued', $9, $9, a.nb, CASE WHEN a.nb IS NULL THEN '' ELSE $11 END
	FROM d JOIN unnest($1::text[], $2::text[], $8::text[], $10::timestamptz[]) AS a (u, s, addr, nb) ON a.u = d.user_id AND a.s = d.schedule
	RETURNING id, event_id
)
SELECT d.user_id, d.schedule, d.id, del.id FROM d JOIN del ON del.event_id = -d.id`,
				users, schedules, counts, subjects, htmls, texts, locales, addrs, at, notBefore, store.HoldQuietHours)
			if err != nil {
				return err
			}
			got := 0
			for rows.Next() {
				var u, sch string
				var id, del int64
				if err := rows.Scan(&u, &sch, &id, &del); err != nil {
					rows.Close()
					return err
				}
				i := index[key{u, sch}]
				p.Digests[i].ID, p.Digests[i].Delivery = id, del
				got++
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			if got != n {
				return fmt.Errorf("inserted %d digests of %d", got, n)
			}
		}
		done := p.Dropped
		for _, d := range p.Digests {
			done = append(done, d.ItemIDs...)
		}
		if len(done) > 0 {
			if _, err := q.db.Exec(ctx, `DELETE FROM digest_items WHERE id = ANY($1::bigint[])`, done); err != nil {
				return err
			}
		}
		if len(p.Next) > 0 {
			users, schedules := make([]string, len(p.Next)), make([]string, len(p.Next))
			nexts := make([]*time.Time, len(p.Next))
			for i, n := range p.Next {
				users[i], schedules[i], nexts[i] = n.UserID, n.Schedule, tsPtr(n.At)
			}
			if _, err := q.db.Exec(ctx, `UPDATE digest_settings s SET next_at = r.n
FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS r (u, c, n) WHERE s.user_id = r.u AND s.category = r.c`,
				users, schedules, nexts); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: digest complete: %w", mapErr(err, ""))
	}
	return nil
}

// DigestGet returns a digest as rendered.
func (q *queries) DigestGet(ctx context.Context, id int64) (*store.Digest, error) {
	d := store.Digest{ID: id}
	err := q.db.QueryRow(ctx, `SELECT user_id, schedule, subject, html, text, locale, created_at FROM digests WHERE id = $1`, id).
		Scan(&d.UserID, &d.Schedule, &d.Subject, &d.HTML, &d.Text, &d.Locale, &d.Created)
	if err != nil {
		return nil, fmt.Errorf("postgres: digest get %d: %w", id, mapErr(err, ""))
	}
	d.Created = d.Created.UTC()
	return &d, nil
}

// DigestItemCount counts a person's held items.
func (q *queries) DigestItemCount(ctx context.Context, userID string) (int, error) {
	var n int
	err := q.db.QueryRow(ctx, `SELECT count(*) FROM digest_items WHERE user_id = $1`, userID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: digest item count: %w", mapErr(err, ""))
	}
	return n, nil
}

// UserTimeZone reads a person's time zone.
func (q *queries) UserTimeZone(ctx context.Context, userID string) (string, error) {
	var tz string
	if err := q.db.QueryRow(ctx, `SELECT time_zone FROM users WHERE id = $1`, userID).Scan(&tz); err != nil {
		return "", fmt.Errorf("postgres: user %q: %w", userID, mapErr(err, ""))
	}
	return tz, nil
}

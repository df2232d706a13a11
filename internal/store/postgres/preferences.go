package postgres

import (
	"context"

	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche/internal/store"
)

// PreferenceList returns a person's settings, or the organisation
// defaults when userID is empty.
func (q *queries) PreferenceList(ctx context.Context, userID string) ([]store.Preference, error) {
	query := `SELECT kind, scope, channel, enabled, updated_at FROM preferences WHERE user_id = $1 ORDER BY kind DESC, scope, channel`
	args := []any{userID}
	if userID == "" {
		query = `SELECT kind, scope, channel, enabled, updated_at FROM preference_defaults ORDER BY kind DESC, scope, channel`
		args = nil
	}
	rows, err := q.db.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: preference list: %w", mapErr(err, ""))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Preference, error) {
		p := store.Preference{UserID: userID}
		err := r.Scan(&p.Kind, &p.Scope, &p.Channel, &p.Enabled, &p.UpdatedAt)
		p.UpdatedAt = p.UpdatedAt.UTC()
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: preference list: %w", mapErr(err, ""))
	}
	return out, nil
}

// PreferenceReplace replaces a person's settings (the organisation's when
// userID is empty) by prefs.
func (q *queries) PreferenceReplace(ctx context.Context, userID string, prefs []store.Preference) error {
	err := q.atomic(ctx, func(q *queries) error {
		now := ts(time.Now())
		if userID == "" {
			if _, err := q.db.Exec(ctx, `DELETE FROM preference_defaults`); err != nil {
				return mapErr(err, "")
			}
		} else {
			var one int
			if err := q.db.QueryRow(ctx, `SELECT 1 FROM users WHERE id = $1`, userID).Scan(&one); err != nil {
				return mapErr(err, "")
			}
			if _, err := q.db.Exec(ctx, `DELETE FROM preferences WHERE user_id = $1`, userID); err != nil {
				return mapErr(err, "")
			}
		}
		for _, p := range prefs {
			at := now
			if !p.UpdatedAt.IsZero() {
				at = ts(p.UpdatedAt)
			}
			var err error
			if userID == "" {
				_, err = q.db.Exec(ctx, `INSERT INTO preference_defaults (kind, scope, channel, enabled, updated_at)
VALUES ($1, $2, $3, $4, $5)`, string(p.Kind), p.Scope, string(p.Channel), p.Enabled, at)
			} else {
				_, err = q.db.Exec(ctx, `INSERT INTO preferences (user_id, kind, scope, channel, enabled, updated_at)
VALUES ($1, $2, $3, $4, $5, $6)`, userID, string(p.Kind), p.Scope, string(p.Channel), p.Enabled, at)
			}
			if err != nil {
				return mapErr(err, "")
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: preference replace %q: %w", userID, err)
	}
	return nil
}

// summaryQuery reads a type's settings summary in one statement: the
// organisation defaults (category rows first, type rows after: the
// type's setting wins), then which (channel, value) pairs anybody set
// for the type or its category, found by skipping along the settings
// index from one pair to the next (a probe per pair, never a scan of
// the settings, however many people have some; an EXISTS per pair lets
// the planner guess a sequential scan finds one soon, which it does not
// when nobody set it).
const summaryQuery = `WITH RECURSIVE t(kind, scope, channel, enabled) AS (
    (SELECT p.kind, p.scope, p.channel, p.enabled FROM preferences p
        WHERE p.kind = 'type' AND p.scope = $2 ORDER BY p.channel, p.enabled LIMIT 1)
    UNION ALL
    (SELECT p.kind, p.scope, p.channel, p.enabled FROM preferences p
        WHERE p.kind = 'category' AND p.scope = $1 ORDER BY p.channel, p.enabled LIMIT 1)
    UNION ALL
    SELECT n.* FROM t CROSS JOIN LATERAL (SELECT p.kind, p.scope, p.channel, p.enabled FROM preferences p
        WHERE p.kind = t.kind AND p.scope = t.scope AND (p.channel, p.enabled) > (t.channel, t.enabled)
        ORDER BY p.channel, p.enabled LIMIT 1) n)
SELECT false AS users, channel, enabled, kind = 'type' AS is_type FROM preference_defaults
    WHERE (kind = 'category' AND scope = $1) OR (kind = 'type' AND scope = $2)
UNION ALL
(SELECT DISTINCT true, channel, enabled, false FROM t)
ORDER BY users, is_type`

// PreferenceSummary says which settings exist for key and its category.
func (q *queries) PreferenceSummary(ctx context.Context, key string) (*store.PreferenceSummary, error) {
	s := &store.PreferenceSummary{Defaults: map[store.Channel]bool{}, UsersOn: map[store.Channel]bool{}, UsersOff: map[store.Channel]bool{}}
	rows, err := q.db.Query(ctx, summaryQuery, store.Category(key), key)
	if err != nil {
		return nil, fmt.Errorf("postgres: preference summary: %w", mapErr(err, ""))
	}
	defer rows.Close()
	for rows.Next() {
		var users, on, isType bool
		var ch string
		if err := rows.Scan(&users, &ch, &on, &isType); err != nil {
			return nil, fmt.Errorf("postgres: preference summary: %w", mapErr(err, ""))
		}
		switch {
		case !users:
			s.Defaults[store.Channel(ch)] = on
		case on:
			s.UsersOn[store.Channel(ch)] = true
		default:
			s.UsersOff[store.Channel(ch)] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: preference summary: %w", mapErr(err, ""))
	}
	return s, nil
}

// PreferenceExceptions returns the users whose own settings give them
// the opposite of f.Fallback on f.Channel for f.Key.
func (q *queries) PreferenceExceptions(ctx context.Context, f *store.PreferenceFilter) ([]string, error) {
	b := &fanOut{}
	ex := b.exceptions(f)
	rows, err := q.db.Query(ctx, `SELECT DISTINCT user_id FROM (`+ex+`) e ORDER BY user_id`, b.args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: preference exceptions: %w", mapErr(err, ""))
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: preference exceptions: %w", mapErr(err, ""))
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// PreferenceSkipInsert records users as skipped on a channel of an event.
func (q *queries) PreferenceSkipInsert(ctx context.Context, eventID int64, ch store.Channel, userIDs []string) error {
	if len(userIDs) == 0 {
		return nil
	}
	_, err := q.db.Exec(ctx, `INSERT INTO preference_skips (event_id, user_id, channel)
SELECT $1, unnest($2::text[]), $3 ON CONFLICT DO NOTHING`, eventID, userIDs, string(ch))
	if err != nil {
		return fmt.Errorf("postgres: preference skip insert: %w", mapErr(err, ""))
	}
	return nil
}

// GroupContactsAmong is GroupContacts limited to the users of ids: each
// looked up by its primary key and its membership probed by index (the
// OFFSET 0 fences the planner off hashing the whole group and every user,
// 60-120 ms for 100,000 members where 2,500 probes take a few).
func (q *queries) GroupContactsAmong(ctx context.Context, groups, ids []string) ([]store.Contact, error) {
	if len(groups) == 0 || len(ids) == 0 {
		return []store.Contact{}, nil
	}
	out, err := collectContacts(q.db.Query(ctx, `
SELECT u.id, u.email, u.active FROM (SELECT DISTINCT unnest($2::text[]) AS id) a
CROSS JOIN LATERAL (SELECT u.id, u.email, u.active FROM users u
    WHERE u.id = a.id AND u.active AND EXISTS (
        SELECT 1 FROM user_groups g WHERE g.user_id = u.id AND g.group_name = ANY($1))
    OFFSET 0) u
ORDER BY u.id COLLATE "C"`, groups, ids))
	if err != nil {
		return nil, fmt.Errorf("postgres: group contacts among: %w", err)
	}
	return out, nil
}

// PreferenceSkipList returns who got nothing on a channel of an event
// because of a preference.
func (q *queries) PreferenceSkipList(ctx context.Context, eventID int64, limit int) ([]store.PreferenceSkip, error) {
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	rows, err := q.db.Query(ctx, `SELECT user_id, channel FROM preference_skips WHERE event_id = $1
ORDER BY channel, user_id LIMIT $2`, eventID, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: preference skip list: %w", mapErr(err, ""))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.PreferenceSkip, error) {
		s := store.PreferenceSkip{Reason: store.SkipReasonPreference}
		err := r.Scan(&s.UserID, &s.Channel)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: preference skip list: %w", mapErr(err, ""))
	}
	return out, nil
}

// TypeSetMandatory makes a type mandatory or not.
func (q *queries) TypeSetMandatory(ctx context.Context, key string, mandatory bool) error {
	tag, err := q.db.Exec(ctx, `UPDATE notification_types SET mandatory = $1 WHERE key = $2`, mandatory, key)
	if err != nil {
		return fmt.Errorf("postgres: type set mandatory %q: %w", key, mapErr(err, ""))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: type set mandatory %q: %w", key, store.ErrNotFound)
	}
	return nil
}

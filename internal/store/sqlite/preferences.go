package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// prefTable is where the settings of userID live, and the condition that
// selects them.
func prefTable(userID string) (table, where string, args []any) {
	if userID == "" {
		return "preference_defaults", "1 = 1", nil
	}
	return "preferences", "user_id = ?", []any{userID}
}

func (q *queries) PreferenceList(ctx context.Context, userID string) ([]store.Preference, error) {
	table, where, args := prefTable(userID)
	rows, err := q.r.QueryContext(ctx, `SELECT kind, scope, channel, enabled, updated_at FROM `+table+`
		WHERE `+where+` ORDER BY kind DESC, scope, channel`, args...)
	if err != nil {
		return nil, mapErr("preference list", err)
	}
	defer rows.Close()
	out := []store.Preference{}
	for rows.Next() {
		p := store.Preference{UserID: userID}
		var kind, ch string
		if err := rows.Scan(&kind, &p.Scope, &ch, &p.Enabled, &p.UpdatedAt); err != nil {
			return nil, mapErr("preference list", err)
		}
		p.Kind, p.Channel, p.UpdatedAt = store.ScopeKind(kind), store.Channel(ch), p.UpdatedAt.UTC()
		out = append(out, p)
	}
	return out, mapErr("preference list", rows.Err())
}

func (q *queries) PreferenceReplace(ctx context.Context, userID string, prefs []store.Preference) error {
	table, where, args := prefTable(userID)
	return q.atomic(ctx, func(q *queries) error {
		if userID != "" {
			var one int
			if err := q.w.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = ?`, userID).Scan(&one); err != nil {
				return mapErr(fmt.Sprintf("preference replace: user %q", userID), err)
			}
		}
		if _, err := q.w.ExecContext(ctx, `DELETE FROM `+table+` WHERE `+where, args...); err != nil {
			return mapErr("preference replace", err)
		}
		now := ts(time.Now())
		for _, p := range prefs {
			at := now
			if !p.UpdatedAt.IsZero() {
				at = ts(p.UpdatedAt)
			}
			var err error
			if userID == "" {
				_, err = q.w.ExecContext(ctx, `INSERT INTO preference_defaults (kind, scope, channel, enabled, updated_at)
					VALUES (?, ?, ?, ?, ?)`, string(p.Kind), p.Scope, string(p.Channel), p.Enabled, at)
			} else {
				_, err = q.w.ExecContext(ctx, `INSERT INTO preferences (user_id, kind, scope, channel, enabled, updated_at)
					VALUES (?, ?, ?, ?, ?, ?)`, userID, string(p.Kind), p.Scope, string(p.Channel), p.Enabled, at)
			}
			if err != nil {
				return mapErr("preference replace", err)
			}
		}
		return nil
	})
}

// summaryQuery reads a type's settings summary in one statement: the
// organisation defaults (category rows first, type rows after: the
// type's setting wins), then, per channel and value, whether anybody set
// it, by one probe of the settings index each (never a scan of the
// settings, however many people have some); where nobody set anything for
// the type or its category (most types), two probes, evaluated once.
const summaryQuery = `SELECT 0, channel, enabled, kind = 'type' FROM preference_defaults
		WHERE (kind = 'category' AND scope = ?1) OR (kind = 'type' AND scope = ?2)
	UNION ALL
	SELECT 1, c.value, e.value, 0 FROM json_each(?3) c CROSS JOIN json_each('[0,1]') e
		WHERE (EXISTS (SELECT 1 FROM preferences p WHERE p.kind = 'type' AND p.scope = ?2)
				OR EXISTS (SELECT 1 FROM preferences p WHERE p.kind = 'category' AND p.scope = ?1))
			AND (EXISTS (SELECT 1 FROM preferences p WHERE p.kind = 'type' AND p.scope = ?2 AND p.channel = c.value AND p.enabled = e.value)
			OR EXISTS (SELECT 1 FROM preferences p WHERE p.kind = 'category' AND p.scope = ?1 AND p.channel = c.value AND p.enabled = e.value))
	ORDER BY 1, 4`

func (q *queries) PreferenceSummary(ctx context.Context, key string) (*store.PreferenceSummary, error) {
	s := &store.PreferenceSummary{Defaults: map[store.Channel]bool{}, UsersOn: map[store.Channel]bool{}, UsersOff: map[store.Channel]bool{}}
	chs := make([]string, len(store.Channels))
	for i, c := range store.Channels {
		chs[i] = string(c)
	}
	rows, err := q.r.QueryContext(ctx, summaryQuery, store.Category(key), key, jsonList(chs))
	if err != nil {
		return nil, mapErr("preference summary", err)
	}
	defer rows.Close()
	for rows.Next() {
		var users, isType bool
		var ch string
		var on bool
		if err := rows.Scan(&users, &ch, &on, &isType); err != nil {
			return nil, mapErr("preference summary", err)
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
	return s, mapErr("preference summary", rows.Err())
}

func (q *queries) PreferenceExceptions(ctx context.Context, f *store.PreferenceFilter) ([]string, error) {
	ex, args := exceptions(f)
	out, err := scanStrings(q.r.QueryContext(ctx, `SELECT DISTINCT user_id FROM (`+ex+`) ORDER BY user_id`, args...))
	return out, mapErr("preference exceptions", err)
}

func (q *queries) PreferenceSkipInsert(ctx context.Context, eventID int64, ch store.Channel, userIDs []string) error {
	if len(userIDs) == 0 {
		return nil
	}
	_, err := q.w.ExecContext(ctx, `INSERT INTO preference_skips (event_id, user_id, channel)
		SELECT ?, value, ? FROM json_each(?) WHERE true ON CONFLICT DO NOTHING`, eventID, string(ch), jsonList(userIDs))
	return mapErr("preference skip insert", err)
}

func (q *queries) GroupContactsAmong(ctx context.Context, groups, ids []string) ([]store.Contact, error) {
	out, err := scanContacts(q.r.QueryContext(ctx, `SELECT u.id, u.email, u.active
		FROM (SELECT DISTINCT value AS id FROM json_each(?)) a CROSS JOIN users u ON u.id = a.id
		WHERE u.active AND EXISTS (SELECT 1 FROM user_groups g
			WHERE g.user_id = u.id AND g.group_name IN (SELECT value FROM json_each(?)))
		ORDER BY u.id`, jsonList(ids), jsonList(groups)))
	return out, mapErr("group contacts among", err)
}

func (q *queries) PreferenceSkipList(ctx context.Context, eventID int64, limit int) ([]store.PreferenceSkip, error) {
	rows, err := q.r.QueryContext(ctx, `SELECT user_id, channel FROM preference_skips WHERE event_id = ?
		ORDER BY channel, user_id LIMIT ?`, eventID, clampLimit(limit, 100, 1000))
	if err != nil {
		return nil, mapErr("preference skip list", err)
	}
	defer rows.Close()
	out := []store.PreferenceSkip{}
	for rows.Next() {
		s := store.PreferenceSkip{Reason: store.SkipReasonPreference}
		var ch string
		if err := rows.Scan(&s.UserID, &ch); err != nil {
			return nil, mapErr("preference skip list", err)
		}
		s.Channel = store.Channel(ch)
		out = append(out, s)
	}
	return out, mapErr("preference skip list", rows.Err())
}

func (q *queries) TypeSetMandatory(ctx context.Context, key string, mandatory bool) error {
	res, err := q.w.ExecContext(ctx, `UPDATE notification_types SET mandatory = ? WHERE key = ?`, mandatory, key)
	return affectedOne(res, err, fmt.Sprintf("type set mandatory %q", key))
}

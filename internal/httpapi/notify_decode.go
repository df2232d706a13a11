package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/dispatch"
	"github.com/cloche/cloche/internal/store"
)

// notifyRequest is the body of POST /api/v1/events, in the seed's field
// names. Decoded, it is normal: times in UTC, ids as strings; encoding it
// again gives the canonical form of the request, whose hash is its
// fingerprint for idempotency.
type notifyRequest struct {
	Key            string          `json:"key"`
	Title          string          `json:"title"`
	Body           string          `json:"body,omitempty"`
	DueDatetime    *time.Time      `json:"due_datetime,omitempty"`
	Until          *time.Time      `json:"until,omitempty"`
	GroupNames     []string        `json:"group_names,omitempty"`
	UserIDs        []string        `json:"user_ids,omitempty"`
	CompanyID      string          `json:"company_id,omitempty"`
	FollowerUserID string          `json:"follower_user_id,omitempty"`
	AccountType    string          `json:"account_type,omitempty"`
	ForceChannel   string          `json:"force_channel,omitempty"`
	Context        *cloche.Context `json:"context,omitempty"`
	CheckURL       string          `json:"check_url,omitempty"`
	URL            string          `json:"url,omitempty"`
	Actions        []cloche.Action `json:"actions,omitempty"`
	// Attachments: their bytes travel as base64, as encoding/json writes
	// []byte, so the fingerprint covers them.
	Attachments []attachmentJSON `json:"attachments,omitempty"`
}

// attachmentJSON is one file of a notify request.
type attachmentJSON struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type,omitempty"`
	Data        []byte `json:"data"`
}

// localLayouts are datetimes without an offset, read in the configured
// time zone (Python's datetime.isoformat() of a naive datetime is the
// second). Fractional seconds are accepted after the seconds.
var localLayouts = []string{
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
}

// notifyFields are the fields of a notify request.
var notifyFields = map[string]bool{"key": true, "title": true, "body": true, "due_datetime": true, "until": true,
	"group_names": true, "user_ids": true, "company_id": true, "follower_user_id": true, "account_type": true, "force_channel": true,
	"context": true, "check_url": true, "url": true, "actions": true, "attachments": true}

// decodeNotify reads a notify request. Every field is checked, and every
// wrong one reported (a *cloche.FieldError each, joined); a body that is
// not a JSON object is an *apiError (400). Times without an offset are
// read in loc.
func decodeNotify(b []byte, loc *time.Location) (*notifyRequest, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil || raw == nil {
		if err == nil {
			err = errors.New("null")
		}
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return nil, newError(400, codeInvalidJSON, "the request body must be a JSON object, not %s", typ.Value)
		}
		return nil, jsonError(err)
	}
	if dec.More() {
		return nil, newError(400, codeInvalidJSON, "the request body has data after its JSON value")
	}
	req := &notifyRequest{}
	var errs []error
	bad := func(field, format string, args ...any) { errs = append(errs, store.Invalid(field, format, args...)) }
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	sort.Strings(names) // errors in a stable order
	for _, name := range names {
		v := raw[name]
		if !notifyFields[name] {
			bad(name, "is not a known field (key, title, body, due_datetime, until, group_names, user_ids, company_id, follower_user_id, account_type, force_channel, context, check_url, url, actions, attachments)")
			continue
		}
		if isNull(v) {
			continue
		}
		var err error
		switch name {
		case "key":
			req.Key, err = jsonString(v)
		case "title":
			req.Title, err = jsonString(v)
		case "body":
			req.Body, err = jsonString(v)
		case "due_datetime":
			req.DueDatetime, err = jsonDatetime(v, loc)
		case "until":
			req.Until, err = jsonDatetime(v, loc)
		case "group_names":
			req.GroupNames, err = jsonList(v, name, jsonString)
		case "user_ids":
			req.UserIDs, err = jsonList(v, name, jsonID)
		case "company_id":
			req.CompanyID, err = jsonID(v)
		case "follower_user_id":
			req.FollowerUserID, err = jsonID(v)
		case "account_type":
			req.AccountType, err = jsonString(v)
		case "force_channel":
			req.ForceChannel, err = jsonString(v)
		case "context":
			req.Context, err = jsonContext(v)
		case "check_url":
			req.CheckURL, err = jsonString(v)
		case "url":
			req.URL, err = jsonString(v)
		case "actions":
			req.Actions, err = jsonActions(v)
		case "attachments":
			req.Attachments, err = jsonAttachments(v)
		}
		if err != nil {
			if fes := cloche.FieldErrors(err); len(fes) > 0 {
				for _, fe := range fes {
					errs = append(errs, fe)
				}
			} else {
				bad(name, "%v", err)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return req, nil
}

// fingerprint is the hash of the request's canonical form: the same request
// written with other spacing, key order, id types or time zones has the
// same fingerprint.
func (req *notifyRequest) fingerprint() string {
	b, err := json.Marshal(req)
	if err != nil {
		// Decoded requests always encode; keep a distinct value anyway.
		b = fmt.Appendf(nil, "%#v", req)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// notification splits the request into what Service.Notify takes.
func (req *notifyRequest) notification() (cloche.Notification, cloche.Recipients, []cloche.NotifyOption) {
	n := cloche.Notification{Key: req.Key, Title: req.Title, Body: req.Body, DueAt: req.DueDatetime,
		Until: req.Until, CheckURL: req.CheckURL, URL: req.URL, Actions: slices.Clone(req.Actions)}
	if req.Context != nil {
		c := *req.Context
		n.Context = &c
	}
	r := cloche.Recipients{GroupNames: req.GroupNames, UserIDs: req.UserIDs, CompanyID: req.CompanyID,
		FollowerUserID: req.FollowerUserID, AccountType: req.AccountType}
	for _, a := range req.Attachments {
		n.Attachments = append(n.Attachments, cloche.Attachment{Name: a.Name, ContentType: a.ContentType, Data: a.Data})
	}
	var opts []cloche.NotifyOption
	if req.ForceChannel != "" {
		opts = append(opts, cloche.ForceChannel(cloche.Channel(req.ForceChannel)))
	}
	return n, r, opts
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

func jsonString(v json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", errors.New("must be a string")
	}
	return s, nil
}

// jsonID reads an id: a string, or an integer written as a JSON number.
func jsonID(v json.RawMessage) (string, error) {
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '"' {
		return jsonString(v)
	}
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	if err := dec.Decode(&n); err != nil {
		return "", errors.New("must be a string or an integer")
	}
	i, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil {
		return "", fmt.Errorf("must be a string or an integer, not %s", n)
	}
	return strconv.FormatInt(i, 10), nil
}

// jsonList reads an array whose items each read.
func jsonList(v json.RawMessage, field string, each func(json.RawMessage) (string, error)) ([]string, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(v, &items); err != nil {
		return nil, errors.New("must be an array")
	}
	out := make([]string, 0, len(items))
	var errs []error
	for i, it := range items {
		s, err := each(it)
		if err != nil {
			errs = append(errs, store.Invalid(fmt.Sprintf("%s[%d]", field, i), "%v", err))
			continue
		}
		out = append(out, s)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// jsonDatetime reads a datetime string: RFC 3339 with an offset, or one
// of localLayouts in loc.
func jsonDatetime(v json.RawMessage, loc *time.Location) (*time.Time, error) {
	s, err := jsonString(v)
	if err != nil {
		return nil, errors.New(`must be a datetime string, e.g. "2026-12-05T09:00:00+01:00"`)
	}
	t, err := parseDatetime(s, loc)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// parseDatetime reads RFC 3339, or a datetime without offset in loc, and
// returns it in UTC.
func parseDatetime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		for _, layout := range localLayouts {
			if t, err = time.ParseInLocation(layout, s, loc); err == nil {
				break
			}
		}
	}
	if err != nil {
		return time.Time{}, fmt.Errorf(`%q is not a datetime: use RFC 3339 ("2026-12-05T09:00:00+01:00"), or "2026-12-05T09:00:00" in the server's time zone`, s)
	}
	t = t.UTC()
	// From 1970 to 9000: outside, they are mistakes.
	if err := dispatch.CheckDatetimeRange(s, t); err != nil {
		return time.Time{}, err
	}
	return t, nil
}

// jsonActions reads [{"label": "Voir", "url": "https://…"}, {"label":
// "Valider", "callback": "https://…"}]. Lengths, count and URLs are the
// service's to check (dispatch.Validate).
func jsonActions(v json.RawMessage) ([]cloche.Action, error) {
	const shape = `must be an array of {"label", "url"} or {"label", "callback"}`
	var items []json.RawMessage
	if err := json.Unmarshal(v, &items); err != nil {
		return nil, errors.New(shape)
	}
	out := make([]cloche.Action, 0, len(items))
	var errs []error
	for i, it := range items {
		field := fmt.Sprintf("actions[%d]", i)
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(it, &obj); err != nil || obj == nil {
			errs = append(errs, store.Invalid(field, `must be an object {"label", "url"} or {"label", "callback"}`))
			continue
		}
		var a cloche.Action
		for _, name := range slices.Sorted(maps.Keys(obj)) {
			fv := obj[name]
			if isNull(fv) {
				continue
			}
			var err error
			switch name {
			case "label":
				a.Label, err = jsonString(fv)
			case "url":
				a.URL, err = jsonString(fv)
			case "callback":
				a.Callback, err = jsonString(fv)
			default:
				err = errors.New("is not a known field (label, url, callback)")
			}
			if err != nil {
				errs = append(errs, store.Invalid(field+"."+name, "%v", err))
			}
		}
		out = append(out, a)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// jsonAttachments reads [{"name": "invoice.pdf", "content_type":
// "application/pdf", "data": "JVBERi0…"}]: data in standard base64
// (padding optional). Names, content types, count and size are the
// service's to check (dispatch.Validate).
func jsonAttachments(v json.RawMessage) ([]attachmentJSON, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(v, &items); err != nil {
		return nil, errors.New(`must be an array of {"name", "content_type", "data" (base64)}`)
	}
	out := make([]attachmentJSON, 0, len(items))
	var errs []error
	for i, it := range items {
		field := fmt.Sprintf("attachments[%d]", i)
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(it, &obj); err != nil || obj == nil {
			errs = append(errs, store.Invalid(field, `must be an object {"name", "content_type", "data" (base64)}`))
			continue
		}
		var a attachmentJSON
		seenData := false
		for _, name := range slices.Sorted(maps.Keys(obj)) {
			fv := obj[name]
			if isNull(fv) {
				continue
			}
			var err error
			switch name {
			case "name":
				a.Name, err = jsonString(fv)
			case "content_type":
				a.ContentType, err = jsonString(fv)
			case "data":
				seenData = true
				var s string
				if s, err = jsonString(fv); err == nil {
					if a.Data, err = decodeBase64(s); err != nil {
						err = errors.New("is not base64 (RFC 4648, standard alphabet)")
					}
				} else {
					err = errors.New("must be a base64 string")
				}
			default:
				err = errors.New("is not a known field (name, content_type, data)")
			}
			if err != nil {
				errs = append(errs, store.Invalid(field+"."+name, "%v", err))
			}
		}
		if !seenData {
			errs = append(errs, store.Invalid(field+".data", "is missing: the file's bytes in base64"))
		}
		out = append(out, a)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// decodeBase64 reads standard base64, padded or not, ignoring line breaks
// (as MIME encoders write them).
func decodeBase64(s string) ([]byte, error) {
	s = strings.NewReplacer("\r", "", "\n", "").Replace(s)
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

// jsonContext reads {"type": "invoice", "id": 42} or "invoice:42".
func jsonContext(v json.RawMessage) (*cloche.Context, error) {
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '"' {
		s, err := jsonString(v)
		if err != nil {
			return nil, err
		}
		return cloche.ParseContext(s)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(v, &obj); err != nil || obj == nil {
		return nil, errors.New(`must be an object {"type": "invoice", "id": "42"} or a string "invoice:42"`)
	}
	c := &cloche.Context{}
	for name, fv := range obj {
		var err error
		switch name {
		case "type":
			if !isNull(fv) {
				c.Type, err = jsonString(fv)
			}
		case "id":
			if !isNull(fv) {
				c.ID, err = jsonID(fv)
			}
		default:
			return nil, store.Invalid("context."+name, "is not a known field (type, id)")
		}
		if err != nil {
			return nil, store.Invalid("context."+name, "%v", err)
		}
	}
	return c, nil
}

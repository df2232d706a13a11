package httpapi

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/cloche/cloche"
)

func TestDecodeNotify(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	req, err := decodeNotify([]byte(`{"key": "activity:reminder", "title": "T", "body": "B",
		"due_datetime": "2026-12-05 09:00:00", "until": "2026-12-05T12:00:00.123456+01:00",
		"group_names": ["manager"], "user_ids": [1, "2"], "company_id": 10, "follower_user_id": "3",
		"force_channel": "email", "context": {"type": "activity", "id": 77}, "check_url": "https://x.example/check",
		"unused": null}`), paris)
	if err == nil {
		t.Fatal("a null unknown field was accepted")
	}
	req, err = decodeNotify([]byte(`{"key": "activity:reminder", "title": "T", "body": "B",
		"due_datetime": "2026-12-05 09:00:00", "until": "2026-12-05T12:00:00.123456+01:00",
		"group_names": ["manager"], "user_ids": [1, "2"], "company_id": 10, "follower_user_id": "3",
		"force_channel": "email", "context": {"type": "activity", "id": 77}, "check_url": "https://x.example/check",
		"body": null}`), paris)
	if err != nil {
		t.Fatal(err)
	}
	due := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	until := time.Date(2026, 12, 5, 11, 0, 0, 123456000, time.UTC)
	want := &notifyRequest{Key: "activity:reminder", Title: "T", DueDatetime: &due, Until: &until,
		GroupNames: []string{"manager"}, UserIDs: []string{"1", "2"}, CompanyID: "10", FollowerUserID: "3",
		ForceChannel: "email", Context: &cloche.Context{Type: "activity", ID: "77"}, CheckURL: "https://x.example/check"}
	if !reflect.DeepEqual(req, want) {
		t.Errorf("decoded\n%+v\nwant\n%+v", req, want)
	}
	again, err := decodeNotify([]byte(`{"context": "activity:77", "check_url": "https://x.example/check", "force_channel": "email",
		"follower_user_id": 3, "company_id": "10", "user_ids": ["1", 2], "group_names": ["manager"],
		"until": "2026-12-05T11:00:00.123456Z", "due_datetime": "2026-12-05T09:00:00+01:00", "title": "T", "key": "activity:reminder"}`), paris)
	if err != nil {
		t.Fatal(err)
	}
	if again.fingerprint() != req.fingerprint() {
		t.Error("the same request written differently has another fingerprint")
	}
	req.Title = "other"
	if again.fingerprint() == req.fingerprint() {
		t.Error("another request has the same fingerprint")
	}

	for _, tc := range []struct {
		body   string
		fields []string
	}{
		{`{"due_datetime": "1969-12-31T00:00:00Z"}`, []string{"due_datetime"}},
		{`{"due_datetime": "9999-12-31T23:00:00-05:00"}`, []string{"due_datetime"}},
		{`{"user_ids": [1, true, "x", 2e40]}`, []string{"user_ids[1]", "user_ids[3]"}},
		{`{"company_id": 1.5, "follower_user_id": []}`, []string{"company_id", "follower_user_id"}},
		{`{"context": {"type": 1}}`, []string{"context.type"}},
		{`{"context": "nocolon"}`, []string{"context"}},
		{`{"context": [1]}`, []string{"context"}},
		{`{"group_names": [1]}`, []string{"group_names[0]"}},
	} {
		_, err := decodeNotify([]byte(tc.body), paris)
		var got []string
		for _, fe := range cloche.FieldErrors(err) {
			got = append(got, fe.Field)
		}
		if !reflect.DeepEqual(got, tc.fields) {
			t.Errorf("%s: fields %v (%v), want %v", tc.body, got, err, tc.fields)
		}
	}
	for _, body := range []string{``, `null`, `[]`, `"x"`, `{"key": "x"} {}`, `{"key": `} {
		_, err := decodeNotify([]byte(body), paris)
		var ae *apiError
		if !errors.As(err, &ae) || ae.status != 400 {
			t.Errorf("%q: %v, want a 400", body, err)
		}
	}
}

// FuzzDecodeNotify checks that the notify decoder never panics, that what
// it refuses it refuses as a 400 or as field errors, and that what it
// accepts encodes to a canonical form that decodes to the same request.
func FuzzDecodeNotify(f *testing.F) {
	for _, seed := range []string{
		`{"key": "message:internal", "title": "Hello", "user_ids": [1, "2"]}`,
		`{"key": "activity:reminder", "title": "T", "due_datetime": "2026-12-05 09:00", "until": "2026-12-06",
		  "follower_user_id": 3, "context": {"type": "activity", "id": 77}, "force_channel": "email"}`,
		`{"key": "k", "title": "t", "company_id": "10", "group_names": ["a", "b"], "context": "invoice:42",
		  "check_url": "https://x.example/c", "body": "\u00e9\n"}`,
		`{"due_datetime": "2026-12-05T09:00:00.999999999+14:00"}`,
		`{"user_ids": [9223372036854775807, -1, 0]}`,
		`{"context": {"type": null, "id": null}}`,
		`{"title": null}`,
		`{}`, `[]`, `null`, `{"key": 1}`, `{"a": {"b": [}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := decodeNotify(b, time.UTC)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) && len(cloche.FieldErrors(err)) == 0 {
				t.Fatalf("%q: error %v is neither a 400 nor field errors", b, err)
			}
			if req != nil {
				t.Fatalf("%q: a request with an error", b)
			}
			return
		}
		canon, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("%q: decoded %+v does not encode: %v", b, req, err)
		}
		again, err := decodeNotify(canon, time.UTC)
		if err != nil {
			t.Fatalf("canonical form %s of %q does not decode: %v", canon, b, err)
		}
		if !reflect.DeepEqual(normal(again), normal(req)) {
			t.Fatalf("%q: decoded %+v, its canonical form %s decodes to %+v", b, req, canon, again)
		}
		if again.fingerprint() != req.fingerprint() {
			t.Fatalf("%q: fingerprint changes through the canonical form", b)
		}
	})
}

// normal makes empty lists and absent ones equal, as their encoding does.
func normal(r *notifyRequest) notifyRequest {
	c := *r
	if len(c.GroupNames) == 0 {
		c.GroupNames = nil
	}
	if len(c.UserIDs) == 0 {
		c.UserIDs = nil
	}
	return c
}

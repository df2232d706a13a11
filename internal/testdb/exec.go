package testdb

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Exec runs one statement on the database at url, for tests that shape a
// history the service would take days to make (a publication hours ago).
// "?" stands for each argument, on both backends; times go in UTC.
func Exec(t testing.TB, url, query string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for i, a := range args {
		if tm, ok := a.(time.Time); ok {
			args[i] = tm.UTC().Truncate(time.Microsecond)
		}
	}
	if path, ok := strings.CutPrefix(url, "sqlite:"); ok {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(30000)&_time_format=sqlite&_txlock=immediate")
		if err != nil {
			t.Fatalf("testdb: exec: %v", err)
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, query, args...); err != nil {
			t.Fatalf("testdb: exec %q: %v", query, err)
		}
		return
	}
	conn, err := connect(ctx, url)
	if err != nil {
		t.Fatalf("testdb: exec: %v", err)
	}
	defer conn.Close(context.Background())
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	if _, err := conn.Exec(ctx, b.String(), args...); err != nil {
		t.Fatalf("testdb: exec %q: %v", query, err)
	}
}

#!/usr/bin/env bash
# Notifies over HTTP on PostgreSQL beside the same run's raw write rate
# (issue 14, section 1). One run:
#
#   - creates a fresh database on the server of PG_URL, migrates it and
#     imports a directory of USERS (10,000) users in groups of ten:
#     no ANALYZE by hand, the planner sees what a fresh import leaves;
#   - starts one `cloche serve` on it, and (SQLITE=1, the default) one on
#     a fresh SQLite file with the same directory, for comparison;
#   - then, in ROUNDS rounds, alternates
#       raw        bench/pginsert: CONNECTIONS goroutines, each a loop of
#                  single-row INSERT transactions (durable, as the server's
#                  synchronous_commit says): the baseline
#       pg-notify  wrk: POST /api/v1/events to one user (each in turn)
#       pg-group   wrk: POST /api/v1/events to a 10-member group
#       sq-notify, sq-group   the same on SQLite
#     each for DURATION at CONNECTIONS keep-alive connections;
#   - prints each run, then the medians, each as a share of the raw insert
#     median, and PostgreSQL's as a share of SQLite's.
#
#   bench/pg-writes.sh          # needs wrk (apt-get install wrk)
#   PG_URL=postgres://postgres@127.0.0.1:5432/postgres ROUNDS=5 DURATION=10s bench/pg-writes.sh
#
# BIN runs that binary instead of building this tree's (to measure
# another version in the same way). PG_URL names any database of the server: the run creates and drops a
# database of its own next to it. SAMPLE=1 also samples pg_stat_activity's
# wait events during each notify run and prints their counts; PERF=1
# records the server's CPU with perf(1) and prints the top functions.
# STATEMENTS=1 prints, after each notify run, the statements of the run
# from pg_stat_statements (calls, plans, mean execution and planning time):
# the server must load it (shared_preload_libraries = pg_stat_statements,
# pg_stat_statements.track_planning = on; the extension created in the
# database of PG_URL). The run resets its counts.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "bench: wrk is needed (apt-get install wrk)"; exit 2; }

PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-50}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-1}
PORT=${PORT:-18191}
SAMPLE=${SAMPLE:-0}
USERS=${USERS:-10000} # in groups of ten
SQLITE=${SQLITE:-1} # also run the notifies against a server on SQLite
PERF=${PERF:-0}
STATEMENTS=${STATEMENTS:-0}
CPU=${CPU:-0} # prints the CPU time per request of cloche and of its PostgreSQL backends (PostgreSQL local)
POOL=${POOL:-} # the server's pool_max_conns, when set

db="cloche_bench_$$"
db_url=$(sed -E "s#^(postgres(ql)?://[^/]*/)[^?]*#\1$db#" <<<"$PG_URL")
work=$(mktemp -d)
server=
servers=()
cleanup() {
  for p in "${servers[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  [ -n "${KEEP_LOG:-}" ] && cp "$work/serve.pg.log" "$KEEP_LOG"
  rm -rf "$work"
}
trap cleanup EXIT
if [ -n "${BIN:-}" ]; then cp "$BIN" "$work/cloche"; else go build -o "$work/cloche" ./cmd/cloche; fi
go build -o "$work/pginsert" ./bench/pginsert
psql -q "$PG_URL" -c "CREATE DATABASE $db" >/dev/null
# config NAME URL PORT: the configuration of one server.
config() {
  cat >"$work/$1.toml" <<TOML
database_url = "$2"
[log]
level = "${LOG_LEVEL:-warn}"
[http]
addr = "127.0.0.1:$3"
[http.rate_limit]
api_key = 0
user_token = 0
TOML
}
config pg "$db_url${POOL:+$([[ $db_url == *\?* ]] && echo '&' || echo '?')pool_max_conns=$POOL}" "$PORT"
config sqlite "sqlite://$work/cloche.db" "$((PORT + 1))"

# USERS users, in groups of ten.
awk -v n="$USERS" 'BEGIN {
  print "{\"users\": ["
  for (u = 1; u <= n; u++) printf "{\"id\": \"%d\", \"email\": \"u%d@example.org\", \"groups\": [\"g%d\"]}%s\n", u, u, (u - 1) % (n / 10) + 1, (u < n ? "," : "")
  print "]}"
}' >"$work/dir.json"
export CLOCHE_BENCH_USERS=$USERS
# start NAME PORT: migrates, imports the directory, starts the server;
# sets key_NAME.
servers=()
start() {
  "$work/cloche" --config "$work/$1.toml" migrate >/dev/null
  "$work/cloche" --config "$work/$1.toml" directory import "$work/dir.json" >/dev/null
  printf -v "key_$1" '%s' "$("$work/cloche" --config "$work/$1.toml" apikey create bench 2>/dev/null | grep -o 'ck_[A-Za-z0-9_-]*' | head -n1)"
  "$work/cloche" --config "$work/$1.toml" serve 2>"$work/serve.$1.log" &
  servers+=($!)
  [ "$1" = pg ] && server=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$2/healthz" >/dev/null && break; sleep 0.1; done
}
start pg "$PORT"
[ "$SQLITE" = 1 ] && start sqlite "$((PORT + 1))"
lua="$(dirname "$0")/wrk"

# sample NAME: counts pg_stat_activity's wait events of the bench database
# every 50 ms until stopped.
sample() {
  while :; do
    psql -Atq "$PG_URL" -c "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity
      WHERE datname = '$db' AND state = 'active' AND pid <> pg_backend_pid()" 2>/dev/null || true
    sleep 0.05
  done >"$work/waits.$1"
}

# cputicks PID...: their CPU time so far, in clock ticks (user + system).
cputicks() {
  local t=0 p
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$t"
}
# backends: the pids of the PostgreSQL backends serving the bench database.
backends() {
  psql -Atq "$PG_URL" -c "SELECT pid FROM pg_stat_activity WHERE datname = '$db' AND pid <> pg_backend_pid()"
}

# run NAME SCRIPT BACKEND: one wrk run; prints "NAME req/s p50 p99".
run() {
  local port=$PORT key=$key_pg
  if [ "$3" = sqlite ]; then port=$((PORT + 1)) key=$key_sqlite; fi
  local out sampler= perfpid=
  if [ "$SAMPLE" = 1 ]; then sample "$1" & sampler=$!; fi
  if [ "$PERF" = 1 ]; then perf record -q -F 499 -g -p "$server" -o "$work/perf.$1" -- sleep "${DURATION%s}" >/dev/null 2>&1 & perfpid=$!; fi
  if [ "$STATEMENTS" = 1 ]; then psql -Atq "$PG_URL" -c "SELECT pg_stat_statements_reset()" >/dev/null; fi
  local c0 p0 pids=
  if [ "$CPU" = 1 ] && [ "$3" = pg ]; then pids=$(backends); c0=$(cputicks "$server"); p0=$(cputicks $pids); fi
  out=$(CLOCHE_BENCH_KEY=$key wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$2" "http://127.0.0.1:$port/api/v1/events")
  if [ -n "$sampler" ]; then kill "$sampler"; wait "$sampler" 2>/dev/null || true; fi
  if grep -q 'Non-2xx' <<<"$out"; then echo "bench: $1: some answers were not 2xx"; echo "$out"; tail -5 "$work/serve.$3.log"; exit 1; fi
  local rps p50 p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  printf '%-12s %10.0f  /s      p50 %8s   p99 %8s' "$1" "$rps" "$p50" "$p99"
  if [ -n "$pids" ]; then
    # CPU per request, from the ticks spent during the run (backends
    # opened during the run are not counted).
    local n hz
    n=$(awk '/requests in/ {print $1}' <<<"$out"); hz=$(getconf CLK_TCK)
    printf '   CPU/req: cloche %4.0f us, postgres %4.0f us' \
      "$(echo "($(cputicks "$server") - $c0) * 1000000 / $hz / $n" | bc -l)" \
      "$(echo "($(cputicks $pids) - $p0) * 1000000 / $hz / $n" | bc -l)"
  fi
  echo
  echo "$1 $rps" >>"$work/rates"
  if [ "$PERF" = 1 ]; then wait "$perfpid" || true; perf report -q -i "$work/perf.$1" --no-children --sort symbol 2>/dev/null | grep -v '^$' | grep '%' | head -${PERF_TOP:-25} | sed 's/^/      cpu /'; fi
  if [ -n "$sampler" ]; then sort "$work/waits.$1" | uniq -c | sort -rn | head -6 | sed 's/^/      wait /'; fi
  if [ "$STATEMENTS" = 1 ] && [ "$3" = pg ]; then
    psql -Atq -F ' ' "$PG_URL" -c "SELECT s.calls, s.plans, round((s.total_exec_time / s.calls * 1000)::numeric),
        round((s.total_plan_time / greatest(s.plans, 1) * 1000)::numeric), left(regexp_replace(s.query, '\s+', ' ', 'g'), 60)
      FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
      WHERE d.datname = '$db' AND s.calls >= 100 ORDER BY s.total_exec_time + s.total_plan_time DESC LIMIT ${STATEMENTS_TOP:-8}" |
      awk '{printf "      stmt calls %6d  plans %6d  exec %5d us  plan %5d us  ", $1, $2, $3, $4; $1=$2=$3=$4=""; print substr($0, 5)}'
  fi
}
raw() {
  local line
  line=$("$work/pginsert" -url "$db_url" -c "$CONNECTIONS" -d "${DURATION%s}s")
  echo "$line"
  awk '{print "raw", $2}' <<<"$line" >>"$work/rates"
}

echo "cloche serve on PostgreSQL ($(psql -Atq "$PG_URL" -c 'SHOW server_version')), $CONNECTIONS connections, $DURATION each, $ROUNDS rounds; load average $(cut -d" " -f1-3 /proc/loadavg)"
subjects() {
  run pg-notify "$lua/notify.lua" pg
  [ "$SQLITE" = 1 ] && run sq-notify "$lua/notify.lua" sqlite
  run pg-group "$lua/notify-group.lua" pg
  [ "$SQLITE" = 1 ] && run sq-group "$lua/notify-group.lua" sqlite
  return 0
}
for r in $(seq 1 "$ROUNDS"); do
  # Alternate the order too, so that no subject always follows the baseline.
  if [ $((r % 2)) = 1 ]; then raw; subjects; else subjects; raw; fi
done
echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
awk '{v[$1] = v[$1] " " $2} END {for (k in v) print k v[k]}' "$work/rates" | while read -r name vals; do
  printf '%s %s\n' "$name" "$(tr ' ' '\n' <<<"$vals" | sort -n | awk '{a[NR] = $1} END {print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2)}')"
done | sort | awk '{m[$1] = $2} END {
  for (k in m) {
    line = sprintf("%-10s median %8.0f /s   %5.1f %% of raw inserts", k, m[k], 100 * m[k] / m["raw"])
    if (k ~ /^pg-/) { sq = "sq-" substr(k, 4); if (sq in m) line = line sprintf("   %5.1f %% of SQLite", 100 * m[k] / m[sq]) }
    print line
  }
}' | sort

#!/usr/bin/env bash
# The HTTP API under load from wrk, a load generator in C, in a process of
# its own on loopback (the Go benchmarks of internal/httpapi generate their
# load in the server's process, with Go's HTTP client, which costs the
# machine as much as the server). One run measures, against a fresh
# `cloche serve` on SQLite:
#
#   healthz  GET /healthz: HTTP alone (routing, middleware, access log)
#   inbox    GET /api/v1/me/notifications?channel=message and /me/counts,
#            alternately, 50 users' tokens, 200 notifications each
#   notify   POST /api/v1/events, one recipient (among 100), an API key
#
# each for DURATION (default 10s) at CONNECTIONS (default 50) connections,
# in rounds alternating the three, and prints requests/s and latency
# percentiles, and each rate as a share of healthz's.
#
#   bench/http-wrk.sh                 # needs wrk: apt-get install wrk
#   DURATION=20s ROUNDS=3 bench/http-wrk.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "bench: wrk is needed (apt-get install wrk)"; exit 2; }

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-50}
ROUNDS=${ROUNDS:-2}
THREADS=${THREADS:-1}
PORT=${PORT:-18181}
DB_URL=${DB_URL:-}

work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/cloche" ./cmd/cloche
base="http://127.0.0.1:$PORT"
cat >"$work/cloche.toml" <<TOML
database_url = "${DB_URL:-sqlite://$work/cloche.db}"
[log]
level = "${LOG_LEVEL:-info}"
[http]
addr = "127.0.0.1:$PORT"
[http.rate_limit]
api_key = 0
user_token = 0
TOML
cloche() { "$work/cloche" --config "$work/cloche.toml" "$@"; }

# 100 users in one group.
{
  echo '{"users": ['
  for u in $(seq 1 100); do
    sep=,; [ "$u" = 100 ] && sep=
    echo "{\"id\": \"$u\", \"email\": \"u$u@example.org\", \"groups\": [\"all\"]}$sep"
  done
  echo ']}'
} >"$work/dir.json"
cloche migrate >/dev/null
cloche directory import "$work/dir.json" >/dev/null
key=$(cloche apikey create bench 2>/dev/null | grep -o 'ck_[A-Za-z0-9_-]*' | head -n1)

"$work/cloche" --config "$work/cloche.toml" serve 2>/dev/null &
server=$! # the binary itself, for the trap to stop it
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done

# 200 notifications to the group: every user has 200.
for i in $(seq 1 200); do
  curl -fs -o /dev/null -X POST "$base/api/v1/events" -H "Authorization: Bearer $key" \
    -H 'Content-Type: application/json' \
    -d "{\"key\": \"message:internal\", \"title\": \"n$i\", \"body\": \"Body text.\", \"group_names\": [\"all\"]}"
done
tokens=()
for u in $(seq 1 50); do tokens+=("$(cloche token mint "$u" --ttl 2h | tail -n1)"); done

lua="$(dirname "$0")/wrk"
export CLOCHE_BENCH_KEY=$key CLOCHE_BENCH_TOKENS="${tokens[*]}"

# run NAME SCRIPT PATH: one wrk run; prints "NAME req/s p50 p99".
run() {
  local out
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency ${2:+-s "$2"} "$base$3")
  if grep -q 'Non-2xx' <<<"$out"; then echo "bench: $1: some answers were not 2xx"; echo "$out"; exit 1; fi
  local rps p50 p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  printf '%-8s %10.0f req/s   p50 %8s   p99 %8s\n' "$1" "$rps" "$p50" "$p99"
  echo "$1 $rps" >>"$work/rates"
}

echo "cloche serve on ${DB_URL:-SQLite}, $CONNECTIONS connections, $THREADS wrk thread(s), $DURATION each, $ROUNDS rounds; load average $(cut -d" " -f1-3 /proc/loadavg)"
for r in $(seq 1 "$ROUNDS"); do
  run healthz "" /healthz
  run inbox "$lua/inbox.lua" /api/v1/me/counts
  run notify "$lua/notify.lua" /api/v1/events
done
echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
awk '{sum[$1] += $2; n[$1]++} END {
  h = sum["healthz"] / n["healthz"]
  for (k in sum) printf "%-8s mean %10.0f req/s  %5.1f %% of healthz\n", k, sum[k] / n[k], 100 * sum[k] / n[k] / h
}' "$work/rates" | sort

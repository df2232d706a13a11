#!/usr/bin/env bash
# Idle CPU and start-up of a real `cloche serve`: builds BASE_REF's binary
# (default main) and this tree's, then measures both in alternation with
# bench/procbench (CPU ticks of the idle process from /proc/<pid>/stat over
# IDLE, default 60s; exec to /readyz on a fresh SQLite file, STARTS a
# round), ROUNDS rounds, and prints medians and ratios to the baseline.
#
#   bench/idle.sh
#   IDLE=30s ROUNDS=3 BASE_REF=main bench/idle.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BASE_REF=${BASE_REF:-main}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/base"
git archive "$BASE_REF" | tar -x -C "$work/base"
(cd "$work/base" && go build -o "$work/cloche-base" ./cmd/cloche)
go build -o "$work/cloche-new" ./cmd/cloche
go run ./bench/procbench -bin "$BASE_REF=$work/cloche-base" -bin "new=$work/cloche-new" \
  -idle "${IDLE:-60s}" -rounds "${ROUNDS:-2}" -starts "${STARTS:-5}" ${DATABASE_URL:+-database-url "$DATABASE_URL"}

#!/usr/bin/env bash
# The live fan-out of a real `cloche serve`: builds BASE_REF's binary
# (default main) and this tree's, then runs bench/streams against both in
# alternation: N users (default 10,000) in one group, one stream each over
# HTTP with the user's own token, NOTIFIES notifications to the group per
# run, ROUNDS rounds; it prints subscriptions/s, RSS per open stream, the
# POST's time (the baseline) and the streams' arrival percentiles, with
# ratios to BASE_REF's.
#
#   bench/streams.sh
#   ROUNDS=3 DATABASE_URL=postgres://postgres@127.0.0.1:5432/test bench/streams.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BASE_REF=${BASE_REF:-main}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/base"
git archive "$BASE_REF" | tar -x -C "$work/base"
(cd "$work/base" && go build -o "$work/cloche-base" ./cmd/cloche)
go build -o "$work/cloche-new" ./cmd/cloche
go run ./bench/streams -bin "$BASE_REF=$work/cloche-base" -bin "new=$work/cloche-new" \
  -n "${N:-10000}" -notifies "${NOTIFIES:-3}" -rounds "${ROUNDS:-2}" ${DATABASE_URL:+-database-url "$DATABASE_URL"}

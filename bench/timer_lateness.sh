#!/usr/bin/env bash
# Timer lateness at 1,000 due timers per second among 100,000 open incidents,
# p50/p90/p99/max, fired by the production engine loop, on SQLite and on PostgreSQL.
# Goal: p99 < 250 ms.
#
#   bench/timer_lateness.sh                 # 30,000 timers (30 s) per database
#   TIMERS=10000 bench/timer_lateness.sh    # shorter
#   SKIP_PG=1 bench/timer_lateness.sh       # SQLite only
#   PROFILE=1 bench/timer_lateness.sh       # also time the pieces of an engine pass
#                                           # (bare commit, fire_timer alone and 8 at once)
#
# PostgreSQL: a fresh database is created and dropped with
# `psql -h $PGHOST -U $PGUSER` (defaults 127.0.0.1 and postgres).
set -euo pipefail
cd "$(dirname "$0")/.."

INCIDENTS=${INCIDENTS:-100000}
TIMERS=${TIMERS:-30000}
RATE=${RATE:-1000}
POLL_MS=${POLL_MS:-1000}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
PGDB="triad_bench_timers_$$"
PGDB2="triad_bench_profile_$$"
WORK=$(mktemp -d)
PG_CREATED=0

cleanup() {
    if [ "$PG_CREATED" = 1 ]; then
        psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -qc \
            "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" >/dev/null 2>&1 || true
        psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -qc \
            "DROP DATABASE IF EXISTS $PGDB2 WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "building (release)..."
cargo build --release --quiet -p triad-bench --bin timer_lateness

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -h | awk '/^Mem:/ {print $2}') memory"
if git rev-parse --git-dir >/dev/null 2>&1; then
    changed=$(git status --porcelain -- crates migrations ':!crates/bench' | wc -l)
    echo "code: commit $(git rev-parse --short HEAD), $changed uncommitted change(s) outside crates/bench"
fi
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo

ARGS=(--incidents "$INCIDENTS" --timers "$TIMERS" --rate "$RATE" --poll-ms "$POLL_MS")

echo "== SQLite"
target/release/timer_lateness --database "sqlite://$WORK/triad.db" "${ARGS[@]}"
echo
if [ -n "${PROFILE:-}" ]; then
    echo "== SQLite, profile"
    target/release/timer_lateness --database "sqlite://$WORK/profile.db" --incidents "$INCIDENTS" \
        --profile 3000 --profile-concurrency 8
    echo
fi

if [ -z "${SKIP_PG:-}" ]; then
    echo "== PostgreSQL"
    psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -qc "CREATE DATABASE $PGDB"
    PG_CREATED=1
    target/release/timer_lateness --database "postgres://$PGUSER@$PGHOST:$PGPORT/$PGDB" "${ARGS[@]}"
    if [ -n "${PROFILE:-}" ]; then
        echo
        echo "== PostgreSQL, profile"
        psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -qc "CREATE DATABASE $PGDB2"
        target/release/timer_lateness --database "postgres://$PGUSER@$PGHOST:$PGPORT/$PGDB2" \
            --incidents "$INCIDENTS" --profile 3000 --profile-concurrency 8
    fi
fi

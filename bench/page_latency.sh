#!/usr/bin/env bash
# Creation -> first webhook page, p50/p90/p99/max, through the real `triad serve`
# binary, on SQLite and on PostgreSQL. Goal: p99 < 100 ms.
#
#   bench/page_latency.sh            # 2,000 measured incidents per database
#   N=200 bench/page_latency.sh      # fewer
#   SKIP_PG=1 bench/page_latency.sh  # SQLite only
#
# PostgreSQL: a fresh database is created and dropped with
# `psql -h $PGHOST -U $PGUSER` (defaults 127.0.0.1 and postgres).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-2000}
WARMUP=${WARMUP:-20}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
PGDB="triad_bench_pages_$$"
WORK=$(mktemp -d)
PG_CREATED=0

cleanup() {
    if [ "$PG_CREATED" = 1 ]; then
        psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -qc \
            "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "building (release)..."
cargo build --release --quiet -p triad -p triad-bench --bin triad --bin page_latency

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -h | awk '/^Mem:/ {print $2}') memory"
if git rev-parse --git-dir >/dev/null 2>&1; then
    changed=$(git status --porcelain -- crates migrations ':!crates/bench' | wc -l)
    echo "code: commit $(git rev-parse --short HEAD), $changed uncommitted change(s) outside crates/bench"
fi
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo

echo "== SQLite"
target/release/page_latency --triad target/release/triad \
    --database "sqlite://$WORK/sqlite/triad.db" --work-dir "$WORK/sqlite" \
    --incidents "$N" --warmup "$WARMUP"
echo

if [ -z "${SKIP_PG:-}" ]; then
    echo "== PostgreSQL"
    psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d postgres -qc "CREATE DATABASE $PGDB"
    PG_CREATED=1
    target/release/page_latency --triad target/release/triad \
        --database "postgres://$PGUSER@$PGHOST:$PGPORT/$PGDB" --work-dir "$WORK/postgres" \
        --incidents "$N" --warmup "$WARMUP"
fi

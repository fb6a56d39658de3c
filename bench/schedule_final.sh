#!/usr/bin/env bash
# Final-schedule computation: 1,000 realistic, varied on-call schedules (1–3 layers in
# mixed time zones, daily/weekly/12-hour rotations, follow-the-sun restrictions, a few
# overrides each, some with a second version), each computed over 30 days from
# 2026-03-01T00:00Z, 50 timed runs; prints min/median/p99 of the total per run.
# Goal: < 50 ms for all 1,000 (one thread). Pure computation: no database.
#
#   bench/schedule_final.sh                   # 1,000 schedules, 50 runs
#   RUNS=200 bench/schedule_final.sh          # more runs
#   SCHEDULES=10000 DAYS=90 bench/schedule_final.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEDULES=${SCHEDULES:-1000}
RUNS=${RUNS:-50}
DAYS=${DAYS:-30}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -h | awk '/^Mem:/ {print $2}') memory"
if git rev-parse --git-dir >/dev/null 2>&1; then
    changed=$(git status --porcelain -- crates migrations ':!crates/bench' | wc -l)
    echo "code: commit $(git rev-parse --short HEAD), $changed uncommitted change(s) outside crates/bench"
fi
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo

cargo run --release --quiet -p triad-bench --bin schedule_final -- \
    --schedules "$SCHEDULES" --runs "$RUNS" --days "$DAYS"

#!/usr/bin/env bash
# Alert intake, side by side in one run: Triad's PagerDuty Events v2 endpoint
# (`POST /v2/enqueue`, SQLite, a 202 only after the event is committed) against
# Prometheus Alertmanager's `POST /api/v2/alerts` (alerts kept in memory only).
#
# Goals: Triad's accepted events/s at least Alertmanager's (wrk -t2 -c8, one event per
# request); p99 < 10 ms at 5,000 events/s over 8 connections (open loop); memory per
# open alert under 1 KB.
#
#   bench/intake_vs_alertmanager.sh                 # about 4-5 minutes on 2 cores
#   DURATION=10 RATE_SECS=10 bench/intake_vs_alertmanager.sh
#
# Variables: DURATION (s per wrk run, 20), THREADS (2), CONNECTIONS (8), KEYS (distinct
# dedup keys / label sets, 1000), WARMUP (s of wrk per server first, 5), RATE (5000),
# RATE_SECS (20), RATE_WARMUP (3), MEMORY_ALERTS (20000), AM_BIN
# (/usr/bin/prometheus-alertmanager); EXTRA_RATES="2000 3000" adds fixed-rate runs of
# Triad at those rates (after the 5,000/s one).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-20}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-8}
KEYS=${KEYS:-1000}
WARMUP=${WARMUP:-5}
RATE=${RATE:-5000}
RATE_SECS=${RATE_SECS:-20}
RATE_WARMUP=${RATE_WARMUP:-3}
MEMORY_ALERTS=${MEMORY_ALERTS:-20000}
AM_BIN=${AM_BIN:-/usr/bin/prometheus-alertmanager}
WORK=$(mktemp -d)
TRIAD_PID=""
AM_PID=""
RUN_ID="r$$-$(date +%s)"

# Stops one process we started, by pid: TERM, then KILL after 15 s.
stop() {
    local pid=$1
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 150); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    stop "$TRIAD_PID"
    stop "$AM_PID"
    rm -rf "$WORK"
}
trap cleanup EXIT

# --- prerequisites
missing=()
command -v wrk >/dev/null || missing+=(wrk)
[ -x "$AM_BIN" ] || missing+=(prometheus-alertmanager)
command -v sqlite3 >/dev/null || missing+=(sqlite3)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}..."
    apt-get install -y "${missing[@]}" >/dev/null ||
        { apt-get update >/dev/null && apt-get install -y "${missing[@]}" >/dev/null; }
fi

echo "building (release)..."
cargo build --release --quiet -p triad -p triad-bench --bin triad --bin intake_vs_alertmanager
TRIAD_BIN=target/release/triad
LOAD=target/release/intake_vs_alertmanager

# --- helpers
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
q() { sqlite3 -cmd ".timeout 10000" "$DB_FILE" "$1"; }
alert_events() { q "SELECT COUNT(*) FROM timeline_events WHERE kind = 'alert'"; }
alerts_of_key() {
    q "SELECT COUNT(*) FROM alerts a JOIN integration_keys k ON k.id = a.integration_key_id
       WHERE k.name = '$1'"
}
db_logical() { q "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"; }
db_files() { stat -c %s "$DB_FILE" "$DB_FILE-wal" 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }
am_metrics() { curl -sf "$AM/metrics"; }
am_heap() { am_metrics | awk '$1 == "go_memstats_heap_inuse_bytes" { printf "%.0f", $2 }'; }
am_alerts() { am_metrics | awk '/^alertmanager_alerts\{/ { s += $2 } END { printf "%.0f", s }'; }

# One wrk run: prints wrk's own report, indented; leaves the WRK line in $WRK.
wrk_run() {
    local name=$1 script=$2 url=$3
    shift 3
    env "$@" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$script" "$url" \
        >"$WORK/$name.txt"
    grep -v '^WRK ' "$WORK/$name.txt" | sed 's/^/    /'
    WRK=$(sed -n 's/^WRK //p' "$WORK/$name.txt")
}
# req/s, 2xx, non-2xx, errors and percentiles of the last wrk run, in variables.
wrk_figures() {
    local prefix=$1 r=$WRK
    local req dur non2xx errs
    req=$(field "$r" requests)
    dur=$(field "$r" duration_us)
    non2xx=$(field "$r" non2xx)
    errs=$(($(field "$r" connect) + $(field "$r" read) + $(field "$r" write) + $(field "$r" timeout)))
    printf -v "${prefix}_rps" '%s' "$(awk -v n="$req" -v d="$dur" 'BEGIN { printf "%.0f", n / (d / 1e6) }')"
    printf -v "${prefix}_ok" '%s' "$((req - non2xx))"
    printf -v "${prefix}_non2xx" '%s' "$non2xx"
    printf -v "${prefix}_errors" '%s' "$errs"
    printf -v "${prefix}_timeouts" '%s' "$(field "$r" timeout)"
    printf -v "${prefix}_p50" '%s' "$(ms "$(field "$r" p50_us)")"
    printf -v "${prefix}_p90" '%s' "$(ms "$(field "$r" p90_us)")"
    printf -v "${prefix}_p99" '%s' "$(ms "$(field "$r" p99_us)")"
}
# Durability: events stored by a Triad run against its 2xx answers. A request still in
# flight when wrk stops (at most one per connection) or timed out by wrk may be stored
# without wrk counting its answer; a 2xx without a stored event would be a failure.
durability() {
    local stored=$1 ok=$2 timeouts=$3
    local extra=$((stored - ok))
    if [ "$extra" -ge 0 ] && [ "$extra" -le $((CONNECTIONS + timeouts)) ]; then
        echo "OK: $stored stored for $ok 2xx (+$extra in flight when wrk stopped)"
    else
        echo "FAILED: $stored stored for $ok 2xx"
    fi
}

MODEL=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
echo "machine: $(nproc) cores, $MODEL, $(free -h | awk '/^Mem:/ { print $2 }') memory, Linux $(uname -r | cut -d- -f1)"
if git rev-parse --git-dir >/dev/null 2>&1; then
    changed=$(git status --porcelain -- crates migrations ':!crates/bench' | wc -l)
    echo "code: commit $(git rev-parse --short HEAD), $changed uncommitted change(s) outside crates/bench"
fi
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "wrk: $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2); Alertmanager: $("$AM_BIN" --version 2>&1 | head -1 | cut -d' ' -f3)"
SYNC=$(grep -o 'PRAGMA synchronous = [A-Z]*' crates/store/src/lib.rs | head -1 | cut -d' ' -f4)
echo

# --- Triad: an administrator and a token offline, then `triad serve` on a fresh database.
mkdir -p "$WORK/triad" "$WORK/am"
DB_FILE="$WORK/triad/triad.db"
DB="sqlite://$DB_FILE"
"$TRIAD_BIN" user add --email bench-admin@example.com --name "Bench Admin" --role admin \
    --database "$DB" >/dev/null
TOKEN=$("$TRIAD_BIN" token create --email bench-admin@example.com --name bench --database "$DB" | tail -1)
"$TRIAD_BIN" serve --listen 127.0.0.1:0 --database "$DB" \
    >"$WORK/triad/stdout" 2>"$WORK/triad/server.log" &
TRIAD_PID=$!
for _ in $(seq 600); do
    grep -q '^Triad listening on ' "$WORK/triad/stdout" 2>/dev/null && break
    kill -0 "$TRIAD_PID" 2>/dev/null || { cat "$WORK/triad/server.log"; exit 1; }
    sleep 0.1
done
TRIAD=$(sed -n 's/^Triad listening on //p' "$WORK/triad/stdout")
[ -n "$TRIAD" ] || { echo "triad serve did not start"; exit 1; }
declare -A KEY
while read -r name key; do KEY[$name]=$key; done < <(TRIAD_TOKEN=$TOKEN "$LOAD" setup \
    --base "$TRIAD" --keys rotating,fresh,memory --rate-limit-per-minute 1000000)
echo "Triad: $TRIAD (pid $TRIAD_PID), database $DB_FILE, journal_mode=$(q 'PRAGMA journal_mode'), synchronous=$SYNC"

# --- Alertmanager: one route to a receiver without notifiers (nothing is sent, so
# nothing but ingest uses the machine), Alertmanager's default timings.
cat >"$WORK/am/alertmanager.yml" <<'EOF'
route:
  receiver: blackhole
  group_by: [alertname, job]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: blackhole
EOF
for attempt in 1 2 3; do
    AM_PORT=$("$LOAD" free-port)
    AM="http://127.0.0.1:$AM_PORT"
    "$AM_BIN" --config.file="$WORK/am/alertmanager.yml" --storage.path="$WORK/am/data" \
        --web.listen-address="127.0.0.1:$AM_PORT" --cluster.listen-address= \
        >"$WORK/am/log" 2>&1 &
    AM_PID=$!
    for _ in $(seq 150); do
        curl -sf "$AM/-/ready" >/dev/null 2>&1 && break
        kill -0 "$AM_PID" 2>/dev/null || break
        sleep 0.1
    done
    curl -sf "$AM/-/ready" >/dev/null 2>&1 && break
    stop "$AM_PID"
    AM_PID=""
    [ "$attempt" = 3 ] && { cat "$WORK/am/log"; exit 1; }
done
echo "Alertmanager: $AM (pid $AM_PID), receiver without notifiers, group_by [alertname, job]"
echo

# --- warm-up: opens the KEYS rotating alerts on both (unmeasured)
echo "== warm-up: ${WARMUP} s of wrk on each, $KEYS rotating alerts opened"
(DURATION=$WARMUP wrk_run warm-triad bench/wrk/pd_event.lua "$TRIAD/v2/enqueue" \
    ROUTING_KEY="${KEY[rotating]}" KEYS="$KEYS" RUN="$RUN_ID-w") >/dev/null
(DURATION=$WARMUP wrk_run warm-am bench/wrk/am_alert.lua "$AM/api/v2/alerts" \
    KEYS="$KEYS" RUN="$RUN_ID-w") >/dev/null
echo "Triad: $(alerts_of_key rotating) alerts open; Alertmanager: $(am_alerts) alerts"
echo

# --- memory per open alert
echo "== memory: $MEMORY_ALERTS new alerts on each ($CONNECTIONS connections)"
sleep 2
t_rss0=$(rss_kb "$TRIAD_PID")
t_db0=$(db_logical)
t_files0=$(db_files)
"$LOAD" fill --target triad --base "$TRIAD" --key "${KEY[memory]}" --run "$RUN_ID-m" \
    --connections "$CONNECTIONS" --count "$MEMORY_ALERTS" | sed 's/^/    /'
MEM_T0=$(date +%s)
sleep 3
t_rss1=$(rss_kb "$TRIAD_PID")
t_db1=$(db_logical)
t_files1=$(db_files)
t_opened=$(alerts_of_key memory)
t_mem_per=$(((t_rss1 - t_rss0) * 1024 / MEMORY_ALERTS))
t_db_per=$(((t_db1 - t_db0) / MEMORY_ALERTS))
t_files_per=$(((t_files1 - t_files0) / MEMORY_ALERTS))
echo "Triad: $t_opened new alerts (and incidents) stored; RSS $t_rss0 kB -> $t_rss1 kB: $t_mem_per bytes per alert"
echo "       database $t_db0 -> $t_db1 bytes ($t_db_per per alert); db + wal files $t_files0 -> $t_files1 ($t_files_per per alert)"
a_rss0=$(rss_kb "$AM_PID")
a_heap0=$(am_heap)
a_n0=$(am_alerts)
"$LOAD" fill --target alertmanager --base "$AM" --run "$RUN_ID-m" \
    --connections "$CONNECTIONS" --count "$MEMORY_ALERTS" | sed 's/^/    /'
sleep 3
a_rss1=$(rss_kb "$AM_PID")
a_heap1=$(am_heap)
a_n1=$(am_alerts)
a_mem_per=$(((a_rss1 - a_rss0) * 1024 / MEMORY_ALERTS))
a_heap_per=$(((a_heap1 - a_heap0) / MEMORY_ALERTS))
echo "Alertmanager: alerts $a_n0 -> $a_n1; RSS $a_rss0 kB -> $a_rss1 kB: $a_mem_per bytes per alert; heap in use $a_heap0 -> $a_heap1 ($a_heap_per per alert)"
echo

# --- throughput, side by side
echo "== throughput: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency, one event per request"
echo "-- Triad, $KEYS rotating dedup keys (all already open: repeats, as in an alert storm)"
before=$(alert_events)
wrk_run triad-rot bench/wrk/pd_event.lua "$TRIAD/v2/enqueue" \
    ROUTING_KEY="${KEY[rotating]}" KEYS="$KEYS" RUN="$RUN_ID-r"
wrk_figures TR
sleep 1
TR_dur=$(durability $(($(alert_events) - before)) "$TR_ok" "$TR_timeouts")
echo "    durability: $TR_dur"
echo "-- Alertmanager, $KEYS rotating label sets"
wrk_run am-rot bench/wrk/am_alert.lua "$AM/api/v2/alerts" KEYS="$KEYS" RUN="$RUN_ID-r"
wrk_figures AR
echo "-- Triad, a fresh dedup key per request (every event opens an alert and an incident)"
before=$(alert_events)
fresh_before=$(alerts_of_key fresh)
wrk_run triad-fresh bench/wrk/pd_event.lua "$TRIAD/v2/enqueue" \
    ROUTING_KEY="${KEY[fresh]}" KEYS=0 RUN="$RUN_ID-f"
wrk_figures TF
sleep 1
TF_dur=$(durability $(($(alert_events) - before)) "$TF_ok" "$TF_timeouts")
TF_opened=$(($(alerts_of_key fresh) - fresh_before))
echo "    durability: $TF_dur; $TF_opened new alerts"
echo "-- Alertmanager, fresh labels per request"
wrk_run am-fresh bench/wrk/am_alert.lua "$AM/api/v2/alerts" KEYS=0 RUN="$RUN_ID-f"
wrk_figures AF
echo

# --- latency at a fixed rate
echo "== fixed rate: $RATE events/s for $RATE_SECS s over $CONNECTIONS connections, open loop"
echo "-- Triad ($KEYS rotating dedup keys)"
"$LOAD" rate --target triad --base "$TRIAD" --key "${KEY[rotating]}" --rate "$RATE" \
    --duration "$RATE_SECS" --warmup "$RATE_WARMUP" --connections "$CONNECTIONS" --keys "$KEYS" \
    | tee "$WORK/rate-triad.txt" | grep -v '^RATE ' | sed 's/^/    /'
RT=$(sed -n 's/^RATE //p' "$WORK/rate-triad.txt")
echo "-- Alertmanager ($KEYS rotating label sets)"
"$LOAD" rate --target alertmanager --base "$AM" --rate "$RATE" \
    --duration "$RATE_SECS" --warmup "$RATE_WARMUP" --connections "$CONNECTIONS" --keys "$KEYS" \
    | tee "$WORK/rate-am.txt" | grep -v '^RATE ' | sed 's/^/    /'
RA=$(sed -n 's/^RATE //p' "$WORK/rate-am.txt")
for r in ${EXTRA_RATES:-}; do
    echo "-- Triad at $r events/s"
    "$LOAD" rate --target triad --base "$TRIAD" --key "${KEY[rotating]}" --rate "$r" \
        --duration "$RATE_SECS" --warmup "$RATE_WARMUP" --connections "$CONNECTIONS" \
        --keys "$KEYS" | grep -E '^(measured|from|goal)' | sed 's/^/    /'
done
echo

overdue=$(q "SELECT COUNT(*) FROM timeline_events WHERE kind = 'ack_overdue'")
errors=$(grep -c 'ERROR' "$WORK/triad/server.log" || true)
echo "checks: $overdue ack deadlines fired during the run ($(($(date +%s) - MEM_T0)) s after the memory phase; SEV1 deadlines are 5 min), $errors ERROR lines in Triad's log"
echo

# --- summary
ratio=$(awk -v t="$TR_rps" -v a="$AR_rps" 'BEGIN { printf "%.2f", t / a }')
ratio_f=$(awk -v t="$TF_rps" -v a="$AF_rps" 'BEGIN { printf "%.2f", t / a }')
goal1=$(awk -v r="$ratio" 'BEGIN { print (r >= 1 ? "PASS" : "MISS") }')
rt_ach=$(field "$RT" achieved)
rt_p99=$(field "$RT" p99_ms)
goal2=$(awk -v a="$rt_ach" -v p="$rt_p99" -v r="$RATE" \
    'BEGIN { print (a >= 0.99 * r && p < 10 ? "PASS" : "MISS") }')
goal3=$([ "$t_mem_per" -lt 1024 ] && echo PASS || echo MISS)
echo "== summary (SQLite journal_mode=WAL, synchronous=$SYNC for the API; the intake writer's commits are fdatasynced before their 202: a 202 is a committed transaction on disk)"
printf '%-52s %9s %8s %8s %8s %8s\n' "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s" "req/s" "p50 ms" "p90 ms" "p99 ms" "non-2xx"
printf '%-52s %9s %8s %8s %8s %8s\n' "Triad /v2/enqueue, $KEYS rotating dedup keys" "$TR_rps" "$TR_p50" "$TR_p90" "$TR_p99" "$TR_non2xx"
printf '%-52s %9s %8s %8s %8s %8s\n' "Alertmanager /api/v2/alerts, $KEYS label sets" "$AR_rps" "$AR_p50" "$AR_p90" "$AR_p99" "$AR_non2xx"
printf '%-52s %9s %8s %8s %8s %8s\n' "Triad, fresh dedup key each (opens an incident)" "$TF_rps" "$TF_p50" "$TF_p90" "$TF_p99" "$TF_non2xx"
printf '%-52s %9s %8s %8s %8s %8s\n' "Alertmanager, fresh labels each" "$AF_rps" "$AF_p50" "$AF_p90" "$AF_p99" "$AF_non2xx"
echo "socket errors: Triad $TR_errors / $TF_errors, Alertmanager $AR_errors / $AF_errors"
echo "durability: rotating $TR_dur; fresh $TF_dur"
echo "ratio Triad/Alertmanager: $ratio (rotating keys), $ratio_f (fresh keys); goal >= 1: $goal1"
printf 'fixed rate %s/s, %s connections, from intended send: Triad achieved %s/s p50 %s p90 %s p99 %s max %s ms; goal p99 < 10 ms: %s\n' \
    "$RATE" "$CONNECTIONS" "$rt_ach" "$(field "$RT" p50_ms)" "$(field "$RT" p90_ms)" "$rt_p99" "$(field "$RT" max_ms)" "$goal2"
printf '%*s Alertmanager achieved %s/s p50 %s p90 %s p99 %s max %s ms\n' 49 '' \
    "$(field "$RA" achieved)" "$(field "$RA" p50_ms)" "$(field "$RA" p90_ms)" "$(field "$RA" p99_ms)" "$(field "$RA" max_ms)"
echo "memory per open alert (RSS, $MEMORY_ALERTS new): Triad $t_mem_per bytes (goal < 1024: $goal3), Alertmanager $a_mem_per bytes (heap $a_heap_per)"
echo "Triad's database per alert (alert + incident + timeline + timer rows, on disk): $t_db_per bytes"

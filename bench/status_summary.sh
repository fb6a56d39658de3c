#!/usr/bin/env bash
# The public status page under load: `GET /status/api/v2/summary.json` with wrk, 64
# connections, during an active public incident (a page with 12 components in 3 groups,
# one open incident with business impact and 3 public updates, 5 resolved incidents,
# 2 maintenances), on the default SQLite database.
#
# Goal: at least 20,000 requests/s and p99 < 10 ms on a 2-core machine.
#
#   bench/status_summary.sh                     # about 1 minute after the build
#   DURATION=10 CONNECTIONS=64 THREADS=2 bench/status_summary.sh
#
# Variables: DURATION (s of the measured run, 20), WARMUP (s, 5), THREADS (wrk threads,
# 2), CONNECTIONS (64).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-20}
WARMUP=${WARMUP:-5}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
WORK=$(mktemp -d)
TRIAD_PID=""

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
    rm -rf "$WORK"
}
trap cleanup EXIT

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}..."
    apt-get install -y "${missing[@]}" >/dev/null ||
        { apt-get update >/dev/null && apt-get install -y "${missing[@]}" >/dev/null; }
fi

echo "building (release)..."
cargo build --release --quiet -p triad --bin triad
TRIAD_BIN=target/release/triad

DB="sqlite://$WORK/triad.db"
"$TRIAD_BIN" user add --email bench-admin@example.com --name "Bench Admin" --role admin \
    --database "$DB" >/dev/null
TOKEN=$("$TRIAD_BIN" token create --email bench-admin@example.com --name bench --database "$DB" | tail -1)
"$TRIAD_BIN" serve --listen 127.0.0.1:0 --database "$DB" >"$WORK/stdout" 2>"$WORK/server.log" &
TRIAD_PID=$!
for _ in $(seq 600); do
    grep -q '^Triad listening on ' "$WORK/stdout" 2>/dev/null && break
    kill -0 "$TRIAD_PID" 2>/dev/null || { cat "$WORK/server.log"; exit 1; }
    sleep 0.1
done
TRIAD=$(sed -n 's/^Triad listening on //p' "$WORK/stdout")
[ -n "$TRIAD" ] || { echo "triad serve did not start"; exit 1; }

# Sends one API call; fails loudly on an error status. Prints the response body.
api() {
    local method=$1 path=$2 body=${3:-}
    local out status
    out=$(curl -sS -X "$method" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        ${body:+--data "$body"} -w '\n%{http_code}' "$TRIAD/api/v1$path")
    status=${out##*$'\n'}
    case $status in 2*) ;; *) echo "$method $path: HTTP $status: ${out%$'\n'*}" >&2; exit 1 ;; esac
    printf '%s' "${out%$'\n'*}"
}
id_of() { sed -n 's/.*"id":"\([^"]*\)".*/\1/p' | head -1; }
number_of() { sed -n 's/.*"number":\([0-9]*\).*/\1/p' | head -1; }

api PUT /status-page '{"name":"Bench Status","url":"https://status.bench.test","time_zone":"Europe/Berlin"}' >/dev/null
for g in 1 2 3; do
    gid=$(api POST /status-page/components "{\"name\":\"Group $g\",\"group\":true}" | id_of)
    for m in 1 2 3; do
        n=$(( (g - 1) * 3 + m ))
        api POST /services "{\"name\":\"svc-$n\"}" >/dev/null
        api POST /business-services "{\"name\":\"Biz $n\",\"tier\":$(( (n % 4) + 1 )),\"services\":[\"svc-$n\"]}" >/dev/null
        api POST /status-page/components \
            "{\"name\":\"Component $n\",\"group_id\":\"$gid\",\"business_service\":\"Biz $n\",\"description\":\"Part $n of the product\"}" >/dev/null
    done
done
for r in 1 2 3 4 5; do
    num=$(api POST /incidents "{\"title\":\"old $r\",\"severity\":\"SEV3\",\"service\":\"svc-$r\"}" | number_of)
    api POST "/incidents/$num/updates" "{\"audience\":\"public\",\"state\":\"investigating\",\"message\":\"Looking into slowness ($r).\",\"public_title\":\"Slowness $r\"}" >/dev/null
    api POST "/incidents/$num/updates" '{"audience":"public","state":"resolved","message":"Resolved."}' >/dev/null
done
num=$(api POST /incidents '{"title":"db primary disk full","severity":"SEV2","service":"svc-1"}' | number_of)
api PUT "/incidents/$num/impact" '{"business_services":[{"id":"Biz 1","impact":"partial_outage","customers_affected":1200},{"id":"Biz 2","impact":"degraded"}]}' >/dev/null
for state in investigating identified monitoring; do
    api POST "/incidents/$num/updates" "{\"audience\":\"public\",\"state\":\"$state\",\"message\":\"Payments are failing for some customers ($state).\",\"public_title\":\"Payment failures\"}" >/dev/null
done
now=$(date -u +%s)
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
api POST /status-page/maintenances "{\"name\":\"Network work\",\"body\":\"Brief interruptions.\",\"scheduled_for\":\"$(iso $((now + 86400)))\",\"scheduled_until\":\"$(iso $((now + 90000)))\"}" >/dev/null
api POST /status-page/maintenances "{\"name\":\"Reindex\",\"body\":\"Search may be stale.\",\"scheduled_for\":\"$(iso $((now - 60)))\",\"scheduled_until\":\"$(iso $((now + 7200)))\"}" >/dev/null

URL="$TRIAD/status/api/v2/summary.json"
BYTES=$(curl -sS "$URL" | wc -c)
INDICATOR=$(curl -sS "$URL" | sed -n 's/.*"indicator":"\([a-z]*\)".*/\1/p')
echo "Triad $TRIAD (pid $TRIAD_PID); summary.json is $BYTES bytes, indicator $INDICATOR"
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"

wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "$URL" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$URL" | tee "$WORK/wrk.txt" | sed 's/^/    /'

RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$WORK/wrk.txt")
P99=$(awk '$1 == "99%" { print $2 }' "$WORK/wrk.txt")
ERRORS=$(awk '/Non-2xx or 3xx responses:/ { print $5 }' "$WORK/wrk.txt")
# wrk prints latencies with a unit (us, ms, s): normalise to ms.
P99_MS=$(awk -v v="$P99" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }')
ok_rps=$(awk -v r="$RPS" 'BEGIN { print (r >= 20000) ? "met" : "missed" }')
ok_p99=$(awk -v p="$P99_MS" 'BEGIN { print (p < 10) ? "met" : "missed" }')
echo
echo "RESULT summary.json: ${RPS} requests/s (goal >= 20000: $ok_rps), p99 ${P99_MS} ms (goal < 10: $ok_p99), non-2xx ${ERRORS:-0}, wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s"

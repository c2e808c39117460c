#!/usr/bin/env bash
# Gatehouse vs nginx, same work on the same box: API-key check + rate limiter + keepalive
# proxy (/plain), a per-key cache hit (/cached), and the same auth+limit+proxy of a 1 MB
# answer (/big, streamed through Gatehouse). See bench/README.md.
#
# Env: BENCH_SECS (6 per run), BENCH_ROUNDS (3 alternating rounds), BENCH_WARMUP_SECS (2),
# BENCH_CONNS (32), BENCH_PIN (1: gateway on its own core; 0: no pinning, 2 workers each),
# BENCH_KEEP (1 keeps the temp dir),
# CARGO_TARGET_DIR (~/.cache/gatehouse/target-release), BENCH_PROFILE (dir: perf-record Gatehouse),
# BENCH_FLOOR (1: also measure the proxy floor, Gatehouse's server and upstream client with no
# pipeline between them: native/examples/bare_proxy.rs; 0: skip it), BENCH_INSTRUCTIONS (1: also count
# instructions per request under callgrind, installing valgrind if missing), BENCH_CONTROL (1: also
# measure nginx a second time in each round, nginx2: how far two runs of one gateway differ).
# Exit 0 even when a target is missed; non-zero on any setup error.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECS=${BENCH_SECS:-6}
ROUNDS=${BENCH_ROUNDS:-3}
WARMUP=${BENCH_WARMUP_SECS:-2}
CONNS=${BENCH_CONNS:-32}
# BENCH_PROFILE=DIR: perf-record Gatehouse during each measured run into DIR/perf-<case>.data.
PROFILE=${BENCH_PROFILE:-}
PIN=${BENCH_PIN:-1}
FLOOR=${BENCH_FLOOR:-1}
CONTROL=${BENCH_CONTROL:-0}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/gatehouse/target-release}

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- tools
need_apt=()
command -v nginx >/dev/null || need_apt+=(nginx)
command -v wrk >/dev/null || need_apt+=(wrk)
[[ -z $PROFILE ]] || command -v perf >/dev/null || need_apt+=(linux-perf)
[[ -z $PROFILE ]] || mkdir -p "$PROFILE"
command -v jq >/dev/null || need_apt+=(jq)
command -v curl >/dev/null || need_apt+=(curl)
command -v taskset >/dev/null || need_apt+=(util-linux)
if ((${#need_apt[@]})); then
    say "installing ${need_apt[*]}"
    SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $NGINX ]] || die "nginx not found after install"

say "building gatehouse (profile dist, CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
(cd "$ROOT" && cargo build --profile dist -q -p gatehouse --bin gatehouse --example bare_proxy) || die "cargo build failed"
GATEHOUSE=$CARGO_TARGET_DIR/dist/gatehouse
BARE_PROXY=$CARGO_TARGET_DIR/dist/examples/bare_proxy
[[ -x $GATEHOUSE && -x $BARE_PROXY ]] || die "no binaries at $GATEHOUSE and $BARE_PROXY"

# ---------------------------------------------------------------- processes and cleanup
TMP=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-bench.XXXXXX")
chmod 755 "$TMP"
PIDS=()
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then say "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# CPU placement. Pinned (default): the gateway under test gets core 1 to itself (nginx one
# worker, Gatehouse one tokio worker); wrk and the upstream share core 0. Unpinned: both
# gateways get 2 workers (one per core) and everything competes.
NCPU=$(nproc)
if [[ $PIN == 1 && $NCPU -ge 2 ]]; then
    GW_CPUS=1; LOAD_CPUS=0; GW_WORKERS=1
    ON_GW=(taskset -c "$GW_CPUS"); ON_LOAD=(taskset -c "$LOAD_CPUS")
else
    PIN=0; GW_WORKERS=$NCPU; ON_GW=(); ON_LOAD=()
fi

# Listening ports come from below the kernel's ephemeral range: a port inside it may still be
# the local end of a client connection in TIME_WAIT (wrk's, from a run a minute earlier), and a
# listener cannot bind over that one (a run failed so on 2026-11-25). No port is handed out twice.
read -r EPHEMERAL_LOW _ </proc/sys/net/ipv4/ip_local_port_range
PORT_SPAN=$((EPHEMERAL_LOW - 10000))
((PORT_SPAN >= 1000)) || PORT_SPAN=30000 # an unusual range: take the old chance of a clash
GIVEN=" "
free_port() { # variable-name → sets it to a port nothing listens on
    local p
    for _ in $(seq 200); do
        p=$((10000 + (RANDOM * 32768 + RANDOM) % PORT_SPAN))
        [[ $GIVEN == *" $p "* ]] && continue
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            GIVEN+="$p "
            printf -v "$1" '%s' "$p"
            return
        fi
    done
    die "no free port"
}
for port in UP_PORT NGX_PORT GH_PORT ADMIN_PORT FLOOR_PORT DEMO_PORT; do free_port "$port"; done

wait_port() { # port what [pid [log]]: fails early, with the log's tail, if pid exits first
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        if [[ -n ${3:-} ]] && ! kill -0 "$3" 2>/dev/null; then
            [[ -z ${4:-} ]] || tail -n 20 "$4" >&2
            die "$2 exited before listening on 127.0.0.1:$1"
        fi
        sleep 0.1
    done
    [[ -z ${4:-} ]] || tail -n 20 "$4" >&2
    die "$2 did not listen on 127.0.0.1:$1 (see logs in $TMP; BENCH_KEEP=1 keeps them)"
}

# Settings shared by both nginx instances: everything under $TMP, nothing system-wide.
nginx_common() { # name
    cat <<EOF
user $(id -un);
pid $TMP/$1.pid;
error_log $TMP/$1-error.log warn;
events { worker_connections 4096; multi_accept on; }
EOF
}
nginx_http_common() {
    cat <<EOF
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    client_body_temp_path $TMP/ngx-body;
    proxy_temp_path $TMP/ngx-proxy;
    fastcgi_temp_path $TMP/ngx-fastcgi;
    uwsgi_temp_path $TMP/ngx-uwsgi;
    scgi_temp_path $TMP/ngx-scgi;
EOF
}
start_nginx() { # name conf on-gateway-core(1|0)
    local name=$1 conf=$2 place=("${ON_LOAD[@]}")
    [[ $3 == 1 ]] && place=("${ON_GW[@]}")
    "$NGINX" -t -q -p "$TMP" -e "$TMP/$name-error.log" -c "$conf" || die "$name nginx config invalid: $conf"
    "${place[@]}" "$NGINX" -p "$TMP" -e "$TMP/$name-error.log" -c "$conf" -g 'daemon off;' \
        >"$TMP/$name.out" 2>&1 &
    PIDS+=($!)
}

# ---------------------------------------------------------------- upstream
PLAIN_BODY='{"case":"plain","ok":true,"items":[1,2,3]}'
CACHED_BODY='{"case":"cached","ok":true,"items":[4,5,6]}'
# The 1 MB answer (1,048,576 bytes), served from a file by the upstream nginx.
mkdir -p "$TMP/www"
head -c 1048576 /dev/zero | tr '\0' 'b' >"$TMP/www/big.bin"
cat >"$TMP/upstream.conf" <<EOF
worker_processes 1;
$(nginx_common upstream)
http {
$(nginx_http_common)
    server {
        listen 127.0.0.1:$UP_PORT reuseport;
        default_type application/json;
        # /plain/ too: Gatehouse forwards an API's base path as the upstream URL and a slash.
        location ~ ^/plain/?\$  { add_header Cache-Control "no-store" always; return 200 '$PLAIN_BODY'; }
        location ~ ^/cached/?\$ { add_header Cache-Control "public, max-age=300" always; return 200 '$CACHED_BODY'; }
        location ~ ^/big/?\$ {
            root $TMP/www;
            default_type application/octet-stream;
            add_header Cache-Control "no-store" always;
            try_files /big.bin =404;
        }
        location / { return 404; }
    }
}
EOF
say "upstream nginx on 127.0.0.1:$UP_PORT"
start_nginx upstream "$TMP/upstream.conf" 0
wait_port "$UP_PORT" "upstream nginx"

# ---------------------------------------------------------------- Gatehouse
say "gatehouse on 127.0.0.1:$GH_PORT (admin $ADMIN_PORT), tokio workers: $GW_WORKERS"
mkdir -p "$TMP/gh-data"
RUST_LOG=${RUST_LOG:-warn} TOKIO_WORKER_THREADS=$GW_WORKERS GATEHOUSE_GATEWAY_THREADS=$GW_WORKERS "${ON_GW[@]}" "$GATEHOUSE" dev --data-dir "$TMP/gh-data" \
    --gateway-addr "127.0.0.1:$GH_PORT" --admin-addr "127.0.0.1:$ADMIN_PORT" \
    --demo-upstream-addr "127.0.0.1:$DEMO_PORT" --no-demo --usage-flush-secs 10 --cache-mib 64 \
    >"$TMP/gatehouse.log" 2>&1 &
GH_PID=$!
PIDS+=("$GH_PID")
wait_port "$ADMIN_PORT" "gatehouse admin API" "$GH_PID" "$TMP/gatehouse.log"
wait_port "$GH_PORT" "gatehouse gateway" "$GH_PID" "$TMP/gatehouse.log"
for _ in $(seq 50); do [[ -s $TMP/gh-data/admin-token ]] && break; sleep 0.1; done
TOKEN=$(cat "$TMP/gh-data/admin-token") || die "no admin token in $TMP/gh-data"

admin() { # method path json → response body; fails on non-2xx
    local out status
    out=$(curl -sS -X "$1" -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
        --data "$3" -w '\n%{http_code}' "http://127.0.0.1:$ADMIN_PORT$2") || die "admin $1 $2: curl failed"
    status=${out##*$'\n'}
    out=${out%$'\n'*}
    [[ $status == 2?? ]] || die "admin $1 $2 → $status: $out"
    printf '%s' "$out"
}
field() { jq -er "$1" <<<"$2" || die "no $1 in: $2"; }

# Two APIs, so each path gets what nginx's location for it does: `/bench/plain` proxies with no
# cache (nginx has no `proxy_cache` there), `/bench/cached` caches. Each API's base path is its
# one route, forwarded as the upstream URL itself.
api_for() { # base-path upstream-url cache-enabled → API id, published
    local doc id
    doc='openapi: 3.0.3
info: { title: Bench, version: 1.0.0 }
paths:
  /:
    get: { operationId: get, responses: { "200": { description: ok } } }
'
    id=$(field .id "$(admin POST /v1/apis "$(jq -n --arg doc "$doc" --arg base "$1" --arg up "$2" --argjson cache "$3" \
        '{openapi: $doc, base_path: $base, upstream: {url: $up}, cache: {enabled: $cache}}')")")
    admin POST "/v1/apis/$id/lifecycle" '{"action":"publish"}' >/dev/null
    printf '%s' "$id"
}
PLAIN_API=$(api_for /bench/plain "http://127.0.0.1:$UP_PORT/plain" false)
CACHED_API=$(api_for /bench/cached "http://127.0.0.1:$UP_PORT/cached" true)
BIG_API=$(api_for /bench/big "http://127.0.0.1:$UP_PORT/big" false)
PRODUCT_ID=$(field .id "$(admin POST /v1/products "$(jq -n --arg a "$PLAIN_API" --arg b "$CACHED_API" --arg c "$BIG_API" \
    '{name: "bench", items: [{api_id: $a}, {api_id: $b}, {api_id: $c}]}')")")
PLAN_ID=$(field .id "$(admin POST /v1/plans "$(jq -n --arg p "$PRODUCT_ID" '{name: "bench", product_id: $p,
    limits: [{name: "burst", scope: "app", type: "rate", limit: 1000000, period_secs: 1, burst: 1000000}]}')")")
DEV_ID=$(field .id "$(admin POST /v1/developers '{"email":"bench@example.com","name":"Bench"}')")
APP_ID=$(field .id "$(admin POST /v1/apps "$(jq -n --arg d "$DEV_ID" '{developer_id: $d, name: "bench"}')")")
admin POST "/v1/apps/$APP_ID/subscriptions" "$(jq -n --arg p "$PRODUCT_ID" --arg l "$PLAN_ID" \
    '{product_id: $p, plan_id: $l}')" >/dev/null
KEY=$(field .secret "$(admin POST "/v1/apps/$APP_ID/keys" '{"name":"bench"}')")
[[ $KEY =~ ^[A-Za-z0-9_]+$ ]] || die "unexpected key shape"

# ---------------------------------------------------------------- nginx as the peer gateway
mkdir -p "$TMP/ngx-cache"
cat >"$TMP/gateway.conf" <<EOF
worker_processes $GW_WORKERS;
$(nginx_common gateway)
http {
$(nginx_http_common)
    map_hash_bucket_size 128;
    map \$http_x_api_key \$key_ok { "$KEY" 1; default 0; }
    limit_req_zone \$http_x_api_key zone=perkey:10m rate=1000000r/s;
    upstream backend { server 127.0.0.1:$UP_PORT; keepalive 64; }
    proxy_cache_path $TMP/ngx-cache levels=1:2 keys_zone=bench:10m max_size=64m inactive=10m use_temp_path=off;
    server {
        listen 127.0.0.1:$NGX_PORT reuseport;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header X-API-Key "";
        location = /bench/plain {
            if (\$key_ok = 0) { return 401; }
            limit_req zone=perkey burst=1000000 nodelay;
            proxy_pass http://backend/plain;
        }
        location = /bench/cached {
            if (\$key_ok = 0) { return 401; }
            limit_req zone=perkey burst=1000000 nodelay;
            proxy_cache bench;
            proxy_cache_key "\$request_method|\$request_uri|\$http_x_api_key";
            proxy_cache_valid 200 5m;
            add_header X-Cache-Status \$upstream_cache_status always;
            proxy_pass http://backend/cached;
        }
        location = /bench/big {
            if (\$key_ok = 0) { return 401; }
            limit_req zone=perkey burst=1000000 nodelay;
            proxy_pass http://backend/big;
        }
        location / { return 404; }
    }
}
EOF
say "nginx gateway on 127.0.0.1:$NGX_PORT, worker_processes $GW_WORKERS"
start_nginx gateway "$TMP/gateway.conf" 1
NGX_PID=${PIDS[-1]}
wait_port "$NGX_PORT" "nginx gateway"
[[ $(cat "/proc/$NGX_PID/comm" 2>/dev/null) == nginx ]] || die "nginx gateway pid $NGX_PID is not nginx"

if [[ $FLOOR == 1 ]]; then
    say "proxy floor (bare_proxy: Gatehouse's server and upstream client, no pipeline) on 127.0.0.1:$FLOOR_PORT"
    "${ON_GW[@]}" "$BARE_PROXY" "127.0.0.1:$FLOOR_PORT" "http://127.0.0.1:$UP_PORT" >"$TMP/bare-proxy.log" 2>&1 &
    FLOOR_PID=$!
    PIDS+=("$FLOOR_PID")
    wait_port "$FLOOR_PORT" "bare proxy" "$FLOOR_PID" "$TMP/bare-proxy.log"
fi

# ---------------------------------------------------------------- same work, checked first
check() { # name url expected-status expected-body header-regex-or-empty [key]
    local name=$1 url=$2 want=$3 body=$4 hdr=$5 key=${6:-} out status
    local args=(-sS -D "$TMP/headers" -o "$TMP/body" -w '%{http_code}')
    [[ -n $key ]] && args+=(-H "X-API-Key: $key")
    status=$(curl "${args[@]}" "$url") || die "$name: curl failed"
    [[ $status == "$want" ]] || die "$name: expected $want, got $status: $(head -c 300 "$TMP/body")"
    [[ -z $body || $(cat "$TMP/body") == "$body" ]] || die "$name: body differs: $(head -c 300 "$TMP/body")"
    [[ -z $hdr ]] || grep -Eiq "$hdr" "$TMP/headers" || die "$name: no header matching /$hdr/: $(cat "$TMP/headers")"
    say "ok: $name → $status${hdr:+ (${hdr})}"
}
GH=http://127.0.0.1:$GH_PORT; NG=http://127.0.0.1:$NGX_PORT
for gw in GH NG; do
    base=${!gw}
    check "$gw plain" "$base/bench/plain" 200 "$PLAIN_BODY" "" "$KEY"
    check "$gw plain without key" "$base/bench/plain" 401 "" ""
    check "$gw cached without key" "$base/bench/cached" 401 "" ""
    check "$gw cached (fill)" "$base/bench/cached" 200 "$CACHED_BODY" "" "$KEY"
done
check "GH cached hit" "$GH/bench/cached" 200 "$CACHED_BODY" '^cache-status: *gatehouse; *hit' "$KEY"
check "NG cached hit" "$NG/bench/cached" 200 "$CACHED_BODY" '^x-cache-status: *hit' "$KEY"
for gw in GH NG; do
    check "$gw big" "${!gw}/bench/big" 200 "" "" "$KEY"
    [[ $(stat -c %s "$TMP/body") == 1048576 ]] || die "$gw big: $(stat -c %s "$TMP/body") bytes, not 1048576"
done
FLOOR_URL=http://127.0.0.1:$FLOOR_PORT/plain
[[ $FLOOR != 1 ]] || check "floor plain" "$FLOOR_URL" 200 "$PLAIN_BODY" "" "$KEY"

# ---------------------------------------------------------------- load
TICKS=$(getconf CLK_TCK)
cpu_ticks() { # pid → utime+stime of it and its children (nginx workers)
    local total=0 p f
    for p in "$1" $(ps -o pid= --ppid "$1" 2>/dev/null); do
        f=$(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null) || continue
        total=$((total + ${f% *} + ${f#* }))
    done
    echo "$total"
}
to_ms() { # wrk duration (e.g. 812.00us, 1.20ms, 1.01s) → ms
    awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n *= 1; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}
WRK_ARGS=(-t1 -c"$CONNS" --latency -H "X-API-Key: $KEY")
declare -A RPS P99 CPU ERR
measure() { # case gw url pid round
    local c=$1 gw=$2 url=$3 pid=$4 r=$5 k="$1,$2,$5" out before after
    "${ON_LOAD[@]}" wrk -t1 -c"$CONNS" -d"${WARMUP}s" -H "X-API-Key: $KEY" "$url" >/dev/null
    before=$(cpu_ticks "$pid")
    local perf_pid=""
    if [[ -n $PROFILE && $gw == gatehouse && $r == 1 ]]; then
        perf record -q -F 2999 -p "$pid" -o "$PROFILE/perf-$c.data" -- sleep "$SECS" 2>/dev/null &
        perf_pid=$!
    fi
    out=$("${ON_LOAD[@]}" wrk "${WRK_ARGS[@]}" -d"${SECS}s" "$url")
    after=$(cpu_ticks "$pid")
    [[ -z $perf_pid ]] || wait "$perf_pid" || true
    printf '%s\n' "$out" >"$TMP/wrk-$c-$gw-$r.txt"
    RPS[$k]=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
    P99[$k]=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
    CPU[$k]=$(awk -v d=$((after - before)) -v t="$TICKS" -v s="$SECS" 'BEGIN { printf "%.0f", 100 * d / t / s }')
    ERR[$k]=$(awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' <<<"$out")
    [[ -n ${RPS[$k]} ]] || die "could not parse wrk output: $out"
    say "round $r, $c/$gw: ${RPS[$k]} req/s, p99 ${P99[$k]} ms, gateway CPU ${CPU[$k]}%, errors ${ERR[$k]}"
}

if [[ $PIN == 1 ]]; then
    PLACEMENT="pinned: gateway on CPU $GW_CPUS (nginx worker_processes 1, Gatehouse 1 gateway thread); wrk + upstream on CPU $LOAD_CPUS"
else
    PLACEMENT="unpinned: nginx worker_processes $GW_WORKERS, Gatehouse $GW_WORKERS gateway threads; wrk and upstream share all cores"
fi
say "$PLACEMENT"
say "$ROUNDS rounds of wrk -t1 -c$CONNS --latency -d${SECS}s, each after ${WARMUP}s warm-up; upstream nginx worker_processes 1"
# Rounds alternate the gateways, so each ratio compares runs a few seconds apart: the machine's
# drift over minutes is larger than the differences measured.
for r in $(seq "$ROUNDS"); do
    for c in plain cached big; do
        measure "$c" nginx "$NG/bench/$c" "$NGX_PID" "$r"
        measure "$c" gatehouse "$GH/bench/$c" "$GH_PID" "$r"
    done
    [[ $FLOOR != 1 ]] || measure plain floor "$FLOOR_URL" "$FLOOR_PID" "$r"
    [[ $CONTROL != 1 ]] || measure plain nginx2 "$NG/bench/plain" "$NGX_PID" "$r"
done

# ---------------------------------------------------------------- report
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
over_rounds() { # array case gw → that figure of every round, one per line
    local -n figures=$1
    local r
    for r in $(seq "$ROUNDS"); do echo "${figures[$2,$3,$r]}"; done
}
ratios() { # array case gw → gw/nginx of every round, one per line
    local -n figures=$1
    local r
    for r in $(seq "$ROUNDS"); do
        awk -v a="${figures[$2,$3,$r]}" -v b="${figures[$2,nginx,$r]}" 'BEGIN { printf "%.4f\n", (b > 0 ? a / b : 99) }'
    done
}
# Every ratio is printed through awk: bash's printf rounds a half differently, so a median
# would read otherwise in the table than among its rounds.
two_places() { awk -v v="$1" 'BEGIN { printf "%.2f", v }'; }
label() { case $1 in plain) echo "auth+limit+proxy" ;; big) echo "1 MB proxied" ;; *) echo "cache hit" ;; esac; }
# Requests per second of gateway CPU: the fair figure when the load generator, not the gateway, is the limit.
per_cpu() { awk -v r="$1" -v c="$2" 'BEGIN { if (c > 0) printf "%.0f", r / (c / 100); else print "-" }'; }
printf '\nGatehouse vs nginx %s — %s, %s cores, %s\n' "$("$NGINX" -v 2>&1 | sed 's/.*: //')" "$(date -u +%Y-%m-%dT%H:%MZ)" "$NCPU" "$PLACEMENT"
printf 'wrk -t1 -c%s -d%ss (+%ss warm-up) per gateway and case, %s alternating rounds, one key, 127.0.0.1\n' \
    "$CONNS" "$SECS" "$WARMUP" "$ROUNDS"
printf 'Medians over the rounds; the ratios are medians of each round'"'"'s ratio.\n\n'
printf '%-18s %-10s %10s %9s %6s %10s %6s %7s %7s\n' case gateway req/s "p99 ms" "CPU%" "req/CPU-s" errors "rps ×" "p99 ×"
declare -A RATIO P99_RATIO
for c in plain cached big; do
    for gw in nginx gatehouse floor nginx2; do
        [[ -n ${RPS[$c,$gw,1]:-} ]] || continue
        rps=$(over_rounds RPS "$c" "$gw" | median)
        p99=$(over_rounds P99 "$c" "$gw" | median)
        cpu=$(over_rounds CPU "$c" "$gw" | median)
        errors=$(over_rounds ERR "$c" "$gw" | awk '{ n += $1 } END { print n + 0 }')
        ratio=""; pratio=""
        if [[ $gw != nginx ]]; then
            RATIO[$c,$gw]=$(ratios RPS "$c" "$gw" | median)
            P99_RATIO[$c,$gw]=$(ratios P99 "$c" "$gw" | median)
            ratio=$(two_places "${RATIO[$c,$gw]}"); pratio=$(two_places "${P99_RATIO[$c,$gw]}")
        fi
        row=$(label "$c")
        [[ $gw != floor ]] || row="proxy, no policy"
        [[ $gw != nginx2 ]] || row="nginx again"
        printf '%-18s %-10s %10.0f %9.3f %6.0f %10s %6s %7s %7s\n' "$row" "$gw" "$rps" "$p99" "$cpu" \
            "$(per_cpu "$rps" "$cpu")" "$errors" "$ratio" "$pratio"
    done
done
# Each round's ratios, not only their median: a round's p99 hangs on a few stalls of some
# milliseconds (see bench/README.md), so its ratio moves far more from round to round than req/s.
by_round() { # array heading
    local c gw name
    printf '%s' "$2"
    for c in plain cached big; do
        for gw in gatehouse floor nginx2; do
            [[ -n ${RATIO[$c,$gw]:-} ]] || continue
            case $gw in floor) name=floor ;; nginx2) name="nginx again" ;; *) name=$(label "$c") ;; esac
            printf '  %s %s' "$name" "$(ratios "$1" "$c" "$gw" | awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), $1 }')"
        done
    done
    printf '\n'
}
printf '\n'
by_round RPS 'rps × by round:'
by_round P99 'p99 × by round:'
[[ -z ${RATIO[plain,floor]:-} ]] || printf '\nfloor: bare_proxy, the same HTTP/1.1 server and pooled upstream client with no route, key,\nlimit, cache, identity header or usage event between them (native/examples/bare_proxy.rs).\n'
[[ -z ${RATIO[plain,nginx2]:-} ]] || printf '\nnginx again: the same nginx on the same case, measured once more later in each round; its\nratios are how far two runs of one gateway differ here, with nothing changed between them.\n'
verdict() { awk "BEGIN { exit !($1) }" && echo MET || echo "NOT MET"; }
rp=${RATIO[plain,gatehouse]}; pp=${P99_RATIO[plain,gatehouse]}; rc=${RATIO[cached,gatehouse]}
printf '\ntargets:\n'
printf '  auth+limit+proxy: req/s ≥ 1.0× nginx and p99 no worse: %s (%s×, p99 %s×)\n' \
    "$(verdict "$rp >= 1.0 && $pp <= 1.0")" "$(two_places "$rp")" "$(two_places "$pp")"
printf '  cache hit:        req/s ≥ 1.2× nginx:                  %s (%s×)\n' "$(verdict "$rc >= 1.2")" "$(two_places "$rc")"
# ---------------------------------------------------------------- instructions per request
# BENCH_INSTRUCTIONS=1: each case again under callgrind, which counts the instructions a process
# runs; unlike req/s the count barely moves between runs, so it shows the effect of a change too
# small for this machine's drift. The gateway and the floor are restarted under valgrind (about
# 50 times slower), warmed up, then counted over a bounded wrk run at a fixed connection count.
# Counts are of the whole process (every thread) and use valgrind's own CPU model: SHA-256 runs
# in software there, without the SHA extensions the host has, so the key and cache-key hashes
# count for more than they cost natively.
if [[ ${BENCH_INSTRUCTIONS:-0} == 1 ]]; then
    command -v valgrind >/dev/null || {
        say "installing valgrind"
        SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq valgrind >/dev/null
    }
    counted() { # name url pid-of-valgrind nth-dump → instructions per request of url's requests
        local name=$1 url=$2 vg=$3 dump=$4 out n ir
        for _ in $(seq 100); do curl -s -o /dev/null -H "X-API-Key: $KEY" "$url" && break; sleep 0.2; done
        taskset -c "$LOAD_CPUS" wrk -t1 -c8 -d2s -H "X-API-Key: $KEY" "$url" >/dev/null
        callgrind_control -z "$vg" >/dev/null 2>&1
        out=$(taskset -c "$LOAD_CPUS" wrk -t1 -c8 -d6s -H "X-API-Key: $KEY" "$url")
        callgrind_control -d "$vg" >/dev/null 2>&1
        sleep 1
        n=$(awk '/requests in/ { print $1 }' <<<"$out")
        # Dumps of process $vg are numbered from 1 (taskset and valgrind exec in place, so $! is
        # its pid).
        ir=$(callgrind_annotate "$TMP/callgrind.$vg.$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
        [[ -n $n && -n $ir && $n -gt 0 ]] || die "callgrind count failed for $name"
        echo $((ir / n))
    }
    under_callgrind() { # what-to-run... → pid of valgrind; instrumentation on once listening
        RUST_LOG=warn TOKIO_WORKER_THREADS=1 GATEHOUSE_GATEWAY_THREADS=1 "${ON_GW[@]}" valgrind --tool=callgrind \
            --instr-atstart=no --callgrind-out-file="$TMP/callgrind.%p" "$@" >"$TMP/callgrind.log" 2>&1 &
        VG_PID=$!
        PIDS+=("$VG_PID")
    }
    kill -TERM "$GH_PID"
    for _ in $(seq 50); do kill -0 "$GH_PID" 2>/dev/null || break; sleep 0.1; done
    under_callgrind "$GATEHOUSE" dev --data-dir "$TMP/gh-data" --gateway-addr "127.0.0.1:$GH_PORT" \
        --admin-addr "127.0.0.1:$ADMIN_PORT" --demo-upstream-addr "127.0.0.1:$DEMO_PORT" --no-demo \
        --usage-flush-secs 10 --cache-mib 64
    wait_port "$GH_PORT" "gatehouse under callgrind" "$VG_PID" "$TMP/callgrind.log"
    callgrind_control -i on "$VG_PID" >/dev/null 2>&1
    IR_PLAIN=$(counted plain "$GH/bench/plain" "$VG_PID" 1)
    IR_CACHED=$(counted cached "$GH/bench/cached" "$VG_PID" 2)
    kill -TERM "$VG_PID"
    IR_FLOOR=-
    if [[ $FLOOR == 1 ]]; then
        kill -TERM "$FLOOR_PID"
        for _ in $(seq 50); do kill -0 "$FLOOR_PID" 2>/dev/null || break; sleep 0.1; done
        under_callgrind "$BARE_PROXY" "127.0.0.1:$FLOOR_PORT" "http://127.0.0.1:$UP_PORT"
        wait_port "$FLOOR_PORT" "bare proxy under callgrind" "$VG_PID" "$TMP/callgrind.log"
        callgrind_control -i on "$VG_PID" >/dev/null 2>&1
        IR_FLOOR=$(counted floor "$FLOOR_URL" "$VG_PID" 1)
        kill -TERM "$VG_PID"
    fi
    printf '\ninstructions per request (callgrind, whole process, wrk -c8 for 6 s):\n'
    printf '  auth+limit+proxy  gatehouse %s   floor %s\n' "$IR_PLAIN" "$IR_FLOOR"
    printf '  cache hit         gatehouse %s\n' "$IR_CACHED"
fi

total_err=0
for k in "${!ERR[@]}"; do total_err=$((total_err + ERR[$k])); done
((total_err == 0)) || printf 'warning: %s non-2xx/socket errors during load (see wrk output; BENCH_KEEP=1)\n' "$total_err"
exit 0

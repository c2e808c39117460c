#!/usr/bin/env bash
# TLS: Gatehouse (`gatehouse serve` terminating TLS) vs nginx (`ssl`, `http2`) with the same
# certificate, in front of the same upstream, doing the same work (TLS + proxy to a keep-alive
# upstream, no key, no cache): handshakes per second (a new connection and a full TLS 1.3
# handshake per request: wrk with `Connection: close`), proxied req/s over keep-alive TLS
# (wrk, HTTP/1.1) and over HTTP/2 (h2load, 10 streams per connection). See bench/README.md.
#
# Env: BENCH_SECS (5 per run), BENCH_ROUNDS (3 alternating rounds), BENCH_CONNS (32),
# BENCH_PROFILE_BUILD (release; `dist` for the shipped build), CARGO_TARGET_DIR.
# Pinned like run.sh: the gateway under test on CPU 1 (one worker), wrk/h2load and the upstream on CPU 0.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECS=${BENCH_SECS:-5}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNS:-32}
BUILD=${BENCH_PROFILE_BUILD:-release}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/gatehouse/target-release}

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

need=()
for tool in nginx:nginx wrk:wrk h2load:nghttp2-client openssl:openssl curl:curl jq:jq taskset:util-linux; do
    command -v "${tool%%:*}" >/dev/null || [[ ${tool%%:*} == nginx && -x /usr/sbin/nginx ]] || need+=("${tool#*:}")
done
if ((${#need[@]})); then
    say "installing ${need[*]}"
    SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

say "building gatehouse (profile $BUILD, CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
(cd "$ROOT" && cargo build --profile "$BUILD" -q -p gatehouse --bin gatehouse) || die "cargo build failed"
GATEHOUSE=$CARGO_TARGET_DIR/$BUILD/gatehouse

TMP=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-tls-bench.XXXXXX")
chmod 755 "$TMP"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    sleep 0.5
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ $(nproc) -ge 2 ]]; then ON_GW=(taskset -c 1); ON_LOAD=(taskset -c 0); else ON_GW=(); ON_LOAD=(); fi
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
UP_PORT=$(port); NGX_PORT=$(port); GH_PORT=$(port); ADMIN_PORT=$(port)
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; die "$2 did not listen on $1"; }

# One certificate for both: ECDSA P-256, what most sites serve today.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null

nginx_common() {
    cat <<CONF
user $(id -un);
pid $TMP/$1.pid;
error_log $TMP/$1-error.log warn;
events { worker_connections 4096; multi_accept on; }
CONF
}
nginx_http() {
    cat <<CONF
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $TMP/b; proxy_temp_path $TMP/p; fastcgi_temp_path $TMP/f; uwsgi_temp_path $TMP/u; scgi_temp_path $TMP/s;
CONF
}
start_nginx() { # name place...
    local name=$1; shift
    "$NGINX" -t -q -p "$TMP" -e "$TMP/$name-error.log" -c "$TMP/$name.conf" || die "$name config"
    "$@" "$NGINX" -p "$TMP" -e "$TMP/$name-error.log" -c "$TMP/$name.conf" -g 'daemon off;' >"$TMP/$name.out" 2>&1 &
    PIDS+=($!)
}

BODY='{"case":"tls","ok":true,"items":[1,2,3]}'
cat >"$TMP/upstream.conf" <<CONF
worker_processes 1;
$(nginx_common upstream)
http {
$(nginx_http)
    server { listen 127.0.0.1:$UP_PORT; default_type application/json; location / { return 200 '$BODY'; } }
}
CONF
start_nginx upstream "${ON_LOAD[@]}"
wait_port "$UP_PORT" upstream

cat >"$TMP/gateway.conf" <<CONF
worker_processes 1;
$(nginx_common gateway)
http {
$(nginx_http)
    upstream backend { server 127.0.0.1:$UP_PORT; keepalive 64; }
    server {
        listen 127.0.0.1:$NGX_PORT ssl http2 reuseport;
        ssl_certificate $TMP/cert.pem;
        ssl_certificate_key $TMP/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        location = /tls/plain { proxy_pass http://backend/plain; }
        location / { return 404; }
    }
}
CONF
start_nginx gateway "${ON_GW[@]}"
NGX_PID=${PIDS[-1]}
wait_port "$NGX_PORT" "nginx gateway"

cat >"$TMP/gatehouse.toml" <<CONF
[gateway]
addr = "127.0.0.1:$GH_PORT"
threads = 1
tls_cert = "$TMP/cert.pem"
tls_key = "$TMP/key.pem"
[admin]
addr = "127.0.0.1:$ADMIN_PORT"
[store]
dir = "$TMP/gh-store"
[log]
level = "warn"
access = false
CONF
TOKEN=$("$GATEHOUSE" admin bootstrap --config "$TMP/gatehouse.toml") || die "bootstrap failed"
GATEHOUSE_IDENTITY_SECRET=$(openssl rand -hex 32) TOKIO_WORKER_THREADS=1 "${ON_GW[@]}" "$GATEHOUSE" serve \
    --config "$TMP/gatehouse.toml" >"$TMP/gatehouse.log" 2>&1 &
GH_PID=$!
PIDS+=("$GH_PID")
wait_port "$ADMIN_PORT" "gatehouse admin"
wait_port "$GH_PORT" "gatehouse gateway"
admin() { curl -fsS -X "$1" -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' --data "$3" "http://127.0.0.1:$ADMIN_PORT$2"; }
DOC=$'openapi: 3.0.3\ninfo: { title: TLS bench, version: "1" }\nsecurity: []\npaths:\n  /:\n    get: { operationId: get, responses: { "200": { description: ok } } }\n'
API=$(admin POST /v1/apis "$(jq -n --arg doc "$DOC" --arg up "http://127.0.0.1:$UP_PORT/plain" \
    '{openapi: $doc, base_path: "/tls/plain", upstream: {url: $up}}')" | jq -er .id) || die "cannot create the API"
admin POST "/v1/apis/$API/lifecycle" '{"action":"publish"}' >/dev/null

for gw in "$GH_PORT" "$NGX_PORT"; do
    got=$(curl -fsS -k --http2 "https://127.0.0.1:$gw/tls/plain") || die "https://127.0.0.1:$gw/tls/plain failed"
    [[ $got == "$BODY" ]] || die "unexpected body from $gw: $got"
done
say "both gateways answer over TLS and HTTP/2"

declare -A RESULT
TICKS=$(getconf CLK_TCK)
cpu_ticks() { # pid → utime+stime of it and its children (nginx's worker)
    local total=0 p f
    for p in "$1" $(ps -o pid= --ppid "$1" 2>/dev/null); do
        f=$(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null) || continue
        total=$((total + ${f% *} + ${f#* }))
    done
    echo "$total"
}
wrk_rps() { awk '/^Requests\/sec:/ { printf "%.0f", $2 }'; }
errors() { awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }'; }
measure() { # case gateway port round pid
    local url="https://127.0.0.1:$3/tls/plain" out rps err before after
    before=$(cpu_ticks "$5")
    case $1 in
        handshake) out=$("${ON_LOAD[@]}" wrk -t1 -c"$CONNS" -d"${SECS}s" -H 'Connection: close' "$url") ;;
        keepalive) out=$("${ON_LOAD[@]}" wrk -t1 -c"$CONNS" -d"${SECS}s" "$url") ;;
        h2) out=$("${ON_LOAD[@]}" h2load -c"$CONNS" -m10 -D "$SECS" --warm-up-time=1 "$url" 2>&1) ;;
    esac
    if [[ $1 == h2 ]]; then
        rps=$(awk '/^finished in/ { gsub(",", ""); printf "%.0f", $4 }' <<<"$out")
        # "requests: T total, S started, D done, OK succeeded, F failed, E errored, X timeout"
        # and "status codes: a 2xx, b 3xx, c 4xx, d 5xx".
        err=$(awk '/^requests:/ { n += $10 + $12 + $14 } /^status codes:/ { n += $7 + $9 } END { print n + 0 }' <<<"$out")
        local ok2xx; ok2xx=$(awk '/^status codes:/ { gsub(",", ""); print $3 }' <<<"$out")
        [[ ${ok2xx:-0} -gt 0 ]] || err=$((err + 1))
    else
        rps=$(wrk_rps <<<"$out"); err=$(errors <<<"$out")
    fi
    after=$(cpu_ticks "$5")
    [[ -n $rps ]] || die "no figure for $1/$2: $out"
    # Requests per second of the gateway's own CPU: the fair figure when the load generator
    # (which makes its side of every handshake on the other core) is the limit.
    local cpu; cpu=$(awk -v d=$((after - before)) -v t="$TICKS" -v s="$SECS" 'BEGIN { printf "%.0f", 100 * d / t / s }')
    RESULT[$1,$2,$4]=$rps; RESULT[$1,$2,$4,err]=$err
    RESULT[$1,$2,$4,cpu]=$(awk -v r="$rps" -v c="$cpu" 'BEGIN { if (c > 0) printf "%.0f", r / (c / 100); else print 0 }')
    say "round $4, $1/$2: $rps req/s, gateway CPU $cpu%, errors $err"
}
for r in $(seq "$ROUNDS"); do
    for c in handshake keepalive h2; do
        measure "$c" nginx "$NGX_PORT" "$r" "$NGX_PID"
        measure "$c" gatehouse "$GH_PORT" "$r" "$GH_PID"
    done
done

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf '\nTLS: Gatehouse vs nginx %s, same ECDSA P-256 certificate, %s cores, gateway pinned to CPU 1 (one worker each)\n' \
    "$("$NGINX" -v 2>&1 | sed 's/.*: //')" "$(nproc)"
printf '%s rounds of %ss per case and gateway, %s connections; medians, ratio = median of each round'"'"'s ratio\n\n' "$ROUNDS" "$SECS" "$CONNS"
printf '%-36s %9s %9s %6s %11s %11s %6s %6s\n' case nginx gatehouse ratio "nginx/CPUs" "gh/CPUs" ratio errors
for c in handshake keepalive h2; do
    case $c in
        handshake) name="handshakes/s (new conn per request)" ;;
        keepalive) name="proxied req/s, keep-alive HTTP/1.1" ;;
        h2) name="proxied req/s, HTTP/2 (10 streams)" ;;
    esac
    n=$(for r in $(seq "$ROUNDS"); do echo "${RESULT[$c,nginx,$r]}"; done | median)
    g=$(for r in $(seq "$ROUNDS"); do echo "${RESULT[$c,gatehouse,$r]}"; done | median)
    ratio=$(for r in $(seq "$ROUNDS"); do awk -v a="${RESULT[$c,gatehouse,$r]}" -v b="${RESULT[$c,nginx,$r]}" 'BEGIN { printf "%.4f\n", a / b }'; done | median)
    nc=$(for r in $(seq "$ROUNDS"); do echo "${RESULT[$c,nginx,$r,cpu]}"; done | median)
    gc=$(for r in $(seq "$ROUNDS"); do echo "${RESULT[$c,gatehouse,$r,cpu]}"; done | median)
    cratio=$(for r in $(seq "$ROUNDS"); do awk -v a="${RESULT[$c,gatehouse,$r,cpu]}" -v b="${RESULT[$c,nginx,$r,cpu]}" 'BEGIN { printf "%.4f\n", (b > 0 ? a / b : 0) }'; done | median)
    err=$(for r in $(seq "$ROUNDS"); do echo "${RESULT[$c,nginx,$r,err]}"; echo "${RESULT[$c,gatehouse,$r,err]}"; done | awk '{ n += $1 } END { print n }')
    printf '%-36s %9.0f %9.0f %6.2f %11.0f %11.0f %6.2f %6s\n' "$name" "$n" "$g" "$ratio" "$nc" "$gc" "$cratio" "$err"
done

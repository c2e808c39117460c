#!/usr/bin/env bash
# The developer portal in a real browser: Debian's chromium driven by playwright-core, with
# axe-core, against `gatehouse dev` (the built binary, fresh data dirs, free ports on
# 127.0.0.1) that mails through a real SMTP server (aiosmtpd) on 127.0.0.1.
#
# Installs what is missing: chromium (apt), the npm packages pinned in
# portal-tests/package-lock.json (npm ci), aiosmtpd in a venv under ~/.cache/gatehouse.
# Screenshots of every page visited go to target/portal-screenshots/ (kept as a CI artifact).
# Everything started here is stopped on exit, whatever happens. PORTAL_TESTS (default: all
# six files, in order: admin.mjs deprecates the demo API) picks which of portal-tests/ run.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gatehouse/target}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
apt_install() {
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" </dev/null
}
command -v chromium >/dev/null || apt_install chromium
command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
chromium="$(command -v chromium)"

# The pinned npm packages; reinstalled only when the lock file changed.
if ! cmp -s portal-tests/package-lock.json portal-tests/node_modules/.gatehouse-lock 2>/dev/null; then
    (cd portal-tests && npm ci --no-audit --no-fund --loglevel=error)
    cp portal-tests/package-lock.json portal-tests/node_modules/.gatehouse-lock
fi

smtp_python="$(scripts/aiosmtpd-venv.sh)" # the SMTP server the tests receive the portal's mail on

cargo build --quiet --locked -p gatehouse

work="$(mktemp -d)"
pids=()
stop_all() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap stop_all EXIT

# Waits up to 20 s for file $1 to hold a line matching sed expression $2 (printing the
# match) while process $3 lives.
wait_for() {
    local found=""
    for _ in $(seq 200); do
        found="$(sed -n "$2" "$1" 2>/dev/null | head -n 1)"
        [ -n "$found" ] && { echo "$found"; return 0; }
        kill -0 "$3" 2>/dev/null || break
        sleep 0.1
    done
    echo "not ready: $1" >&2
    cat "$1" >&2 2>/dev/null || true
    return 1
}

mkdir -p "$work/mailbox"
"$smtp_python" portal-tests/smtp_server.py "$work/mailbox" "$work/smtp.port" </dev/null >/dev/null 2>"$work/smtp.log" &
pids+=($!)
smtp_port="$(wait_for "$work/smtp.port" 's/^\([0-9][0-9]*\)$/\1/p' "${pids[-1]}")"

# Starts gatehouse dev with data dir $work/$1 (extra environment in the other arguments) and
# sets $url to its portal's address once the demo is seeded. Not in a subshell: the process
# must be this shell's child, so the trap stops it.
start_dev() {
    local name="$1"
    shift
    env "$@" "$CARGO_TARGET_DIR/debug/gatehouse" dev --data-dir "$work/$name" --gateway-addr 127.0.0.1:0 \
        --admin-addr "${admin_addr:-127.0.0.1:0}" --demo-upstream-addr 127.0.0.1:0 \
        --smtp-url "smtp://127.0.0.1:$smtp_port" </dev/null >/dev/null 2>"$work/$name.log" &
    pids+=($!)
    # The admin API line is printed last, after the demo is seeded.
    wait_for "$work/$name.log" 's|^admin API \(http://[^ ]*\)/v1 .*|\1|p' "$!" >/dev/null
    url="$(wait_for "$work/$name.log" 's|^portal *\(http://[^ ]*\)/$|\1|p' "$!")"
}
start_dev dev
portal="$url"
short_ttl=10 # long enough for the control sign-in on a busy machine, short enough to wait out
start_dev short-links GATEHOUSE_SIGNIN_LINK_TTL_SECS=$short_ttl
short_portal="$url"

# Staff sign-in (staff.mjs): a real OpenID provider, oidc-provider under node, and a gatehouse
# dev that trusts it and limits developer sign-up to corp.test. The provider must know the
# redirect URL before it starts, so the portal's port is chosen first.
staff_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
oidc_secret="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
node portal-tests/oidc_provider.mjs --client-id gatehouse-portal --client-secret "$oidc_secret" \
    --redirect-uri "http://127.0.0.1:$staff_port/admin/signin/oidc/callback" </dev/null >"$work/oidc.log" 2>&1 &
pids+=($!)
oidc_issuer="$(wait_for "$work/oidc.log" 's|^issuer \(http://[^ ]*\)$|\1|p' "${pids[-1]}")"
admin_addr="127.0.0.1:$staff_port" start_dev staff GATEHOUSE_SIGNUP_DOMAINS=corp.test \
    GATEHOUSE_OIDC_ISSUER="$oidc_issuer" GATEHOUSE_OIDC_CLIENT_ID=gatehouse-portal \
    GATEHOUSE_OIDC_CLIENT_SECRET="$oidc_secret" "GATEHOUSE_OIDC_PROVIDER_NAME=Corp SSO" \
    "GATEHOUSE_OIDC_SCOPES=openid email groups" \
    "GATEHOUSE_OIDC_ROLES=gatehouse-owners=owner, gatehouse-approvers=approver, staff=viewer"
staff_portal="$url"

screenshots="$root/target/portal-screenshots"
rm -rf "$screenshots"
mkdir -p "$screenshots"
status=0
# One file at a time, in this order (node's runner would sort them, and admin.mjs deprecates
# the demo API the others use).
for file in ${PORTAL_TESTS:-journey.mjs isolation.mjs analytics.mjs staff.mjs onboarding.mjs admin.mjs}; do
    (cd portal-tests && PORTAL_URL="$portal" SHORT_LINK_PORTAL_URL="$short_portal" SHORT_LINK_TTL_SECS="$short_ttl" \
        STAFF_PORTAL_URL="$staff_portal" OIDC_ISSUER="$oidc_issuer" \
        MAILBOX_DIR="$work/mailbox" SCREENSHOT_DIR="$screenshots" CHROMIUM="$chromium" \
        ADMIN_TOKEN_FILE="$work/dev/admin-token" timeout 300 node --test --test-reporter=spec "$file") || status=1
done
echo "screenshots of every page visited: $screenshots ($(find "$screenshots" -name '*.png' | wc -l) files)"
for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "a server died during the tests (pid $pid)"; status=1; }
done
if [ "$status" != 0 ]; then
    for log in "$work"/*.log; do echo "== $log"; tail -n 40 "$log"; done
fi
exit "$status"

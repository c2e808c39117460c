#!/usr/bin/env bash
# The AWS control plane's tests: DynamoRepo (the store contract and its own tests), the
# Lambda handler fed API Gateway v2 events, the Workers KV publisher against wiremock — all
# against a moto server started here on 127.0.0.1 — and cfn-lint on infra/template.yaml.
# Installs moto and cfn-lint into a venv under ~/.cache/gatehouse when missing. A test that
# needs moto fails (never skips) when moto is not there.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gatehouse/target-aws}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
VENV="$HOME/.cache/gatehouse/venv"
MOTO_VERSION=5.2.5
CFN_LINT_VERSION=1.58.0
started=$SECONDS
step() { printf '\n== %s (%ss)\n' "$1" "$((SECONDS - started))"; }

step "python tools (moto[server]==$MOTO_VERSION, cfn-lint==$CFN_LINT_VERSION)"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
have() { "$VENV/bin/python" -m pip show "$1" 2>/dev/null | grep -qx "Version: $2"; }
if ! have moto "$MOTO_VERSION" || ! have cfn-lint "$CFN_LINT_VERSION"; then
  "$VENV/bin/python" -m pip install -q "moto[server]==$MOTO_VERSION" "cfn-lint==$CFN_LINT_VERSION"
fi

step "cfn-lint infra/template.yaml"
"$VENV/bin/cfn-lint" infra/template.yaml

step "moto server"
port=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log="$(mktemp)"
# One request at a time: see scripts/moto-serial.py for why.
"$VENV/bin/python" scripts/moto-serial.py -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  kill -0 "$moto_pid" 2>/dev/null || { cat "$log"; echo "moto_server exited" >&2; exit 1; }
  sleep 0.1
done
export GATEHOUSE_TEST_DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
echo "moto on $GATEHOUSE_TEST_DYNAMODB_ENDPOINT (pid $moto_pid)"

step "cargo test -p gatehouse-aws"
cargo test -p gatehouse-aws --locked

step "aws tests passed in $((SECONDS - started)) s"

#!/usr/bin/env bash
# Schemathesis against a running `gatehouse dev` (the built binary, a fresh data dir, ports on
# 127.0.0.1): requests generated from the admin API's own served OpenAPI document, in every
# phase (examples, coverage, fuzzing, stateful) and both modes (valid and invalid input), with
# a bounded number of examples per operation. Fails on any 5xx and on any response whose
# status, content type or body the served document does not describe.
#
# SCHEMATHESIS_EXAMPLES (default 50) bounds the examples per operation and phase;
# SCHEMATHESIS_SEED (default 1) makes a run repeatable (set it empty for a random one).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gatehouse/target}"

version=4.32.5 # pinned: a new release may add checks, which should be a deliberate change
# The newest Python at hand: CPython 3.11.7's ast.parse fails under Hypothesis's deep
# recursion ("AST constructor recursion depth mismatch"), which aborts whole operations.
python=python3
for candidate in python3.13 python3.12 "$HOME/.pyenv/versions/3.13.0/bin/python3"; do
    if "$candidate" -c '' 2>/dev/null; then python="$candidate" && break; fi
done
venv="$HOME/.cache/gatehouse/schemathesis-$version-$("$python" -c 'import sys; print("py%d.%d" % sys.version_info[:2])')"
if [ ! -x "$venv/bin/st" ]; then
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet "schemathesis==$version"
fi

cargo build --quiet --locked -p gatehouse
work="$(mktemp -d)"
"$CARGO_TARGET_DIR/debug/gatehouse" dev --data-dir "$work/data" --gateway-addr 127.0.0.1:0 \
    --admin-addr 127.0.0.1:0 --demo-upstream-addr 127.0.0.1:0 2>"$work/dev.log" &
dev=$!
trap 'kill "$dev" 2>/dev/null; wait "$dev" 2>/dev/null; rm -rf "$work"' EXIT

admin=""
for _ in $(seq 200); do
    admin="$(sed -n 's|^admin API \(http://[^ ]*\)/v1 .*|\1|p' "$work/dev.log")"
    [ -n "$admin" ] && break
    kill -0 "$dev" 2>/dev/null || { cat "$work/dev.log"; exit 1; }
    sleep 0.1
done
[ -n "$admin" ] || { echo "gatehouse dev did not print its admin address"; cat "$work/dev.log"; exit 1; }

seed=()
[ -n "${SCHEMATHESIS_SEED-1}" ] && seed=(--seed "${SCHEMATHESIS_SEED-1}")
status=0
# Run from the temporary dir: schemathesis keeps a cache (.schemathesis/) where it runs.
(cd "$work" && "$venv/bin/st" run "$admin/v1/openapi.json" \
    --header "Authorization: Bearer $(cat "$work/data/admin-token")" \
    --phases examples,coverage,fuzzing,stateful --mode all \
    --max-examples "${SCHEMATHESIS_EXAMPLES:-50}" "${seed[@]}" --workers 2 \
    --checks "${SCHEMATHESIS_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance}" \
    --request-timeout 10 --output-truncate false \
    --report har --report-har-path "$work/requests.har") || status=$?

requests="$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["log"]["entries"]))' "$work/requests.har" 2>/dev/null || echo "?")"
echo "schemathesis made $requests requests to the admin API"
if kill -0 "$dev" 2>/dev/null; then :; else
    echo "gatehouse dev died during the run"; cat "$work/dev.log"; exit 1
fi
exit "$status"

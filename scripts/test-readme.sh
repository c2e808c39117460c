#!/usr/bin/env bash
# Runs the README's walkthrough (the ```sh block under "## Walkthrough") as a bash script
# with `set -euo pipefail` against a fresh `gatehouse dev`, so a README that no longer matches
# the code fails CI at its first wrong command. With a file argument (a guide such as
# docs/designing-an-api.md), every ```sh block of that file runs instead, in order, as one
# script (```text blocks are shown, not run). `gatehouse dev` runs on its default ports
# (the walkthrough names them) in a new temporary directory, so `.gatehouse/` starts empty;
# `gatehouse` in the block is the binary built here (the debug build the test step already
# compiled), not the README's `cargo run --release` alias. Installs curl and jq when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gatehouse/target}"
die() { echo "test-readme: $*" >&2; exit 1; }

missing=()
for tool in curl jq; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
  echo "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

for port in 8080 8081 8082; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port is in use; the walkthrough needs gatehouse dev's default ports 8080-8082 free"
  fi
done

cargo build -q --locked -p gatehouse
bin="$CARGO_TARGET_DIR/debug/gatehouse"

work=$(mktemp -d)
block="$work/walkthrough.sh"
doc="${1:-README.md}"
if [[ $doc == README.md ]]; then
  awk '/^## Walkthrough/ {in_section = 1; next}
       in_section && /^## / {exit}
       in_section && !in_block && /^```sh$/ {in_block = 1; next}
       in_block && /^```$/ {exit}
       in_block {print}' README.md >"$work/block.sh"
else
  awk '!in_block && /^```sh$/ {in_block = 1; next}
       in_block && /^```$/ {in_block = 0; print ""; next}
       in_block {print}' "$doc" >"$work/block.sh"
fi
[[ -s $work/block.sh ]] || die "no \`\`\`sh block to run in $doc"
grep -q '^alias gatehouse=' "$work/block.sh" || die "the walkthrough no longer defines the gatehouse alias; update this script"
{
  echo 'set -euo pipefail'
  echo 'trap '\''echo "walkthrough failed (line $LINENO): $BASH_COMMAND" >&2'\'' ERR'
  echo 'gatehouse() { "$GATEHOUSE_BIN" "$@"; }'
  sed 's/^alias gatehouse=.*$/: # (alias replaced by the built binary)/' "$work/block.sh"
} >"$block"

# The walkthrough runs from the directory where gatehouse dev runs, next to examples/.
ln -s "$root/examples" "$work/examples"
(cd "$work" && exec "$bin" dev) >"$work/dev.log" 2>&1 &
dev_pid=$!
stop_dev() {
  if kill -0 "$dev_pid" 2>/dev/null; then
    kill -TERM "$dev_pid"
    wait "$dev_pid" || { echo "gatehouse dev exited with $? on SIGTERM" >&2; return 1; }
  fi
}
trap 'kill -TERM "$dev_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

for _ in $(seq 100); do
  curl -fs -o /dev/null http://127.0.0.1:8081/v1/health && break
  kill -0 "$dev_pid" 2>/dev/null || { cat "$work/dev.log" >&2; die "gatehouse dev exited before it was ready"; }
  sleep 0.1
done
curl -fs -o /dev/null http://127.0.0.1:8081/v1/health || { cat "$work/dev.log" >&2; die "gatehouse dev not ready after 10 s"; }

if ! (cd "$work" && GATEHOUSE_BIN="$bin" bash "$block"); then
  echo "--- gatehouse dev log" >&2
  cat "$work/dev.log" >&2
  die "the walkthrough of $doc failed"
fi
stop_dev
echo "walkthrough of $doc: every command passed"

#!/usr/bin/env bash
# Copies the portal's pinned npm files into admin-fn/assets/vendor/ and records their SHA-256
# in its MANIFEST; with --check, fetches them again and fails if any file here differs.
# The files are embedded in the binary (admin-fn/src/portal/assets.rs): no CDN at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
vendor=admin-fn/assets/vendor
manifest=$vendor/MANIFEST
check=false
[[ "${1:-}" == "--check" ]] && check=true
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
out="$work/MANIFEST"
failed=0
while IFS= read -r line; do
  if [[ -z "$line" || "$line" == \#* ]]; then echo "$line" >> "$out"; continue; fi
  read -r package path file _ <<< "$line"
  dir="$work/$(echo "$package" | tr '/@' '__')"
  if [[ ! -d "$dir" ]]; then
    mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "$package" > /dev/null && tar xzf ./*.tgz)
  fi
  fetched="$dir/package/$path"
  sum="$(sha256sum "$fetched" | cut -d' ' -f1)"
  if $check; then
    if ! cmp -s "$fetched" "$vendor/$file"; then
      echo "vendor check: $vendor/$file differs from $package $path" >&2
      failed=1
    fi
  else
    cp "$fetched" "$vendor/$file"
  fi
  echo "$package $path $file $sum" >> "$out"
done < "$manifest"
if $check; then
  if ! diff -u "$manifest" "$out"; then echo "vendor check: MANIFEST is out of date" >&2; failed=1; fi
  [[ $failed == 0 ]] && echo "vendored assets match npm"
  exit $failed
fi
cp "$out" "$manifest"
echo "vendored into $vendor:"
ls -la "$vendor"

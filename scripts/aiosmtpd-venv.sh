#!/usr/bin/env bash
# Makes sure aiosmtpd (the real SMTP server the tests receive mail on: the portal's browser
# tests and the native alert tests) is installed in a venv under ~/.cache/gatehouse, and
# prints that venv's python. Installs only when missing.
set -euo pipefail
aiosmtpd_version=1.4.6 # pinned
python=python3
for candidate in python3.13 python3.12 "$HOME/.pyenv/versions/3.13.0/bin/python3"; do
    if "$candidate" -c '' 2>/dev/null; then python="$candidate" && break; fi
done
venv="$HOME/.cache/gatehouse/aiosmtpd-$aiosmtpd_version-$("$python" -c 'import sys; print("py%d.%d" % sys.version_info[:2])')"
if ! "$venv/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
    "$python" -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet "aiosmtpd==$aiosmtpd_version" >&2
fi
echo "$venv/bin/python"

#!/usr/bin/env bash
# Installs doccano 1.8.4 into its own virtualenv, .venv-doccano at the repository root (its pins
# clash with the pipeline's). Safe to run again: it does nothing when the virtualenv was built from
# the same requirements.txt (a sha256 of it is kept inside the virtualenv).
set -euo pipefail
cd "$(dirname "$0")/../.."

venv="${ESWI_DOCCANO_VENV:-$PWD/.venv-doccano}"
requirements="scripts/doccano/requirements.txt"
stamp="$venv/.requirements.sha256"
wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"

if [ -x "$venv/bin/doccano" ] && [ -x "$venv/bin/gunicorn" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
  echo "doccano install.sh: $venv is up to date" >&2
  exit 0
fi

command -v uv >/dev/null || { echo "doccano install.sh: uv is required (scripts/bootstrap.sh installs it)" >&2; exit 1; }
echo "doccano install.sh: building $venv from $requirements" >&2
rm -f "$stamp"
uv venv --quiet --allow-existing --python 3.11 "$venv"
# `pip sync` installs exactly the locked set (hashes checked) and removes anything else.
uv pip sync --quiet --python "$venv/bin/python" "$requirements"
echo "$wanted" >"$stamp"

#!/usr/bin/env bash
# Starts doccano 1.8.4 on 127.0.0.1 only: usage `start.sh DATA_DIR [PORT]` (port 8000 by default).
#
# doccano's own `webserver` command always binds 0.0.0.0, so this script does what that command
# does (gunicorn running doccano's `config.wsgi` from its backend directory) with the address it
# chooses. Each start runs `doccano init` (migrations and roles; a no-op when done) and
# `doccano createuser` (creates the admin, or resets its password), then waits until the REST API
# answers. Safe to run again: a server already running from DATA_DIR is left alone.
#
# Environment: ESWI_DOCCANO_PASSWORD (required, the admin's password), ESWI_DOCCANO_USERNAME
# (default admin), ESWI_DOCCANO_WORKERS / ESWI_DOCCANO_THREADS (gunicorn, default 2 x 4),
# ESWI_DOCCANO_VENV (default .venv-doccano, built by install.sh). DATA_DIR keeps the SQLite
# database, uploaded media, the Django secret key, gunicorn.pid and doccano.log.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

[ $# -ge 1 ] || { echo "usage: $0 DATA_DIR [PORT]" >&2; exit 2; }
: "${ESWI_DOCCANO_PASSWORD:?set ESWI_DOCCANO_PASSWORD to the doccano admin password}"
mkdir -p "$1"
data="$(cd "$1" && pwd)"
port="${2:-8000}"
venv="${ESWI_DOCCANO_VENV:-$root/.venv-doccano}"
pidfile="$data/gunicorn.pid"
log="$data/doccano.log"
url="http://127.0.0.1:$port"

[ -x "$venv/bin/gunicorn" ] || { echo "doccano start.sh: $venv is missing; run scripts/doccano/install.sh" >&2; exit 1; }
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "doccano start.sh: already running from $data (pid $(cat "$pidfile"))" >&2
  echo "$url"
  exit 0
fi

umask 077
[ -s "$data/secret_key" ] || "$venv/bin/python" -c 'import secrets; print(secrets.token_urlsafe(50))' >"$data/secret_key"
export DOCCANO_HOME="$data"
export DATABASE_URL="sqlite:///$data/db.sqlite3"
export MEDIA_ROOT="$data/media"
export SECRET_KEY="$(cat "$data/secret_key")"
export DJANGO_SETTINGS_MODULE=eswi_doccano_settings
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
export STANDALONE=True DEBUG=False
export DOCCANO_ADMIN_USERNAME="${ESWI_DOCCANO_USERNAME:-admin}"

echo "doccano start.sh: initialising $data" >&2
"$venv/bin/doccano" init >>"$log" 2>&1
# `doccano createuser`, with the password read from the environment rather than the command line
# (a command line is visible to every user of the machine).
"$venv/bin/python" - >>"$log" 2>&1 <<'PY'
import os
import sys

from backend.cli import main

# `--option=value`: a value that starts with "-" (as 1 in 64 random passwords do) would
# otherwise be read as another option.
sys.argv = ["doccano", "createuser", f"--username={os.environ['DOCCANO_ADMIN_USERNAME']}",
            f"--password={os.environ['ESWI_DOCCANO_PASSWORD']}"]
main()
PY

backend="$("$venv/bin/python" -c 'import backend, os; print(os.path.dirname(backend.__file__))')"
rm -f "$pidfile"
# gunicorn 20.1 warns on importing pkg_resources; the pin is deliberate (requirements.in).
PYTHONWARNINGS="ignore:pkg_resources is deprecated:UserWarning" "$venv/bin/gunicorn" config.wsgi:application \
  --chdir "$backend" --pythonpath "$here" \
  --bind "127.0.0.1:$port" \
  --workers "${ESWI_DOCCANO_WORKERS:-2}" --threads "${ESWI_DOCCANO_THREADS:-4}" \
  --timeout 120 --graceful-timeout 10 \
  --pid "$pidfile" --daemon --capture-output --error-logfile "$log"

# Ready when the API answers (401/403 without a token), failed when gunicorn has exited.
"$venv/bin/python" - "$url/v1/roles" "$pidfile" <<'PY' || { tail -n 40 "$log" >&2; exit 1; }
import os
import sys
import time
import urllib.error
import urllib.request

url, pidfile = sys.argv[1], sys.argv[2]
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    try:
        urllib.request.urlopen(url, timeout=5)
        sys.exit(0)
    except urllib.error.HTTPError:
        sys.exit(0)
    except OSError:
        pass
    try:
        os.kill(int(open(pidfile).read()), 0)
    except FileNotFoundError:
        pass
    except (ProcessLookupError, ValueError):
        sys.exit(f"doccano start.sh: gunicorn exited; see {pidfile.rsplit('/', 1)[0]}/doccano.log")
    time.sleep(0.3)
sys.exit(f"doccano start.sh: no answer from {url} after 120 s")
PY
echo "doccano start.sh: serving $url (pid $(cat "$pidfile"))" >&2
echo "$url"

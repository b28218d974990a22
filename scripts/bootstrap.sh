#!/usr/bin/env bash
# Installs what the pipeline needs on a fresh Debian machine; safe to run again (it skips what is
# there). `--test` adds what only the test suite needs: Java + Maven for the Elasticsearch node,
# doccano's own virtualenv and the Elasticsearch distribution.
#
# Every tool lands in one fixed place, .tools/ at the repository root (scripts/tools.sh names it),
# so later Makefile recipes and scripts find it whatever the caller's PATH holds. Each install
# prints one line; its transcript goes to .tools/logs/<what>.log. A failed install prints one line
# naming what and why and exits non-zero; `bootstrap: ready` is printed only when all succeeded.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh

UV_VERSION="${ESWI_UV_VERSION:-0.13.9}"
want_test=false
[ "${1:-}" = "--test" ] && want_test=true
logs="$ESWI_TOOLS_DIR/logs"
mkdir -p "$logs"

# step NAME COMMAND...: runs COMMAND with its output in $logs/NAME.log; on failure prints one line
# with the log's last line as the reason and exits non-zero.
step() {
  local name="$1"
  shift
  local log="$logs/$name.log"
  if ! "$@" >"$log" 2>&1; then
    local why
    why="$(grep -v '^[[:space:]]*$' "$log" | tail -n 1 | cut -c1-240)"
    echo "bootstrap: FAILED to install $name: ${why:-no output} (log: $log)" >&2
    exit 1
  fi
}

sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || sudo="missing"
  [ "$sudo" = missing ] || sudo=sudo
fi

apt_install() {
  if [ "$sudo" = missing ]; then
    echo "not root and no sudo: install the Debian packages $* by hand" >&2
    return 1
  fi
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
    --no-install-recommends "$@"
}

packages=()
[ -x /usr/bin/chromium ] || packages+=(chromium)
[ -x /usr/bin/chromedriver ] || packages+=(chromium-driver)
python3 -c "import ensurepip, venv" 2>/dev/null || packages+=(python3-venv)
if $want_test; then
  command -v java >/dev/null || packages+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || packages+=(maven)
fi
if ((${#packages[@]})); then
  echo "bootstrap: Debian packages ${packages[*]}"
  step debian-packages apt_install "${packages[@]}"
fi

# uv in a virtualenv of its own (Debian's python3 refuses `pip install --user`: PEP 668), linked
# as $ESWI_TOOLS_DIR/bin/uv. The link appears only after a complete install.
install_uv() {
  # `&&` throughout: bash ignores `set -e` inside a function called from `if !` (see step).
  rm -rf "$ESWI_TOOLS_DIR/uv-venv" "$ESWI_TOOLS_DIR/bin/uv" &&
    python3 -m venv "$ESWI_TOOLS_DIR/uv-venv" &&
    "$ESWI_TOOLS_DIR/uv-venv/bin/python" -m pip install --disable-pip-version-check \
      --no-input "uv==${UV_VERSION}" &&
    "$ESWI_TOOLS_DIR/uv-venv/bin/uv" --version &&
    mkdir -p "$ESWI_TOOLS_DIR/bin" &&
    ln -sfn ../uv-venv/bin/uv "$ESWI_TOOLS_DIR/bin/uv"
}
installed_uv="$("$ESWI_TOOLS_DIR/bin/uv" --version 2>/dev/null || true)"
if [ "${installed_uv%% (*}" != "uv ${UV_VERSION}" ]; then
  echo "bootstrap: uv ${UV_VERSION} -> $ESWI_TOOLS_DIR/bin/uv"
  step uv install_uv
fi

# uv keeps every wheel (torch's included) in its cache, so a second sync downloads nothing.
echo "bootstrap: Python environment .venv from uv.lock"
step python-environment uv sync --frozen --no-progress

if $want_test; then
  echo "bootstrap: doccano 1.8.4 -> .venv-doccano"
  step doccano bash scripts/doccano/install.sh
  echo "bootstrap: Elasticsearch test node -> .vendor/"
  step elasticsearch bash scripts/elasticsearch/install.sh
fi
echo "bootstrap: ready"

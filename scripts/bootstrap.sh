#!/usr/bin/env bash
# Installs what the pipeline needs on a fresh Debian machine; safe to run again (it skips what is
# there). `--test` adds what only the test suite needs: Java + Maven for the Elasticsearch node,
# doccano's own virtualenv and the Elasticsearch distribution.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
want_test=false
[ "${1:-}" = "--test" ] && want_test=true

packages=()
[ -x /usr/bin/chromium ] || packages+=(chromium)
[ -x /usr/bin/chromedriver ] || packages+=(chromium-driver)
if $want_test; then
  command -v java >/dev/null || packages+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || packages+=(maven)
fi
if ((${#packages[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  echo "bootstrap: installing Debian packages: ${packages[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}"
fi

if ! command -v uv >/dev/null; then
  echo "bootstrap: installing uv ${UV_VERSION}"
  python3 -m pip install --quiet --user "uv==${UV_VERSION}"
  export PATH="$HOME/.local/bin:$PATH"
fi

# uv keeps every wheel (torch's included) in its cache, so a second sync downloads nothing.
uv sync --frozen

if $want_test; then
  for installer in scripts/doccano/install.sh scripts/elasticsearch/install.sh; do
    if [ -f "$installer" ]; then bash "$installer"; fi
  done
fi
